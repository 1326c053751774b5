"""Client CPU per page of the Redis frontier, by protocol, measured in one process against one redis-server:

  per-request  the calls as a worker made them before issue 17 points 3-4: every link enqueued with its own
               script call, one request per pop, the end of a callback (done) a call of its own
  batched      what a worker does now: a callback's links added locally (fingerprints it already sent are
               dropped before serialising) and sent with its done in one call; up to 32 hosts per pop

Both go through the same scripts on the same Redis, over the same simulated crawl (no HTTP, no parsing: only
the frontier's own work): H hosts, list pages of 15 report links + the next list page + 2 links already
seen, report pages without links; every request passes the host gate and is released. process_time is
the client's CPU (valid on a loaded machine), Redis's own CPU comes from /proc.

    python bench/frontier_cost.py [--hosts 200] [--pages 60]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import scrapy
from scrapy.crawler import Crawler
from scrapy.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikcrawl import distributed  # noqa: E402


class _Spider(scrapy.Spider):
    name = "frontier-cost"


def frontier(url: str, run: str) -> distributed.Frontier:
    s = Settings({"GIKCRAWL_HOST_DELAY": 0.001, "GIKCRAWL_HOST_MARGIN": 0.0, "GIKCRAWL_WORKER_TTL": 15.0})
    spider = _Spider()
    spider.crawler = Crawler(_Spider, s)
    return distributed.Frontier(distributed.redis_from_url(url), run, spider, s, worker="w1")


def links(url: str, pages: int) -> list[str]:
    """What the page at url links to: a list page its reports, the next list and two pages seen before."""
    host, _, path = url[7:].partition("/")
    if not path.startswith("list"):
        return []
    n = int(path[4:])
    base = f"http://{host}/"
    out = [f"{base}r{n * 15 + m}" for m in range(15) if n * 16 + m < pages]
    if (n + 1) * 16 < pages:
        out.append(f"{base}list{n + 1}")
    return out + [f"{base}list{max(0, n - 1)}", f"{base}r{max(0, n * 15 - 1)}"]


async def crawl(f: distributed.Frontier, hosts: int, pages: int, batched: bool) -> int:
    for h in range(hosts):
        f.enqueue(scrapy.Request(f"http://h{h}.example/list0"))
    done = 0
    while True:
        got = f.pop_many(32) if batched else [r for r in [f.pop()] if r is not None]
        if not got:
            if f.next_ready_ms < 0:
                return done
            await asyncio.sleep(f.next_ready_ms / 1000)
            continue
        for request in got:
            unit = f.unit(request)
            await f.gate(unit, 0.001)
            f.release(unit, 0.001)
            for url in links(request.url, pages):
                child = scrapy.Request(url)
                if batched:
                    f.add(child)
                else:
                    f.enqueue(child)
            f.done(request)
            done += 1


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--pages", type=int, default=60, help="pages per host")
    a = ap.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("redis-server not found")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    url = f"redis://127.0.0.1:{port}/0"
    rows = []
    try:
        for name, batched in (("per-request", False), ("batched", True), ("per-request", False), ("batched", True)):
            f = frontier(url, f"{name}-{len(rows)}")
            cpu, rcpu, wall = time.process_time(), cpu_seconds(server.pid), time.monotonic()
            n = asyncio.run(crawl(f, a.hosts, a.pages, batched))
            rows.append((name, n, 1000 * (time.process_time() - cpu) / n, 1000 * (cpu_seconds(server.pid) - rcpu) / n,
                         1000 * (time.monotonic() - wall) / n))
    finally:
        server.terminate()
        server.wait()
    print(f"{a.hosts} hosts x {a.pages} pages, same run; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'protocol':12s} {'pages':>7s} {'client CPU ms/page':>19s} {'Redis CPU ms/page':>18s} {'wall ms/page':>13s}")
    for name, n, c, r, w in rows:
        print(f"{name:12s} {n:7d} {c:19.3f} {r:18.3f} {w:13.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
