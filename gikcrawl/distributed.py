"""Distributed crawling on Redis: `-s REDIS_URL=redis://host:port/db` (nothing changes without it).

Workers share one frontier and one seen-set, both keyed by the run (gikcrawl:<run id>:…). The run id is
agreed through Redis (gikcrawl:run, set by `gikcrawl enqueue` or by the first worker), so a periodic run
never inherits the previous run's seen-set; `gikcrawl enqueue --new-run` starts the next one.

The frontier is per host (host = host:port of the URL, the server that politeness protects):
  q:<host>    sorted set of that host's requests (score -priority; members carry a sequence number, so
              FIFO within a priority, and the tag of the attempt they redo after a recovery)
  ready       sorted set host → time (ms, Redis clock) from which its next request may be taken
  next/delay  hashes host → next allowed time / politeness delay (ms); sent/busy: host → last send or
              answer / end of the request in flight (expires after DOWNLOAD_TIMEOUT if its worker died)
A worker pops only from a host whose time has come and that has no request in flight at any worker, and
pushes the host's time on by its delay at once:
no worker holds a request it cannot start, and there is no head-of-line blocking behind a busy host.
The host slot is taken for good at the moment the request is handed to the download handler (`RedisGate`, the
gate of gikcrawl/downloader.py's one downloader): one request per host at a time across all workers, leaving ≥
delay (+ GIKCRAWL_HOST_MARGIN) after the previous one's response came back — so the server sees them ≥ delay
apart however late a stalled worker actually sent, and whatever Scrapy's middlewares (robots.txt, retries with
backoff) did in between.

Every step that moves a request is one Lua script: enqueue (seen-set + queue, all the requests of a callback
at once, with that callback's request leaving the in-flight hash), pop (up to as many ready hosts as the
downloader can start, queue + the worker's in-flight hash), recovery (a dead worker's in-flight hash back into
the queue). A request leaves the in-flight hash once its callback has run and everything it yielded has been
handled: each request in the queue, each item through the pipelines (or its download failed). Workers
refresh a heartbeat (GIKCRAWL_WORKER_TTL); the in-flight hash of a worker without heartbeat is put back by
whoever sees it first, tagged with the attempt it redoes, so `gikcrawl catalog merge` drops the dead attempt's
catalog rows. A worker starting under an id treats its own in-flight hash as its dead predecessor's, before
its first heartbeat. Waiting on other workers is bounded (GIKCRAWL_IDLE_TIMEOUT), then the worker stops and
says so.
"""
from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import time
import uuid
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from scrapy import Request, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.request import fingerprint, request_from_dict
from twisted.internet import task

from .downloader import LocalGate, PoliteDownloader, politeness_unit
from .extras import redis_py
from .meta import INFLIGHT
from .runs import run_state

if TYPE_CHECKING:             # redis-py is the [distributed] extra: imported where a Redis URL is used
    import redis

logger = logging.getLogger(__name__)

RUN_KEY = "gikcrawl:run"


def redis_client(settings) -> redis.Redis:
    """The client for REDIS_URL, with REDIS_PARAMS (password, TLS, timeouts …) over these defaults."""
    return redis_from_url(settings.get("REDIS_URL"), settings.getdict("REDIS_PARAMS"))


def redis_from_url(url: str, params: dict | None = None) -> redis.Redis:
    kw = dict({"socket_timeout": 30, "socket_connect_timeout": 10, "retry_on_timeout": True}, **(params or {}))
    return redis_py().Redis.from_url(url, **dict(kw, decode_responses=False))


def shared_run_id(url: str, proposed: str, new_run: bool = False) -> str:
    """The run every worker joins: the one in Redis, or `proposed` if there is none (or new_run)."""
    server = redis_from_url(url)
    if new_run:
        server.set(RUN_KEY, proposed)
        return proposed
    server.set(RUN_KEY, proposed, nx=True)
    return server.get(RUN_KEY).decode()


def configure(settings) -> None:
    """Switch a crawl (settings not yet frozen) to the shared frontier of REDIS_URL."""
    from .runs import new_run_id
    url = settings.get("REDIS_URL")
    settings.set("SCHEDULER", "gikcrawl.distributed.RedisScheduler", priority="spider")
    run_id = shared_run_id(url, settings.get("GIKCRAWL_RUN_ID") or new_run_id())
    settings.set("GIKCRAWL_RUN_ID", run_id, priority="spider")
    settings.set("WARC_WORKER_ID", worker_id(settings), priority="spider")
    if settings.get("GIKCRAWL_HOST_DELAY") is None:
        settings.set("GIKCRAWL_HOST_DELAY", settings.getfloat("DOWNLOAD_DELAY"), priority="spider")
    # Politeness is per host in Redis, not per worker: a worker may keep many hosts busy at once.
    if settings.getpriority("CONCURRENT_REQUESTS") <= 20:      # not set by the operator (project or default)
        settings.set("CONCURRENT_REQUESTS", settings.getint("GIKCRAWL_WORKER_CONCURRENCY"), priority="spider")


def host_delay(settings) -> float:
    """GIKCRAWL_HOST_DELAY, or DOWNLOAD_DELAY when it is unset (None)."""
    delay = settings.get("GIKCRAWL_HOST_DELAY")
    return settings.getfloat("DOWNLOAD_DELAY") if delay is None else float(delay)


def worker_id(settings) -> str:
    wid = settings.get("WARC_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"
    if any(c in wid for c in "\n: "):
        raise ValueError(f"WARC_WORKER_ID may not contain spaces, colons or newlines: {wid!r}")
    return wid


def keys(run_id: str) -> dict:
    base = f"gikcrawl:{run_id}"
    return {"q": f"{base}:q:", "ready": f"{base}:ready", "next": f"{base}:next", "delay": f"{base}:delay",
            "sent": f"{base}:sent", "busy": f"{base}:busy", "seq": f"{base}:seq", "seen": f"{base}:seen",
            "inflight": f"{base}:inflight:", "alive": f"{base}:alive:"}


_NOW = "local t = redis.call('time') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "

# KEYS seen ready next delay seq inflight; ARGV qprefix done-rid ('' none) then, per request,
# fingerprint score data dont_filter host delay_ms → 1/0 per request (queued / seen before)
# A callback's requests go in with one call, and the request whose callback made them leaves the in-flight
# hash in the same step: a kill before it leaves that request to be redone, never its children lost.
_ENQUEUE = """
local out = {}
for i = 3, #ARGV, 6 do
  local host = ARGV[i + 4]
  if ARGV[i + 3] ~= '1' and redis.call('sadd', KEYS[1], ARGV[i]) == 0 then
    out[#out + 1] = 0
  else
    local seq = redis.call('incr', KEYS[5])
    redis.call('zadd', ARGV[1] .. host, ARGV[i + 1], string.format('%016x', seq) .. '\\n\\n' .. ARGV[i + 2])
    local d = tonumber(ARGV[i + 5])
    if d > tonumber(redis.call('hget', KEYS[4], host) or '0') then redis.call('hset', KEYS[4], host, d) end
    if not redis.call('zscore', KEYS[2], host) then
      redis.call('zadd', KEYS[2], tonumber(redis.call('hget', KEYS[3], host) or '0'), host)
    end
    out[#out + 1] = 1
  end
end
if ARGV[2] ~= '' then redis.call('hdel', KEYS[6], ARGV[2]) end
return out"""

# KEYS ready next delay inflight busy; ARGV qprefix n rid-prefix skip-host...
# → {0, rid, member, rid, member, ...} (up to n requests, each from another ready host)
#   | {ms until the next host is ready} | {-1} (nothing queued)
_POP = _NOW + """
local n = tonumber(ARGV[2])
local skip = {}
for i = 4, #ARGV do skip[ARGV[i]] = true end
local h = redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, n + #ARGV - 3)
local out, got, skipped, emptied = {0}, 0, false, false
for _, host in ipairs(h) do
  if got >= n then break end
  if skip[host] or tonumber(redis.call('hget', KEYS[5], host) or '0') > now then
    skipped = true                     -- full here, or its request in flight at some worker: not yet
  else
    local q = ARGV[1] .. host
    local r = redis.call('zrange', q, 0, 0, 'WITHSCORES')
    if #r == 0 then
      redis.call('zrem', KEYS[1], host)
      emptied = true
    else
      redis.call('zremrangebyrank', q, 0, 0)
      local nxt = now + tonumber(redis.call('hget', KEYS[3], host) or '0')
      redis.call('hset', KEYS[2], host, nxt)
      if redis.call('zcard', q) > 0 then redis.call('zadd', KEYS[1], nxt, host) else redis.call('zrem', KEYS[1], host) end
      got = got + 1
      local rid = ARGV[3] .. string.format('%02x', got)
      redis.call('hset', KEYS[4], rid, host .. '\\n' .. r[2] .. '\\n' .. r[1])
      out[#out + 1] = rid
      out[#out + 1] = r[1]
    end
  end
end
if got > 0 then return out end
if emptied then return {1} end
if skipped then return {50} end
local nx = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
if #nx == 0 then return {-1} end
return {math.max(1, tonumber(nx[2]) - now)}"""

# KEYS inflight-hash ready next; ARGV qprefix tag-prefix ("<dead worker>:")
_RECOVER = """
local all = redis.call('hgetall', KEYS[1])
for i = 1, #all, 2 do
  local v = all[i + 1]
  local a = string.find(v, '\\n', 1, true)
  local b = string.find(v, '\\n', a + 1, true)
  local host, score, m = string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, b + 1)
  local p = string.find(m, '\\n', 18, true)
  redis.call('zadd', ARGV[1] .. host, score, string.sub(m, 1, 17) .. ARGV[2] .. all[i] .. string.sub(m, p))
  if not redis.call('zscore', KEYS[2], host) then
    redis.call('zadd', KEYS[2], tonumber(redis.call('hget', KEYS[3], host) or '0'), host)
  end
end
redis.call('del', KEYS[1])
return #all / 2"""

# KEYS sent delay busy; ARGV host delay_ms busy_ms → 0 (slot taken now) or ms to wait
# One request at a time per host, leaving ≥ delay after the previous one's response (or failure) came back:
# the previous request was logged by the server before it answered, so the server sees them ≥ delay apart
# however late either request left its worker. busy expires (DOWNLOAD_TIMEOUT) if a worker dies mid-request.
_GATE = _NOW + """
local d = tonumber(ARGV[2])
if d <= 0 then return 0 end
local busy = tonumber(redis.call('hget', KEYS[3], ARGV[1]) or '0')
if busy > now then return math.min(busy - now, 25) end
local last = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '-1e15')
if last + d > now then return last + d - now end
redis.call('hset', KEYS[1], ARGV[1], now)
redis.call('hset', KEYS[3], ARGV[1], now + tonumber(ARGV[3]))
if d > tonumber(redis.call('hget', KEYS[2], ARGV[1]) or '0') then redis.call('hset', KEYS[2], ARGV[1], d) end
return 0"""

# KEYS sent busy next ready; ARGV host delay_ms: the response is back, the host's delay runs from now
_RELEASE = _NOW + """
redis.call('hset', KEYS[1], ARGV[1], now)
redis.call('hdel', KEYS[2], ARGV[1])
local nxt = now + tonumber(ARGV[2])
if nxt > tonumber(redis.call('hget', KEYS[3], ARGV[1]) or '0') then
  redis.call('hset', KEYS[3], ARGV[1], nxt)
  if redis.call('zscore', KEYS[4], ARGV[1]) then redis.call('zadd', KEYS[4], nxt, ARGV[1]) end
end
return 0"""

# KEYS alive-key; ARGV token ttl_ms → 1, or 0 when another process holds the id
_BEAT = """
local v = redis.call('get', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1"""


class Frontier:
    """The shared state of a distributed run, as one worker (or `gikcrawl enqueue`) sees it."""

    def __init__(self, server: redis.Redis, run_id: str, spider, settings, worker: str | None = None):
        self.server, self.run_id, self.spider, self.worker = server, run_id, spider, worker
        self.k = keys(run_id)
        self.inflight_key = self.k["inflight"] + (worker or "-")
        self.ttl = settings.getfloat("GIKCRAWL_WORKER_TTL")
        delay = host_delay(settings)
        self.margin = settings.getfloat("GIKCRAWL_HOST_MARGIN")
        self.default_delay = delay
        self.slot_delays = {k: float(v["delay"]) for k, v in settings.getdict("DOWNLOAD_SLOTS").items()
                            if "delay" in v}
        self.token = uuid.uuid4().hex
        self.sites = getattr(spider, "sites", None) or {}
        self.pending: list = []               # requests added since the last flush, as script arguments
        self.sent: set[bytes] = set()         # fingerprints this process sent to the seen-set
        self._enqueue = server.register_script(_ENQUEUE)
        self._pop = server.register_script(_POP)
        self._recover = server.register_script(_RECOVER)
        self._gate = server.register_script(_GATE)
        self._release = server.register_script(_RELEASE)
        self.busy_ms = int(settings.getfloat("DOWNLOAD_TIMEOUT") * 1000) + 5000
        self._beat = server.register_script(_BEAT)
        self.next_ready_ms: int = -1          # from the last empty pop: ms until a host is ready, -1 none queued

    # --- requests in and out ---------------------------------------------------------------------

    def delay_ms(self, delay: float) -> int:
        return round((delay + self.margin) * 1000) if delay > 0 else 0

    def request_delay(self, request) -> float:
        return self.slot_delays.get(request.meta.get("download_slot"), self.default_delay)

    def encode(self, request) -> bytes:
        return pickle.dumps(request.to_dict(spider=self.spider), protocol=pickle.HIGHEST_PROTOCOL)

    def unit(self, request) -> str:
        return politeness_unit(request, self.sites)

    def add(self, request) -> bool:
        """Queue request with the next `flush` (one script call for all the requests added meanwhile).
        False: this worker already sent its fingerprint to the run's seen-set, so Redis would refuse it; the
        seen-set only grows within a run, so that answer is exact and costs no serialisation."""
        fp = fingerprint(request)
        if not request.dont_filter:
            if fp in self.sent:
                return False
            self.sent.add(fp)
        self.pending.extend((fp.hex(), -request.priority, self.encode(request),
                             "1" if request.dont_filter else "0", self.unit(request),
                             self.delay_ms(self.request_delay(request))))
        return True

    def flush(self, done=None) -> tuple[int, int]:
        """Seen-set and queue for the requests added since the last flush, in one step, and `done` (a
        request this worker took) out of the in-flight hash in the same step. Returns (queued, seen before)."""
        worker, rid = self._taken(done)
        if not self.pending and not rid:
            return 0, 0
        args, self.pending = self.pending, []
        k = self.k
        try:
            out = self._enqueue(keys=[k["seen"], k["ready"], k["next"], k["delay"], k["seq"], k["inflight"] + worker],
                                args=[k["q"], rid, *args])
        except BaseException:
            self.sent.difference_update(bytes.fromhex(fp) for fp in args[::6])   # not stored after all
            raise
        queued = sum(int(x) for x in out)
        return queued, len(out) - queued

    def enqueue(self, request) -> bool:
        """Seen-set and queue in one step, at once. False: seen before (and not dont_filter)."""
        pending, self.pending = self.pending, []
        try:
            return self.add(request) and self.flush()[0] == 1
        finally:
            self.pending = pending + self.pending

    def pop_many(self, n: int, full: Iterable[str] = ()) -> list:
        """Up to n requests this worker may start now, each from another host whose delay has passed (one
        script call); `full`: hosts this worker cannot start another request for (its downloader slot is at
        its concurrency). When none: next_ready_ms says when to look again."""
        k = self.k
        prefix = uuid.uuid4().hex[:14]
        out = self._pop(keys=[k["ready"], k["next"], k["delay"], self.inflight_key, k["busy"]],
                        args=[k["q"], max(1, n), prefix, *full])
        if out[0] != 0:
            self.next_ready_ms = int(out[0])
            return []
        requests, stale = [], []
        for i in range(1, len(out), 2):
            rid, member = out[i].decode(), out[i + 1]
            nl = member.index(b"\n", 17)
            tag = member[17:nl].decode()
            request = request_from_dict(pickle.loads(member[nl + 1:]), spider=self.spider)
            earlier = request.meta.get(INFLIGHT)     # a redirect or retry of a request taken before:
            if earlier:                               # it is done, this one stands for it
                stale.append(earlier.partition(":"))
            if tag:
                request.meta["gik_redo"] = tag         # this redoes an attempt of a worker that died
            request.meta[INFLIGHT] = f"{self.worker}:{rid}"
            requests.append(request)
        if stale:
            pipe = self.server.pipeline(transaction=False)
            for worker, _, old in stale:
                pipe.hdel(k["inflight"] + worker, old)
            pipe.execute()
        return requests

    def pop(self, full: Iterable[str] = ()):
        """The next request this worker may start now, or None."""
        got = self.pop_many(1, full)
        return got[0] if got else None

    @staticmethod
    def _taken(request) -> tuple[str, str]:
        taken = request.meta.get(INFLIGHT) if request is not None else None
        if not taken:
            return "-", ""
        worker, _, rid = taken.partition(":")
        return worker, rid

    def done(self, request) -> None:
        """request's callback has run (or its download failed): what it queued goes in, and it leaves the
        in-flight hash, in one step."""
        self.flush(done=request)

    def queued(self) -> int:
        return self.server.zcard(self.k["ready"])

    # --- workers ---------------------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """False when another live process beats under this worker id."""
        return bool(self._beat(keys=[self.k["alive"] + self.worker], args=[self.token, int(self.ttl * 1000)]))

    def await_predecessor(self) -> None:
        """Before taking over this worker id: a heartbeat left by a killed predecessor lapses within its TTL
        (bounded wait); one that is still being refreshed after that is a live duplicate (an error)."""
        key = self.k["alive"] + self.worker
        deadline = None
        while (pttl := self.server.pttl(key)) > 0:
            if deadline is None:
                deadline = time.monotonic() + pttl / 1000 + 1.0
                logger.warning("worker id %s has a heartbeat (a killed predecessor, or a duplicate): waiting "
                               "%.1f s for it to lapse", self.worker, pttl / 1000)
            elif time.monotonic() > deadline:
                raise RuntimeError(f"another live worker runs under the id {self.worker!r} (run {self.run_id}); "
                                   "give each worker its own WARC_WORKER_ID")
            time.sleep(min(pttl / 1000, 0.5))

    def leave(self) -> None:
        self.server.delete(self.k["alive"] + self.worker)

    def live_workers(self) -> set[str]:
        prefix = self.k["alive"].encode()
        return {k[len(prefix):].decode() for k in self.server.scan_iter(match=prefix + b"*", count=1000)}

    def reclaim(self, worker: str) -> int:
        k = self.k
        return int(self._recover(keys=[k["inflight"] + worker, k["ready"], k["next"]], args=[k["q"], worker + ":"]))

    def recover(self) -> int:
        """Requests in flight at workers that stopped beating go back to the queue. Returns how many."""
        alive = self.live_workers()
        prefix = self.k["inflight"].encode()
        moved = 0
        for key in list(self.server.scan_iter(match=prefix + b"*", count=1000)):
            worker = key[len(prefix):].decode()
            if worker in alive:
                continue
            n = self.reclaim(worker)
            if n:
                logger.warning("worker %s stopped: %d of its requests recovered into the queue", worker, n)
            moved += n
        return moved

    def inflight_elsewhere(self) -> dict[str, int]:
        """Requests in flight at other live workers, by worker."""
        alive = self.live_workers() - {self.worker}
        return {w: n for w in alive if (n := self.server.hlen(self.k["inflight"] + w))}

    async def gate(self, host: str, delay: float) -> float:
        """Take host's slot for a request leaving now: no other request to host in flight at any worker,
        and ≥ delay (+ margin) since the last one came back. Returns the seconds waited."""
        ms = self.delay_ms(delay)
        waited = 0.0
        while True:
            wait = int(self._gate(keys=[self.k["sent"], self.k["delay"], self.k["busy"]], args=[host, ms, self.busy_ms]))
            if not wait:
                return waited
            waited += wait / 1000
            await asyncio.sleep(wait / 1000)

    def release(self, host: str, delay: float) -> None:
        """The request to host is back (answered or failed): its delay runs from now."""
        ms = self.delay_ms(delay)
        if ms:
            k = self.k
            self._release(keys=[k["sent"], k["busy"], k["next"], k["ready"]], args=[host, ms])


class RedisScheduler(BaseScheduler):
    """The shared per-host frontier as Scrapy's scheduler."""

    def __init__(self, crawler):
        s = crawler.settings
        url = s.get("REDIS_URL")
        if not url:
            raise NotConfigured("RedisScheduler needs REDIS_URL")
        self.crawler, self.stats = crawler, crawler.stats
        self.server = redis_client(s)
        self.server.ping()
        self.poll = min(1.0, s.getfloat("GIKCRAWL_POLL_INTERVAL"))
        self.pop_batch = s.getint("GIKCRAWL_POP_BATCH")
        self.popped: deque = deque()          # taken (in our in-flight hash), not yet handed to the engine
        self.idle_timeout = s.getfloat("GIKCRAWL_IDLE_TIMEOUT")
        self.frontier: Frontier | None = None
        self.waiting_since: float | None = None
        self.recovered_at = 0.0
        self.not_before = 0.0
        # A callback's output is handled some time after the callback has returned (Scrapy's scraper queues
        # it and hands it on from other tasks), so its request is done only when each request it yielded
        # has arrived here (id(child) → the parent's _Callback) and each item has left the pipelines.
        self.parent_of: dict[int, _Callback] = {}
        self.callbacks: dict[int, _Callback] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open(self, spider):
        s = self.crawler.settings
        self.spider = spider
        self.frontier = f = Frontier(self.server, run_state(self.crawler).run_id, spider, s, worker=worker_id(s))
        self.crawler.gik_frontier, self.crawler.gik_scheduler = f, self
        downloader = self.crawler.engine.downloader
        if not isinstance(downloader, PoliteDownloader):
            raise NotConfigured(f"distributed crawling needs DOWNLOADER = gikcrawl.downloader.PoliteDownloader "
                                f"(its per-host gate), not {type(downloader).__name__}")
        downloader.set_gate(RedisGate(f, self.stats))
        f.await_predecessor()
        own = f.reclaim(f.worker)             # a restart under this id: our predecessor's requests
        if own:
            logger.warning("worker %s restarted: %d requests it had in flight are back in the queue", f.worker, own)
            self.stats.inc_value("gikcrawl/distributed/recovered", own)
        if not f.heartbeat():
            raise RuntimeError(f"another live worker runs under the id {f.worker!r} (run {f.run_id}); "
                               "give each worker its own WARC_WORKER_ID")
        moved = f.recover()
        if moved:
            self.stats.inc_value("gikcrawl/distributed/recovered", moved)
        self.beat = task.LoopingCall(self._beat)
        self.beat.start(max(0.5, f.ttl / 3), now=False)
        self.waker = task.LoopingCall(self._wake)
        self.waker.start(self.poll, now=False)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            self.crawler.signals.connect(self.item_handled, signal=signal)
        logger.info("distributed: worker %s joins run %s (%d hosts queued)", f.worker, f.run_id, f.queued())

    def _beat(self):
        if not self.frontier.heartbeat():
            logger.error("another process beats under worker id %s: stopping this one", self.frontier.worker)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="duplicate_worker_id"))
            return
        moved = self.frontier.recover()
        if moved:
            self.stats.inc_value("gikcrawl/distributed/recovered", moved)

    def _wake(self):
        """Ask the engine for requests at least every GIKCRAWL_POLL_INTERVAL s: hosts become ready as time
        passes and other workers queue requests, neither of which Scrapy's engine hears about (its own
        heartbeat is 5 s)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and not self.crawler.engine.needs_backout():
            slot.nextcall.schedule()

    def close(self, reason):
        if self.frontier is not None:
            self._flush()                     # requests made before a shutdown are not lost
            if reason == "finished":          # all output is handled by now: children that never came were
                for cb in list(self.callbacks.values()):     # dropped on the way (never lost by us)
                    if cb.closed:
                        self._flush(done=cb.request)
        for loop in (getattr(self, "beat", None), getattr(self, "waker", None)):
            if loop is not None and loop.running:
                loop.stop()
        if self.frontier is not None and reason == "finished":
            self.frontier.leave()

    def has_pending_requests(self) -> bool:
        return bool(self.popped or self.frontier.pending) or self.frontier.queued() > 0

    def enqueue_request(self, request) -> bool:
        """Buffered: the requests of one callback go into Redis with one script call, at the latest together
        with that callback's end (`Frontier.done`), else on the next `next_request`. The seen-set is checked
        then for requests this worker has not sent before, so such a duplicate (another worker's) counts in
        dupefilter/filtered but is not reported back as dropped."""
        added = self.frontier.add(request)
        parent = self.parent_of.pop(id(request), None)
        if parent is not None:
            parent.requests -= 1
            self._settle(parent)
        if not added:
            self.stats.inc_value("dupefilter/filtered")
            return False
        self.not_before = 0.0                 # a host may be ready now
        return True

    def expect(self, parent, child) -> None:
        """child, a request or an item parent's callback yielded, is on its way: parent is not done before
        the request has come here, or the item has left the pipelines."""
        cb = self.callbacks.get(id(parent))
        if cb is None:
            cb = self.callbacks[id(parent)] = _Callback(parent)
        if isinstance(child, Request):
            cb.requests += 1
            self.parent_of[id(child)] = cb
        else:
            cb.items += 1

    def item_handled(self, item, response, **kwargs) -> None:
        """An item left the pipelines (scraped, dropped or failed): one less output of its callback to wait for."""
        cb = self.callbacks.get(id(getattr(response, "request", None)))
        if cb is not None and cb.items:
            cb.items -= 1
            self._settle(cb)

    def callback_done(self, parent) -> None:
        """parent's callback has returned (or raised): done once every request it yielded has arrived and
        every item has left the pipelines."""
        cb = self.callbacks.get(id(parent))
        if cb is None:
            self.done(parent)
            return
        cb.closed = True
        self._settle(cb)

    def _settle(self, cb: _Callback) -> None:
        if cb.closed and not cb.requests and not cb.items:
            self.callbacks.pop(id(cb.request), None)
            self.done(cb.request)

    def _flush(self, done=None) -> None:
        queued, seen = self.frontier.flush(done)
        if queued:
            self.stats.inc_value("scheduler/enqueued/redis", queued)
        if seen:
            self.stats.inc_value("dupefilter/filtered", seen)

    def done(self, request) -> None:
        self._flush(done=request)

    def next_request(self):
        if self.popped:
            self.stats.inc_value("scheduler/dequeued/redis")
            return self.popped.popleft()
        if self.frontier.pending:
            self._flush()
        now = time.monotonic()
        if now < self.not_before:             # the last look found nothing startable until then
            return None
        downloader = self.crawler.engine.downloader
        # as many as the downloader can start now, each from another host with room in its local slot
        room = downloader.total_concurrency - len(downloader.active)
        full = [key for key, slot in downloader.slots.items() if len(slot.active) >= slot.concurrency]
        self.popped.extend(self.frontier.pop_many(max(1, min(room, self.pop_batch)), full))
        if self.popped:
            self.stats.inc_value("scheduler/dequeued/redis")
            return self.popped.popleft()
        # nothing for us now: look again when the next host is due, or at the next poll (other workers may
        # queue requests meanwhile), or as soon as one of our own downloads ends (it frees a slot)
        wait = self.poll if self.frontier.next_ready_ms < 0 else min(self.poll, self.frontier.next_ready_ms / 1000)
        self.not_before = now + wait
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule(wait)
        return None

    def spider_idle(self, spider):
        """Nothing queued and nothing here: stay while live workers still have requests in flight (they may
        queue more, or die and leave theirs to us), for at most GIKCRAWL_IDLE_TIMEOUT seconds."""
        f = self.frontier
        now = time.monotonic()
        if now - self.recovered_at >= 1.0:
            self.recovered_at = now
            f.recover()
        if f.queued():
            self.waiting_since = None
            raise DontCloseSpider
        others = f.inflight_elsewhere()
        if not others:
            if f.recover():                   # a worker died since the last look: its requests are queued now
                raise DontCloseSpider
            return
        if self.waiting_since is None:
            self.waiting_since = now
        if now - self.waiting_since < self.idle_timeout:
            raise DontCloseSpider
        logger.error("gave up waiting after %.0f s for requests in flight at %s; if those workers died, "
                     "the next worker to start (or a restart of this one) puts them back in the queue",
                     now - self.waiting_since, ", ".join(f"{w} ({n})" for w, n in sorted(others.items())))
        self.stats.set_value("gikcrawl/distributed/gave_up_waiting", sum(others.values()))


class RedisGate(LocalGate):
    """The downloader's gate (gikcrawl/downloader.py) in a worker: besides the local rule, the host's shared
    slot in Redis, so one request per host is in flight across all workers, ≥ the delay after the previous
    answer. A request waits for this worker's own request to the host locally, then asks Redis."""

    def __init__(self, frontier: Frontier, stats):
        super().__init__()
        self.frontier, self.stats = frontier, stats

    def delay(self, slot, request) -> float:
        # the slot's delay is the site's politeness (or AutoThrottle's, if larger); the shared default below
        return max(slot.download_delay(), self.frontier.request_delay(request))

    async def take(self, slot, request, delay: float) -> None:
        waited = await self.frontier.gate(self.frontier.unit(request), delay)
        if waited:
            self.stats.inc_value("gikcrawl/distributed/host_wait_ms", int(waited * 1000))

    def release(self, slot, request) -> None:
        held = self.held.get(slot)
        if held is not None and held[0] is request:
            self.frontier.release(self.frontier.unit(request), max(slot.polite_delay(),
                                                                   self.frontier.request_delay(request)))
        super().release(slot, request)


class _Callback:
    """A request whose callback has run (closed) or runs, and how many of its outputs are not yet handled:
    requests not yet at the scheduler, items not yet through the pipelines."""
    __slots__ = ("request", "requests", "items", "closed")

    def __init__(self, request):
        self.request, self.requests, self.items, self.closed = request, 0, 0, False


class InflightDoneMiddleware:
    """Spider side: a request leaves the in-flight hash once its callback has returned, every request it
    yielded has reached the scheduler (they go into the shared queue in the same step) and every item it
    yielded has left the pipelines (its catalog row is committed)."""

    def __init__(self, crawler):
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output_async(self, response, result, spider=None):
        async for out in result:
            self._expect(response.request, out)
            yield out
        self._done(response.request)

    def process_spider_output(self, response, result, spider=None):
        for out in result:
            self._expect(response.request, out)
            yield out
        self._done(response.request)

    def process_spider_exception(self, response, exception, spider=None):
        self._done(response.request)

    def _expect(self, parent, out) -> None:
        scheduler = getattr(self.crawler, "gik_scheduler", None)
        if scheduler is not None and parent is not None and out is not None:
            scheduler.expect(parent, out)

    def _done(self, request):
        scheduler = getattr(self.crawler, "gik_scheduler", None)
        if scheduler is not None and request is not None:
            scheduler.callback_done(request)


def failed(crawler, request) -> None:
    """A request whose download failed is done too (its failure is counted where it is handled)."""
    scheduler = getattr(crawler, "gik_scheduler", None)
    if scheduler is not None:
        scheduler.done(request)
