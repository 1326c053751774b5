"""`gikcrawl demo`: the bundled demo replica crawled, archived and parsed, offline, in one command."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .crawl import run_county
from .fixtures.replica import ReplicaServer, build_demo_site


def run_demo(out: str | Path = "archive", verbose: bool = False) -> int:
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    feed = out / "reports.jsonl"
    site = build_demo_site()
    with ReplicaServer(site) as server:
        start = server.url(site, site.start_path)
        print(f"demo replica serving on {server.base_url}; crawling {start}")
        stats = run_county({
            "ARCHIVE_DIR": str(out),
            "FEEDS": {str(feed): {"format": "jsonlines", "overwrite": True, "encoding": "utf-8"}},
            # a local server: no need for the delays that protect real government servers
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "INFO" if verbose else "WARNING",
            "LOG_FILE": None if verbose else str(out / "crawl.log"),
        }, site="demo", start_urls=start)
    failures = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("gikcrawl/failures/")}
    print(f"pages fetched:   {stats.get('downloader/response_count', 0)}")
    print(f"report pages:    {stats.get('gikcrawl/pages/report', 0)}")
    print(f"reports found:   {stats.get('gikcrawl/reports/parsed', 0)}"
          f"  (formats: {', '.join(f'{k.rsplit(chr(47), 1)[-1]} {v}' for k, v in sorted(stats.items()) if k.startswith('gikcrawl/reports/format/'))})")
    print(f"checks failed:   {stats.get('gikcrawl/reports/checks_failed', 0)} reports")
    print(f"not reports:     {stats.get('gikcrawl/reports/not_a_report', 0)} pages skipped")
    print(f"failures:        {failures or 'none'}")
    catalog = out / "catalog.sqlite"
    if catalog.exists():
        with sqlite3.connect(catalog) as db:
            n_fetch = db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0]
            n_rep = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        print(f"catalog:         {catalog} ({n_fetch} fetches, {n_rep} reports)")
    print(f"reports:         {feed}")
    return 0 if stats.get("gikcrawl/reports/parsed") else 1
