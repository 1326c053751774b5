"""The archive in replay tools, after three periodic runs of a replica site (new, new, --refresh all):

- pywb: report pages and attachments answered 200 with their archived body, with cdxj-indexer's own
  indexes (the baseline) and with gikcrawl's corrected ones (needs `make replay-env`);
- the cost of the corrections: seconds to index the WARCs with cdxj-indexer alone vs gikcrawl's write_index;
- seconds of `gikcrawl wacz` vs py-wacz's `wacz create` on the same WARCs.

    python bench/replay_tools.py [--reports 40]
"""
from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from cdxj_indexer import CDXJIndexer
from warcio.archiveiterator import ArchiveIterator

from gikcrawl.archive.cdxj import index_path, write_index
from gikfixtures.replica import ReplicaServer, build_site
from gikcrawl.serve import ServeError, find_pywb

BIN = Path(sys.executable).parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0", "-s", "LOG_LEVEL=WARNING"]


def three_runs(tmp: Path, n_reports: int):
    site = build_site("hanweb", seed=21, n_reports=n_reports)
    server = ReplicaServer(site)
    sites = tmp / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": {site.key: {"name": "bench", "start_urls": [server.url(site, site.start_path)],
                                                          "allowed_domains": ["127.0.0.1"]}}}), encoding="utf-8")
    out = tmp / "archive"
    for extra in ([], [], ["--refresh", "all"]):
        subprocess.run([str(BIN / "gikcrawl"), "archive", "-s", f"SITES_CONFIG={sites}", "-s", f"ARCHIVE_DIR={out}",
                        *FAST, *extra], check=True, capture_output=True)
    return server, site, out


def newest_bodies(archive: Path, urls: set[str]) -> dict[str, bytes]:
    out: dict[str, tuple[str, bytes]] = {}
    for w in sorted(archive.glob("*.warc.gz")):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                uri = rec.rec_headers.get_header("WARC-Target-URI")
                if rec.rec_type == "response" and uri in urls:
                    date = rec.rec_headers.get_header("WARC-Date")
                    if uri not in out or date > out[uri][0]:
                        out[uri] = (date, rec.content_stream().read())
    return {u: b for u, (_, b) in out.items()}


def pywb_served(archive: Path, bodies: dict[str, bytes], wayback: Path) -> int:
    proc = subprocess.Popen([str(BIN / "gikcrawl"), "serve", str(archive), "--port", "0", "--pywb", str(wayback)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = proc.stdout.readline().split(" at ", 1)[1].split(" ", 1)[0]
        for _ in range(200):
            try:
                urllib.request.urlopen(base, timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        ok = 0
        for url, body in bodies.items():
            try:
                with urllib.request.urlopen(f"{base}2100id_/{url}", timeout=30) as r:
                    got = r.read()
                    if r.headers.get("Content-Encoding") == "gzip":
                        got = gzip.decompress(got)
                    ok += r.status == 200 and got == body
            except urllib.error.HTTPError:
                pass
        return ok
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        server, site, archive = three_runs(tmp, args.reports)
        try:
            warcs = sorted(archive.glob("*.warc.gz"))
            urls = {server.base_url + p for p in list(site.reports) + site.attachments}
            bodies = newest_bodies(archive, urls)
            raw = tmp / "raw"                          # the same WARCs, indexed by cdxj-indexer alone
            raw.mkdir()
            t0 = time.perf_counter()
            for w in warcs:
                (raw / w.name).symlink_to(w)
                CDXJIndexer(output=str(index_path(raw / w.name)), inputs=[str(raw / w.name)], sort=True,
                            post_append=True).process_all()
            t_plain = time.perf_counter() - t0
            t0 = time.perf_counter()
            for w in warcs:
                write_index(w)
            t_ours = time.perf_counter() - t0
            print(f"{len(warcs)} WARCs, {sum(w.stat().st_size for w in warcs) / 1e6:.1f} MB, "
                  f"{len(bodies)} report pages and attachments")
            print(f"index: cdxj-indexer {t_plain:.2f} s, gikcrawl write_index {t_ours:.2f} s "
                  f"(ratio {t_ours / t_plain:.2f})")
            t0 = time.perf_counter()          # both as commands: the same start-up (imports) in each
            subprocess.run([str(BIN / "gikcrawl"), "wacz", str(archive), "-o", str(tmp / "ours.wacz")], check=True,
                           capture_output=True)
            t_wacz = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([str(BIN / "wacz"), "create", "-o", str(tmp / "plain.wacz"), *map(str, warcs)],
                           check=True, capture_output=True)
            t_plain_wacz = time.perf_counter() - t0
            print(f"wacz: py-wacz create {t_plain_wacz:.2f} s, gikcrawl wacz {t_wacz:.2f} s "
                  f"(ratio {t_wacz / t_plain_wacz:.2f})")
            try:
                wayback = find_pywb()
            except ServeError as e:
                print(f"pywb: skipped ({e})")
                return
            print(f"pywb, served with their archived body: cdxj-indexer's indexes {pywb_served(raw, bodies, wayback)}"
                  f"/{len(bodies)}, gikcrawl's {pywb_served(archive, bodies, wayback)}/{len(bodies)}")
        finally:
            server.close()


if __name__ == "__main__":
    main()
