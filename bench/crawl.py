"""Crawl benchmark: the county spider on a ~2,000-page local replica with archiving on and off, against a
plain Scrapy spider crawling the same pages, all in the same run.

    python bench/crawl.py [--pages 2000] [--concurrency 8]

Prints pages/s and peak RSS of each crawl (each in its own process), the ratio archiving on ÷ off and
the ratio gikcrawl ÷ plain Scrapy.
Both run with the same concurrency and no download delay (a local server); the county spider also
decodes, parses every report and writes the catalog and the feed.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.replica import ReplicaServer, build_large_site  # noqa: E402

MAXRSS = ("import atexit, resource, sys; atexit.register(lambda: sys.stderr.write("
          "'MAXRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)); "
          "from scrapy.cmdline import execute; execute()")


def run(args: list[str], server: ReplicaServer, settings: list[str]) -> dict:
    before = len(server.access_log)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MAXRSS, *args, *settings], cwd=ROOT,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"crawl failed:\n{proc.stderr[-3000:]}")
    pages = len(server.access_log) - before
    rss = int(re.search(r"MAXRSS_KB (\d+)", proc.stderr).group(1)) / 1024
    return {"pages": pages, "seconds": elapsed, "pages_per_s": pages / elapsed, "rss_mb": rss}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    site = build_large_site(a.pages)
    with ReplicaServer(site) as server, tempfile.TemporaryDirectory() as tmp:
        start = server.url(site, site.start_path)
        sites_yaml = Path(tmp) / "sites.yaml"
        sites_yaml.write_text(yaml.safe_dump({"sites": {site.key: {
            "name": "bench replica", "start_urls": [start], "allowed_domains": ["127.0.0.1"]}}}), encoding="utf-8")
        common = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING",
                  "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={a.concurrency}", "-s", "ROBOTSTXT_OBEY=False"]
        lists = Path(tmp) / "lists.txt"
        lists.write_text("\n".join(server.url(site, p) for p in site.list_pages), encoding="utf-8")
        plain = run(["runspider", str(ROOT / "bench" / "plain_spider.py"), "-a", f"start={start}",
                     "-a", f"lists={lists}"], server,
                    common + ["-s", "TELNETCONSOLE_ENABLED=False"])
        county_args = ["crawl", "county", "-a", f"site={site.key}"]
        county_settings = common + ["-s", f"SITES_CONFIG={sites_yaml}", "-O", f"{tmp}/reports.jsonl"]
        no_warc = run(county_args, server, county_settings + ["-s", f"ARCHIVE_DIR={tmp}/a0", "-s", "WARC_ENABLED=False"])
        county = run(county_args, server, county_settings + ["-s", f"ARCHIVE_DIR={tmp}/a1"])
        reports = sum(1 for _ in open(f"{tmp}/reports.jsonl", encoding="utf-8"))
        warc_bytes = sum(p.stat().st_size for p in Path(f"{tmp}/a1").glob("*.warc.gz"))
    print(f"replica: {len(site.pages)} pages ({len(site.reports)} reports), concurrency {a.concurrency}")
    for name, r in (("plain scrapy", plain), ("county, no WARC", no_warc), ("county + WARC", county)):
        print(f"{name:16s} {r['pages']:5d} pages in {r['seconds']:6.1f} s -> {r['pages_per_s']:6.1f} pages/s, "
              f"peak RSS {r['rss_mb']:.0f} MB")
    print(f"reports parsed by gikcrawl: {reports}; WARC written: {warc_bytes / 1e6:.1f} MB")
    print(f"ratio county (with archiving) / plain scrapy (pages/s): {county['pages_per_s'] / plain['pages_per_s']:.2f}")
    print(f"ratio archiving on / off (pages/s): {county['pages_per_s'] / no_warc['pages_per_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
