"""Heavy work off the reactor: attachment extraction (pdfplumber, OCR, LibreOffice) and the parse of large
pages run in a pool of worker processes (pebble), so downloads, timeouts and heartbeats keep their pace.

Each job has a time limit (GIKCRAWL_WORKER_TIMEOUT: past it the worker is killed and replaced) and each
worker an address-space limit (GIKCRAWL_WORKER_MEMORY, RLIMIT_AS); workers run at a lower CPU priority than
the crawl. A job past a limit, or whose worker died, raises WorkerLimit with the reason: callers put it in
the record as a warning; the raw bytes are already archived. GIKCRAWL_WORKERS=0 runs jobs in the crawl's
own process (for debugging; no limits).

The pool is a crawler extension; components find it with ``crawler.get_extension(Workers)``.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessExpired, ProcessPool
from scrapy import signals

logger = logging.getLogger(__name__)

GRACE = 5.0         # seconds beyond the time limit before a worker is killed (extractors stop themselves first)


class WorkerLimit(Exception):
    """A job exceeded its time or memory limit, or its worker died; str() says which, for the record."""


def _worker_init(memory: int | None) -> None:
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.nice(10)             # extraction yields the CPU to the crawl on a busy machine


def _run(fn: Callable, args: tuple, kwargs: dict) -> Any:
    try:
        return fn(*args, **kwargs)
    except MemoryError:
        raise WorkerLimit("memory limit reached") from None


class Workers:
    def __init__(self, processes: int | None, timeout: float, memory: int | None, stats=None, grace: float = GRACE):
        self.processes = (os.cpu_count() or 1) if processes is None else int(processes)
        self.timeout, self.memory, self.stats, self.grace = float(timeout), memory, stats, grace
        self._pool: ProcessPool | None = None

    @classmethod
    def from_crawler(cls, crawler) -> Workers:
        s = crawler.settings
        workers = s.get("GIKCRAWL_WORKERS")
        ext = cls(None if workers in (None, "") else int(workers), s.getfloat("GIKCRAWL_WORKER_TIMEOUT"),
                  s.getint("GIKCRAWL_WORKER_MEMORY") or None, crawler.stats)
        crawler.signals.connect(ext.close, signal=signals.engine_stopped)
        return ext

    def _started(self) -> ProcessPool:
        if self._pool is None:
            # forkserver: workers do not inherit the reactor's threads and sockets
            self._pool = ProcessPool(max_workers=self.processes, initializer=_worker_init, initargs=(self.memory,),
                                     context=multiprocessing.get_context("forkserver"))
        return self._pool

    async def run(self, fn: Callable, *args, what: str = "", **kwargs) -> Any:
        """fn(*args, **kwargs) in a worker (fn and its arguments picklable); WorkerLimit past a limit."""
        if self.processes == 0:
            return fn(*args, **kwargs)
        future = self._started().schedule(_run, (fn, args, kwargs), timeout=self.timeout + self.grace)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            self._count("timeout")
            raise WorkerLimit(f"not read within the time limit ({self.timeout:g} s, GIKCRAWL_WORKER_TIMEOUT)") \
                from None
        except ProcessExpired as e:
            self._count("died")
            limit = f" (memory limit {self.memory >> 20} MB, GIKCRAWL_WORKER_MEMORY)" if self.memory else ""
            raise WorkerLimit(f"the worker process died (exit code {e.exitcode}){limit}") from None
        except WorkerLimit:
            self._count("memory")
            raise WorkerLimit(f"memory limit reached ({(self.memory or 0) >> 20} MB, GIKCRAWL_WORKER_MEMORY)") \
                from None

    def _count(self, what: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"gikcrawl/workers/{what}")
        logger.warning("worker job stopped: %s", what)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None


def workers_of(crawler) -> Workers:
    """The crawl's pool; without the extension (EXTENSIONS turned it off), jobs run in the crawl's process."""
    found = crawler.get_extension(Workers)
    if found is None:
        found = crawler.__dict__.setdefault("_gikcrawl_inline_workers", Workers(0, 0, None, crawler.stats))
    return found
