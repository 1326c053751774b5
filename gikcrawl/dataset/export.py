"""`gikcrawl export`: records (an archive's catalog or JSONL files) → a dataset folder."""
from __future__ import annotations

import gc
import json
import time
from importlib.metadata import version
from pathlib import Path

from .build import Dataset, build
from .codebook import write_codebook
from .columns import TABLES
from .sources import load_records, warc_record_ids
from .writers import _atomic, write_table

FORMATS = ("csv", "parquet")


def write_dataset(ds: Dataset, out_dir: str | Path, formats=FORMATS) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in ds.tables().items():
        columns = TABLES[name]
        write_table(out, name, columns, rows, formats)
        counts[name] = {"rows": len(rows), "columns": len(columns)}
    write_codebook(out)
    return counts


def export(sources: list[str | Path], out_dir: str | Path, formats=FORMATS) -> tuple[dict, list[str]]:
    """(manifest, problems). Problems are input lines that could not be read (named, and counted)."""
    t0 = time.perf_counter()
    # millions of small objects and no cycles among them: the cyclic collector would only rescan them
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        records, problems = load_records(sources)
        ds = build(records, record_ids=warc_record_ids(sources))
        counts = write_dataset(ds, out_dir, formats)
    finally:
        if gc_was_on:
            gc.enable()
    manifest = {
        "sources": [str(s) for s in sources], "records_read": len(records), "records_skipped": len(problems),
        "reports": len(ds.reports), "duplicates_of_same_capture": len(records) - len(ds.reports),
        "tables": counts, "formats": list(formats),
        "checks_failed": {scope: sum(1 for c in ds.checks if c["scope"] == scope and not c["ok"])
                          for scope in ("report", "cross_year", "duplicate")},
        "software": {"gikcrawl": version("gikcrawl"), "cnloc": version("cnloc"), "pyarrow": version("pyarrow")},
        "seconds": round(time.perf_counter() - t0, 3),
    }
    _atomic(Path(out_dir) / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    return manifest, problems
