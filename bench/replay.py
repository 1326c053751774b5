"""Replay benchmark: `gikcrawl replay` over a WARC of ≥ 2,000 report pages with --jobs 1 and --jobs 2,
beside the baseline "warcio iteration + trafilatura.extract" on the same records, in the same run.

    python bench/replay.py [--pages 2200]

The archive is made first by crawling a local replica with the county spider (not timed).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from gikfixtures.replica import ReplicaServer, build_large_site  # noqa: E402
from gikcrawl.replay import replay  # noqa: E402


def make_archive(tmp: Path, pages: int) -> Path:
    site = build_large_site(pages)
    with ReplicaServer(site) as server:
        sites_yaml = tmp / "sites.yaml"
        sites_yaml.write_text(yaml.safe_dump({"sites": {site.key: {
            "name": "bench", "start_urls": [server.url(site, site.start_path)], "allowed_domains": ["127.0.0.1"]}}}),
            encoding="utf-8")
        subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
                        "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp / 'archive'}",
                        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR",
                        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"], cwd=ROOT, check=True)
    return tmp / "archive"


def baseline(archive: Path) -> tuple[int, float]:
    """warcio iteration over every file + trafilatura.extract on each report page."""
    t0, n = time.perf_counter(), 0
    for warc in sorted(archive.glob("*.warc.gz")):
        with open(warc, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type != "response" or rec.rec_headers.get_header("WARC-Gikcrawl-Kind") != "report":
                    continue
                if rec.http_headers.get_statuscode() != "200":
                    continue
                trafilatura.extract(rec.content_stream().read(), include_tables=True)
                n += 1
    return n, time.perf_counter() - t0


def timed_replay(archive: Path, jobs: int) -> tuple[int, float]:
    out = []
    t0 = time.perf_counter()
    n, problems = replay([archive], out.append, jobs=jobs, progress=False)
    assert not problems, problems[:3]
    return n, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = make_archive(Path(tmp), a.pages)
        size = sum(p.stat().st_size for p in archive.glob("*.warc.gz"))
        base_n, base_t = baseline(archive)
        one_n, one_t = timed_replay(archive, 1)
        two_n, two_t = timed_replay(archive, 2)
    print(f"archive: {size / 1e6:.1f} MB, {base_n} report pages")
    print(f"baseline warcio + trafilatura.extract: {base_n} records in {base_t:6.2f} s -> {base_n / base_t:7.1f} records/s")
    print(f"gikcrawl replay --jobs 1:             {one_n} records in {one_t:6.2f} s -> {one_n / one_t:7.1f} records/s")
    print(f"gikcrawl replay --jobs 2:             {two_n} records in {two_t:6.2f} s -> {two_n / two_t:7.1f} records/s")
    print(f"--jobs 1 time / baseline time: {one_t / base_t:.2f} (target <= 1.25)")
    print(f"--jobs 2 throughput / --jobs 1: {(two_n / two_t) / (one_n / one_t):.2f} (target >= 1.7)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
