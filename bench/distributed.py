"""Distributed-crawl benchmark: pages/s of the county spider on a local replica with 1 and with 2 workers
sharing one Redis frontier (redis-server started here on a free port). On a 2-core machine that also runs
the replica server and Redis, expect less than 2×.

    python bench/distributed.py [--pages 1000]
"""
from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.replica import ReplicaServer, build_large_site  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(site, workers: int, tmp: Path) -> tuple[int, float]:
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        with ReplicaServer(site) as server:
            sites_yaml = tmp / f"sites{workers}.yaml"
            sites_yaml.write_text(yaml.safe_dump({"sites": {site.key: {
                "name": "bench", "start_urls": [server.url(site, site.start_path)],
                "allowed_domains": ["127.0.0.1"]}}}), encoding="utf-8")
            t0 = time.perf_counter()
            procs = [subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
                                       "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp}/a{workers}",
                                       "-s", f"REDIS_URL=redis://127.0.0.1:{port}/0", "-s", f"WARC_WORKER_ID=w{i}",
                                       "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                                       "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=ERROR",
                                       "-s", "GIKCRAWL_WORKER_TTL=3", "-s", "ROBOTSTXT_OBEY=False"], cwd=ROOT)
                     for i in range(workers)]
            for p in procs:
                p.wait()
            elapsed = time.perf_counter() - t0
            pages = len(server.access_log)
    finally:
        redis.terminate()
        redis.wait()
    return pages, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    a = ap.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("redis-server not found: apt-get install redis-server")
    site = build_large_site(a.pages)
    with tempfile.TemporaryDirectory() as tmp:
        one = run(site, 1, Path(tmp))
        two = run(site, 2, Path(tmp))
    for n, (pages, secs) in ((1, one), (2, two)):
        print(f"{n} worker{'s' if n > 1 else ' '}: {pages} pages in {secs:5.1f} s -> {pages / secs:6.1f} pages/s")
    print(f"speed-up with 2 workers: {(two[0] / two[1]) / (one[0] / one[1]):.2f}x (2 cores, shared with the "
          f"replica server and Redis)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
