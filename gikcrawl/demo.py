"""`gikcrawl demo`: the bundled demo site crawled, archived and parsed, offline, in one command.

The demo site is shipped frozen as files (gikcrawl/demo_site/, written by `python -m gikfixtures.freeze`) and
served on a free port of 127.0.0.1. The output folder belongs to the demo: a second run replaces what the
first wrote (same result, same time), and a folder holding anything else is refused.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .crawl import CrawlError, run_county
from .siteserver import ReplicaServer, load_site

MARKER = ".gikcrawl-demo"
# what a demo run writes (the WARCs and their indexes, the catalog, the feed, the log, run reports)
_OUTPUTS = ("*.warc.gz", "*.warc.gz.open", "*.cdxj", "catalog.sqlite*", "reports.jsonl", "crawl.log", "runs",
            MARKER)


class DemoError(Exception):
    """The demo cannot run (its output folder holds something else)."""


def prepare_out(out: Path) -> None:
    """An empty folder, or one a previous demo wrote (its outputs are removed); anything else: DemoError."""
    out.mkdir(parents=True, exist_ok=True)
    entries = [p for p in out.iterdir() if p.name != ".gitkeep"]
    if not entries:
        return
    if not (out / MARKER).exists():
        raise DemoError(f"{out} is not empty and was not written by `gikcrawl demo`; choose another --out")
    for pattern in _OUTPUTS:
        for path in out.glob(pattern):
            if path.is_dir():
                import shutil
                shutil.rmtree(path)
            else:
                path.unlink()


def run_demo(out: str | Path = "archive", verbose: bool = False) -> int:
    out = Path(out).resolve()
    prepare_out(out)
    (out / MARKER).write_text("written by `gikcrawl demo`; a new demo run replaces this folder's content\n",
                              encoding="utf-8")
    feed = out / "reports.jsonl"
    site = load_site()
    with ReplicaServer(site) as server:
        start = server.url(site, site.start_path)
        print(f"demo site serving on {server.base_url}; crawling {start}")
        stats = run_county({
            "ARCHIVE_DIR": str(out),
            "FEEDS": {str(feed): {"format": "jsonlines", "overwrite": True, "encoding": "utf-8"}},
            # a local server: no need for the delays that protect real government servers
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "INFO" if verbose else "WARNING",
            "LOG_FILE": None if verbose else str(out / "crawl.log"),
        }, site="demo", start_urls=start)
    failures = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("gikcrawl/failures/")}
    formats = ", ".join(f"{k.rsplit('/', 1)[-1]} {v}" for k, v in sorted(stats.items())
                        if k.startswith("gikcrawl/reports/format/"))
    print(f"pages fetched:   {stats.get('downloader/response_count', 0)}")
    print(f"report pages:    {stats.get('gikcrawl/pages/report', 0)}")
    print(f"reports found:   {stats.get('gikcrawl/reports/parsed', 0)}  (formats: {formats})")
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


__all__ = ["CrawlError", "DemoError", "prepare_out", "run_demo"]
