"""Rendered-crawl benchmark: the county spider with `render: true` on a local replica whose lists are built by
script, through Debian's Chromium. Prints pages/s and peak RSS (the crawler process, and the largest
browser process) for 100 and 200 pages, so memory growth with the number of pages shows.

    python bench/render.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.jsreplica import build_rendered_site  # noqa: E402
from gikfixtures.replica import ReplicaServer  # noqa: E402

MAXRSS = ("import atexit, resource, sys; atexit.register(lambda: sys.stderr.write('MAXRSS_KB %d %d\\n' % ("
          "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))); "
          "from scrapy.cmdline import execute; execute()")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def crawl(pages: int) -> dict:
    site = build_rendered_site(pages)
    with ReplicaServer(site) as server, tempfile.TemporaryDirectory() as tmp:
        sites_yaml = Path(tmp) / "sites.yaml"
        sites_yaml.write_text(yaml.safe_dump({"sites": {site.key: {
            "name": "render bench", "start_urls": [server.url(site, site.start_path)],
            "allowed_domains": ["127.0.0.1"], "render": True}}}), encoding="utf-8")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", MAXRSS, "crawl", "county", "-a", f"site={site.key}",
                                 "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp}/archive",
                                 "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                                 "-s", "LOG_LEVEL=ERROR", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
                                 "-s", "ROBOTSTXT_OBEY=False", "-O", f"{tmp}/reports.jsonl"], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True)
        peak_tree = 0.0
        stop = threading.Event()

        def sample():
            nonlocal peak_tree
            while not stop.is_set():
                peak_tree = max(peak_tree, tree_rss_mb(proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = proc.communicate()
        stop.set()
        elapsed = time.perf_counter() - t0
        fetched = sum(1 for _, path in server.access_log if path.startswith(site.host_path_prefix))  # no favicon
        reports = sum(1 for _ in open(f"{tmp}/reports.jsonl", encoding="utf-8"))
        self_kb, child_kb = next(map(int, line.split()[1:3]) for line in err.splitlines() if line.startswith("MAXRSS_KB"))
    return {"pages": fetched, "reports": reports, "seconds": elapsed, "crawler_mb": self_kb / 1024,
            "browser_mb": child_kb / 1024, "tree_mb": peak_tree, "expected": len(site.reports)}


def main() -> int:
    for pages in (100, 200):
        r = crawl(pages)
        print(f"{r['pages']:4d} pages rendered ({r['reports']}/{r['expected']} reports) in {r['seconds']:5.1f} s -> "
              f"{r['pages'] / r['seconds']:5.1f} pages/s; peak RSS: crawler {r['crawler_mb']:.0f} MB, largest "
              f"browser process {r['browser_mb']:.0f} MB, crawler + browser together {r['tree_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
