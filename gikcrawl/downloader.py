"""Scrapy's downloader with per-host politeness written once, for one process and for distributed workers
(DOWNLOADER = this class).

1. Per-slot concurrency is never exceeded. Scrapy 2.19's ``Downloader._process_queue`` pops queued
   requests while ``slot.free_transfer_slots() > 0``, but a request only enters ``slot.transferring`` once
   the coroutine scheduled for it starts running. With a delay the loop stops after one request; with
   DOWNLOAD_DELAY=0 (or a site's ``download_delay: 0``) it drains the whole queue at once: a server with a
   per-domain limit of 2 saw 13 requests from us at the same time. Here a request counts as transferring
   from the moment it leaves the queue (and while it waits at the gate).
2. Slots are per host. A site's politeness (DOWNLOAD_SLOTS keyed by site, meta ``download_slot``) applies
   to the hosts the site's requests go to; two sites on one host share one slot, with the stricter
   concurrency and the longer delay. `politeness_unit` is that key; the Redis frontier uses it too.
3. The delay is a floor. A slot's configured delay (DOWNLOAD_SLOTS, a site's politeness, else
   DOWNLOAD_DELAY) is never undercut: not by jitter (DOWNLOAD_DELAY_JITTER only lengthens the wait, by up
   to that fraction), nor by AutoThrottle, whose lower bound is the global DOWNLOAD_DELAY and which would
   otherwise bring a site configured for 2 s down to 1 s.
4. The delay runs from the previous answer, measured where it matters. A host with a delay gets one
   request at a time, and the next leaves ≥ the delay after the previous one's answer (or failure) came
   back: Scrapy counts it from the moment a request leaves the slot's queue, before the middlewares and the
   reactor's backlog, so on a busy process two requests could reach the server closer than the delay
   (bench/national.py counted 0.978 s gaps). A host thus gets ≤ 1/(delay + latency) requests/s.
5. Where that is kept is a pluggable gate, taken when the request reaches the handler (after robots.txt,
   retry backoff and every middleware) and given back with its answer: `LocalGate` (one process) keeps it
   in the slot; `gikcrawl.distributed.RedisGate` (installed by the Redis scheduler) also takes the host's
   shared slot in Redis, so the rule holds across all workers. Requests of this process to one host wait
   for each other here, without asking Redis.
"""
from __future__ import annotations

import asyncio
import random
from time import monotonic

from scrapy.core.downloader import Downloader, Slot, _slot_jitter
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.httpobj import urlparse_cached


def politeness_unit(request, sites) -> str:
    """The slot key of request: a site's own slot is its host's (see 2.), any other explicit
    ``download_slot`` stays itself, else the host name (Scrapy's default key)."""
    key = request.meta.get("download_slot")
    if key and key not in sites:
        return key
    return (urlparse_cached(request).hostname or "").lower()


class FloorSlot(Slot):
    __slots__ = ("floor", "answered")

    def __init__(self, concurrency: int, delay: float, jitter: float = 0.0, floor: float = 0.0):
        super().__init__(concurrency, delay, jitter)
        self.floor = floor
        self.answered = -1e18             # monotonic time the last answer (or failure) came back

    def polite_delay(self) -> float:
        """The slot's delay without jitter: its own (AutoThrottle's) but never below the configured floor."""
        return max(self.delay, self.floor)

    def download_delay(self) -> float:
        delay = self.polite_delay()
        if self.jitter and delay:
            delay *= 1 + random.uniform(0, self.jitter)
        return delay


class LocalGate:
    """One request at a time per slot with a delay, leaving ≥ the delay after the previous answer."""

    def __init__(self):
        self.held: dict[Slot, tuple] = {}     # slot → (the request holding it, a future done when it is back)

    def local_delay(self, slot: FloorSlot) -> float:
        return 0.0                             # kept by acquire, from answers

    def delay(self, slot: FloorSlot, request) -> float:
        return slot.download_delay()

    async def acquire(self, slot: FloorSlot, request) -> None:
        delay = self.delay(slot, request)
        if delay <= 0:
            return
        while (held := self.held.get(slot)) is not None:
            await asyncio.shield(held[1])
        self.held[slot] = (request, asyncio.get_running_loop().create_future())
        try:
            await self.take(slot, request, delay)
        except BaseException:
            self._free(slot, request)
            raise

    async def take(self, slot: FloorSlot, request, delay: float) -> None:
        wait = slot.answered + delay - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def release(self, slot: FloorSlot, request) -> None:
        if self._free(slot, request):
            slot.answered = monotonic()

    def _free(self, slot: FloorSlot, request) -> bool:
        held = self.held.get(slot)
        if held is None or held[0] is not request:
            return False
        del self.held[slot]
        held[1].set_result(None)
        return True


class PoliteDownloader(Downloader):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.gate = LocalGate()

    def set_gate(self, gate) -> None:
        """Hand per-host spacing to another gate (`distributed.RedisGate`); before any request is sent."""
        self.gate = gate

    def get_slot_key(self, request) -> str:
        sites = getattr(self.crawler.spider, "sites", None) or {}
        site = request.meta.get("download_slot")
        host = politeness_unit(request, sites)
        if site not in sites:
            return host
        conf = self.per_slot_settings.get(site, {})
        mine = self.per_slot_settings.setdefault(host, {})
        for name, pick in (("concurrency", min), ("delay", max)):
            if name in conf:
                mine[name] = pick(mine.get(name, conf[name]), conf[name])
        slot = self.slots.get(host)
        if slot is not None:              # made before (robots.txt, another site): tightened, never loosened
            slot.concurrency = min(slot.concurrency, mine.get("concurrency", slot.concurrency))
            slot.delay = max(slot.delay, mine.get("delay", 0.0))
            if isinstance(slot, FloorSlot):
                slot.floor = max(slot.floor, mine.get("delay", 0.0))
        return host

    def _get_slot(self, request, spider=None):
        key = self.get_slot_key(request)
        if key not in self.slots:
            conf = self.per_slot_settings.get(key, {})
            conc = conf.get("concurrency", self.ip_concurrency or self.domain_concurrency)
            floor = conf.get("delay", self.settings.getfloat("DOWNLOAD_DELAY"))
            self.slots[key] = FloorSlot(conc, conf.get("delay", self._delay), _slot_jitter(conf, self._jitter), floor)
            self._start_slot_gc()
        return key, self.slots[key]

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = self.gate.local_delay(slot)
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)       # now, not when the coroutine starts (see above)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break

    async def _download(self, slot: Slot, request):
        try:
            await self.gate.acquire(slot, request)
        except BaseException:
            slot.transferring.discard(request)
            self._process_queue(slot)
            raise
        try:
            return await super()._download(slot, request)
        finally:
            self.gate.release(slot, request)
