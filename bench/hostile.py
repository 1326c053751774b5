"""Hostile-replica benchmark: peak RSS, time to finish and pages spent on the pager trap of a crawl of the
hostile replica (gikcrawl/fixtures/faults.py), against the same TRS site served without faults, in the
same run; each crawl in its own process (peak RSS from wait4).

    python bench/hostile.py [--pages-limit-mb 16]

The bound of issue 16 is a peak RSS of at most 400 MB for the hostile crawl.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.faults import (
    FaultServer,
    build_hostile,
    crawl_measured,
    trap_query,
)
from gikfixtures.replica import ReplicaServer, build_site

MB = 1024 * 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages-limit-mb", type=int, default=16, help="GIKCRAWL_PAGE_MAXSIZE in MB")
    args = ap.parse_args()
    extra = ["-s", f"GIKCRAWL_PAGE_MAXSIZE={args.pages_limit_mb * MB}"]
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer() as offsite:
        site, faults = build_hostile(f"http://localhost:{offsite.port}/")
        plain = build_site("trs", key=site.key, seed=5, n_reports=10)
        with ReplicaServer(plain) as server:
            base = crawl_measured(f"{tmp}/plain", plain, server, *extra)
        with FaultServer(site, faults=faults) as server:
            hostile = crawl_measured(f"{tmp}/hostile", site, server, *extra)
            trap = [n for _, p in server.access_log if (n := trap_query(p)) is not None]
            inflight = server.max_inflight
    for name, r in (("plain replica", base), ("hostile replica", hostile)):
        print(f"{name:16s} peak RSS {r['peak_rss'] / MB:6.0f} MB   {r['seconds']:5.1f} s   "
              f"{len(r['items'])} reports   exit {r['returncode']}")
    print(f"hostile ÷ plain: peak RSS ×{hostile['peak_rss'] / base['peak_rss']:.2f}, "
          f"time ×{hostile['seconds'] / base['seconds']:.2f}")
    print(f"pager trap: {len(trap)} pages fetched (deepest page {max(trap, default=0)}); "
          f"max requests in flight at the server {inflight}")
    failures = {k.rsplit('/', 1)[1]: v for k, v in hostile["stats"].items() if k.startswith("gikcrawl/failures/")}
    print("failures by cause:", ", ".join(f"{k} {v}" for k, v in sorted(failures.items())))
    ok = hostile["peak_rss"] <= 400 * MB
    print(f"bound: peak RSS ≤ 400 MB {'holds' if ok else 'EXCEEDED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
