"""Reactor stalls while attachments are extracted: the county spider on a local replica of 200 HTML pages
plus 10 report pages whose only carrier is a scanned PDF (OCR), against the same crawl without the PDFs, and
against the old way (extraction in the crawl's own process, GIKCRAWL_WORKERS=0), all in the same run.

    python bench/stall.py [--pages 200] [--pdfs 10] [--baseline-pdfs 3] [--dpi 120]

Prints, per crawl: the longest reactor stall (a 20 ms LoopingCall, bench/stallprobe.py), the HTML pages'
fetch rate (HTML responses ÷ the time from the first to the last), and the ratios. Targets (issue #13): stall
≤ 0.5 s with the pool; HTML rate with PDFs within 10 % of the rate without.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikcrawl import settings as project
from gikfixtures import docgen, reportgen
from gikfixtures.replica import Page, ReplicaServer, build_large_site


def add_scanned_reports(site, n: int, dpi: int) -> None:
    start = site.pages[site.start_path]
    items = []
    for i in range(n):
        t = reportgen.make_report(900 + i, "2021")
        page, pdf = f"{site.host_path_prefix}scan/r{i}.html", f"{site.host_path_prefix}scan/r{i}.pdf"
        site.pages[page] = Page(200, {"Content-Type": "text/html; charset=utf-8"}, (
            f"<html><head><meta charset='utf-8'><title>{t.title}</title></head><body><h1>{t.title}</h1>"
            f"<p>附件：<a href='{pdf}'>{t.title}.pdf</a></p></body></html>").encode())
        site.pages[pdf] = Page(200, {"Content-Type": "application/pdf"}, docgen.scanned_pdf(t, dpi=dpi))
        items.append(f"<li><a href='{page}'>{t.title}</a></li>")
    start.body = start.body.replace(b"</ul>", "".join(items).encode() + b"</ul>", 1)


def crawl(server, site, tmp: Path, name: str, workers: str | None, inline: int | None = None) -> dict:
    sites_yaml = tmp / f"{name}.yaml"
    sites_yaml.write_text(yaml.safe_dump({"sites": {site.key: {
        "name": "bench", "start_urls": [server.url(site, site.start_path)], "allowed_domains": ["127.0.0.1"]}}}))
    out = tmp / f"{name}.json"
    extensions = dict(project.EXTENSIONS, **{"stallprobe.StallProbe": 900})
    cmd = [sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
           "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp / name}", "-s", "DOWNLOAD_DELAY=0",
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False", "-s", "LOG_LEVEL=WARNING",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", f"EXTENSIONS={json.dumps(extensions)}",
           "-s", f"STALLPROBE_OUT={out}", "-s", "GIKCRAWL_WORKER_TIMEOUT=600", "-O", str(tmp / f"{name}.jsonl")]
    if workers is not None:
        cmd += ["-s", f"GIKCRAWL_WORKERS={workers}"]
    if inline is not None:
        cmd += ["-s", f"GIKCRAWL_INLINE_PAGE_SIZE={inline}"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), str(ROOT)]))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"crawl {name} failed:\n{proc.stderr[-3000:]}")
    probe = json.loads(out.read_text())
    times = probe["html_times"]
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    reports = sum(1 for _ in open(tmp / f"{name}.jsonl", encoding="utf-8"))
    return {"stall": probe["max_stall"], "html": len(times), "rate": rate, "seconds": time.monotonic() - t0,
            "reports": reports, "stalls": probe.get("stalls", []), "html_span": probe.get("html_span")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--pdfs", type=int, default=10)
    ap.add_argument("--baseline-pdfs", type=int, default=3, help="scanned PDFs in the in-process crawl")
    ap.add_argument("--dpi", type=int, default=120, help="resolution of the scans")
    a = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, n_pdfs, workers, inline in (
                ("html only", 0, None, None), ("html only, pages in pool", 0, None, 0),
                ("html + PDFs, pool", a.pdfs, None, None), ("html + PDFs, in-process", a.baseline_pdfs, "0", None)):
            site = build_large_site(a.pages, key="stall")
            add_scanned_reports(site, n_pdfs, a.dpi)
            with ReplicaServer(site) as server:
                results[name] = r = crawl(server, site, Path(tmp), name.replace(" ", "_").replace(",", ""), workers,
                                          inline)
            print(f"{name:26s} {n_pdfs:2d} scanned PDFs: longest reactor stall {r['stall']:6.2f} s; "
                  f"{r['html']} HTML pages at {r['rate']:6.1f} pages/s; {r['reports']} reports; "
                  f"{r['seconds']:.0f} s in all", flush=True)
            span = r["html_span"] and f"{r['html_span'][0]:.1f}-{r['html_span'][1]:.1f} s"
            print(f"{'':26s} HTML fetched {span} after the start; stalls over 0.1 s (at s, for s): "
                  f"{r['stalls'][:12]}{' …' if len(r['stalls']) > 12 else ''}", flush=True)
    base, pool, inline = results["html only"], results["html + PDFs, pool"], results["html + PDFs, in-process"]
    print(f"workers: {os.cpu_count()} (GIKCRAWL_WORKERS default), scans at {a.dpi} dpi")
    print(f"longest stall with the pool: {pool['stall']:.2f} s (target <= 0.5 s); in-process: {inline['stall']:.2f} s "
          f"(ratio in-process / pool: {inline['stall'] / max(pool['stall'], 1e-3):.0f}x)")
    print(f"ratio HTML rate with PDFs / without (pool): {pool['rate'] / base['rate']:.2f} (target >= 0.90); "
          f"in-process: {inline['rate'] / base['rate']:.2f}")
    every = results["html only, pages in pool"]
    print(f"html only, every page parsed in a worker (GIKCRAWL_INLINE_PAGE_SIZE=0): stall {every['stall']:.2f} s, "
          f"rate ratio to inline parsing {every['rate'] / base['rate']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
