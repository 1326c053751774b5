"""Distributed crawling on scrapy-redis: `-s REDIS_URL=redis://host:port/db` (nothing changes without it).

Workers share one frontier (scrapy-redis's priority queue) and one seen-set (its dupefilter), both keyed by
the run: gikcrawl:<run id>:requests and gikcrawl:<run id>:seen. The run id is agreed through Redis
(gikcrawl:run, set by `gikcrawl enqueue` or by the first worker), so a periodic run never inherits the
previous run's seen-set; `gikcrawl enqueue --new-run` starts the next one. What scrapy-redis does not do,
this module adds:

- start requests go through the shared dupefilter like any other (scrapy-redis's own RedisSpider marks
  them dont_filter; gikcrawl does not use it), so a start URL linked again later is not fetched twice;
- no request is lost with a worker: a popped request is kept in the worker's in-flight hash
  (gikcrawl:<run>:inflight:<worker>) until its callback has run (or its download failed); each worker
  refreshes a heartbeat key (gikcrawl:<run>:alive:<worker>, GIKCRAWL_WORKER_TTL seconds), and any worker
  that finds the in-flight hash of a worker without heartbeat claims it (atomic RENAME) and puts the
  requests back in the queue;
- politeness across workers: before a request leaves, the worker takes the host's slot in Redis
  (SET NX PX) — requests to one host are at least GIKCRAWL_HOST_DELAY seconds apart whatever the number
  of workers;
- a worker closes only when the queue is empty and no live worker has a request in flight.
Each worker writes its own WARC files (worker id in the name) and its own catalog (catalog-<worker>.sqlite);
`gikcrawl catalog merge` joins them and writes the run report over all workers.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from .meta import INFLIGHT

logger = logging.getLogger(__name__)

RUN_KEY = "gikcrawl:run"


def redis_from_url(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=False, socket_timeout=30, socket_connect_timeout=10,
                                retry_on_timeout=True)


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


def host_delay(settings) -> float:
    """GIKCRAWL_HOST_DELAY, or DOWNLOAD_DELAY when it is unset (None)."""
    delay = settings.get("GIKCRAWL_HOST_DELAY")
    return settings.getfloat("DOWNLOAD_DELAY") if delay is None else float(delay)


def worker_id(settings) -> str:
    return settings.get("WARC_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"


def keys(run_id: str) -> dict:
    base = f"gikcrawl:{run_id}"
    return {"queue": f"{base}:requests", "seen": f"{base}:seen", "inflight": f"{base}:inflight:",
            "alive": f"{base}:alive:", "claim": f"{base}:claimed:", "host": f"{base}:host:"}


class Frontier:
    """The shared state of a distributed run, as one worker sees it."""

    def __init__(self, server: redis.Redis, run_id: str, worker: str, queue: PriorityQueue, ttl: float):
        self.server, self.run_id, self.worker, self.queue, self.ttl = server, run_id, worker, queue, ttl
        self.k = keys(run_id)
        self.inflight_key = self.k["inflight"] + worker

    def heartbeat(self) -> None:
        self.server.set(self.k["alive"] + self.worker, b"1", px=int(self.ttl * 1000))

    def done(self, request) -> None:
        taken = request.meta.get(INFLIGHT)
        if taken:
            worker, _, rid = taken.partition(":")
            self.server.hdel(self.k["inflight"] + worker, rid)

    def live_workers(self) -> set[str]:
        prefix = self.k["alive"].encode()
        return {k[len(prefix):].decode() for k in self.server.scan_iter(match=prefix + b"*")}

    def recover(self) -> int:
        """Requests in flight at workers that stopped beating go back to the queue. Returns how many."""
        alive = self.live_workers()
        prefix = self.k["inflight"].encode()
        moved = 0
        for key in list(self.server.scan_iter(match=prefix + b"*")):
            worker = key[len(prefix):].decode()
            if worker in alive:
                continue
            claim = f"{self.k['claim']}{worker}:{uuid.uuid4().hex}"
            try:
                self.server.rename(key, claim)           # atomic: only one worker gets these requests
            except redis.ResponseError:
                continue                                 # another worker claimed them first
            for data in self.server.hvals(claim):
                request = self.queue._decode_request(data)
                request.meta.pop(INFLIGHT, None)
                self.queue.push(request)                 # straight into the queue: they were seen already
                moved += 1
            self.server.delete(claim)
            logger.warning("worker %s stopped: %d of its requests back in the queue", worker, moved)
        return moved

    def busy(self) -> bool:
        """Work left anywhere: queued requests, or requests in flight at a live worker."""
        if len(self.queue):
            return True
        alive = self.live_workers()
        prefix = self.k["inflight"].encode()
        return any(self.server.hlen(key) for key in self.server.scan_iter(match=prefix + b"*")
                   if key[len(prefix):].decode() in alive)

    async def host_slot(self, host: str, delay: float) -> None:
        """Wait until this worker may send the next request to host (≥ delay seconds after any worker's)."""
        if delay <= 0:
            return
        key = self.k["host"] + host
        while not self.server.set(key, self.worker.encode(), nx=True, px=max(1, int(delay * 1000))):
            wait = self.server.pttl(key)
            await asyncio.sleep(max(wait, 1) / 1000)


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler with run-scoped keys and in-flight tracking."""

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        url = s.get("REDIS_URL")
        if not url:
            raise NotConfigured("RedisScheduler needs REDIS_URL")
        from .runs import run_state
        run = run_state(crawler)
        k = keys(run.run_id)
        server = redis_from_url(url)
        server.ping()
        instance = cls(server=server, persist=True, flush_on_start=False, queue_key=k["queue"],
                       queue_cls="scrapy_redis.queue.PriorityQueue", dupefilter_key=k["seen"],
                       dupefilter_cls="scrapy_redis.dupefilter.RFPDupeFilter", idle_before_close=0)
        from scrapy_redis.dupefilter import RFPDupeFilter
        instance.df = RFPDupeFilter(server, key=k["seen"], debug=s.getbool("DUPEFILTER_DEBUG"))
        instance.stats = crawler.stats
        instance.crawler = crawler
        return instance

    def open(self, spider):
        super().open(spider)
        s = self.crawler.settings
        from .runs import run_state
        run_id = run_state(self.crawler).run_id
        self.frontier = Frontier(self.server, run_id, worker_id(s), self.queue,
                                 s.getfloat("GIKCRAWL_WORKER_TTL"))
        self.crawler.gik_frontier = self.frontier
        self.frontier.heartbeat()
        self.frontier.recover()
        self.beat = task.LoopingCall(self._beat)
        self.beat.start(max(0.5, self.frontier.ttl / 3), now=False)
        logger.info("distributed: worker %s joins run %s (%d requests queued)", self.frontier.worker,
                    run_id, len(self.queue))

    def _beat(self):
        self.frontier.heartbeat()
        moved = self.frontier.recover()
        if moved:
            self.stats.inc_value("gikcrawl/distributed/recovered", moved)

    def close(self, reason):
        if getattr(self, "beat", None) and self.beat.running:
            self.beat.stop()
        if reason == "finished":
            self.server.delete(self.frontier.k["alive"] + self.frontier.worker)
        super().close(reason)

    # Both steps are single Lua scripts, so a worker killed at any instant leaves every request either
    # queued, or in its in-flight hash (to be recovered): never seen-but-not-queued, never popped-but-lost.
    _ENQUEUE = """if ARGV[4] == '1' or redis.call('sadd', KEYS[1], ARGV[1]) == 1 then
                    redis.call('zadd', KEYS[2], ARGV[2], ARGV[3]) return 1 end return 0"""
    _POP = """local r = redis.call('zrange', KEYS[1], 0, 0)
              if #r == 0 then return false end
              redis.call('zremrangebyrank', KEYS[1], 0, 0)
              redis.call('hset', KEYS[2], ARGV[1], r[1])
              return r[1]"""

    def enqueue_request(self, request):
        data = self.queue._encode_request(request)
        added = self.server.eval(self._ENQUEUE, 2, self.df.key, self.queue.key, self.df.request_fingerprint(request),
                                 -request.priority, data, "1" if request.dont_filter else "0")
        if not added:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        rid = uuid.uuid4().hex
        data = self.server.eval(self._POP, 2, self.queue.key, self.frontier.inflight_key, rid)
        if not data:
            return None
        request = self.queue._decode_request(data)
        earlier = request.meta.get(INFLIGHT)     # a redirect or retry of a request taken before:
        if earlier:                                   # it is done, this one stands for it
            worker, _, old = earlier.partition(":")
            self.server.hdel(self.frontier.k["inflight"] + worker, old)
        request.meta[INFLIGHT] = f"{self.frontier.worker}:{rid}"
        self.stats.inc_value("scheduler/dequeued/redis")
        return request


class DistributedMiddleware:
    """Downloader side: the shared per-host slot before each request leaves this worker."""

    def __init__(self, crawler):
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        self.crawler = crawler
        self.delay = host_delay(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        frontier = getattr(self.crawler, "gik_frontier", None)
        if frontier is not None:
            from urllib.parse import urlsplit
            t0 = time.monotonic()
            await frontier.host_slot(urlsplit(request.url).netloc, self.delay)
            waited = time.monotonic() - t0
            if waited > 0.001:
                self.crawler.stats.inc_value("gikcrawl/distributed/host_wait_ms", int(waited * 1000))
        return None


class InflightDoneMiddleware:
    """Spider side: a request leaves the in-flight hash once its callback's output has all been taken
    (the requests it yielded are in the shared queue by then)."""

    def __init__(self, crawler):
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        self.crawler = crawler
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output_async(self, response, result, spider=None):
        async for item in result:
            yield item
        self._done(response.request)

    def process_spider_output(self, response, result, spider=None):
        yield from result
        self._done(response.request)

    def process_spider_exception(self, response, exception, spider=None):
        self._done(response.request)

    def _done(self, request):
        frontier = getattr(self.crawler, "gik_frontier", None)
        if frontier is not None and request is not None:
            frontier.done(request)

    def spider_idle(self, spider):
        frontier = getattr(self.crawler, "gik_frontier", None)
        if frontier is None:
            return
        frontier.recover()
        if frontier.busy():
            raise DontCloseSpider


def failed(crawler, request) -> None:
    """A request whose download failed is done too (its failure is counted where it is handled)."""
    frontier = getattr(crawler, "gik_frontier", None)
    if frontier is not None:
        frontier.done(request)
