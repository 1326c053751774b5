"""Reading a dataset folder back, and checking it against the records cell by cell."""
import csv
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from gikcrawl.dataset.columns import FIGURE_NAMES, T2_INDEX, TABLES
from gikcrawl.dataset.flatten import report_id


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM (Excel would misread it)"
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_parquet(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def record_cells(record: dict) -> dict:
    """(table, row, column) → value for every figure of a record, and the wide column each belongs in."""
    out = {}
    tables = record.get("tables") or {}
    for e in tables.get("active_disclosure") or []:
        out[("active_disclosure", e["item"], e["column"])] = (e["value"], T2_INDEX.get((record["format"], e["item"],
                                                                                          e["column"])))
    for key, row in (tables.get("applications") or {}).items():
        for col, v in row.items():
            out[("applications", key, col)] = (v, f"t3_{key}_{col}")
    for group, row in (tables.get("review_litigation") or {}).items():
        for col, v in row.items():
            out[("review_litigation", group, col)] = (v, f"t4_{group}_{col}")
    for e in tables.get("legacy") or []:
        out[("legacy", e["indicator"], "")] = (e["value"], None)
    return out


def _same(cell_csv: str, cell_pq, value) -> bool:
    if value is None:
        return cell_csv == "" and cell_pq is None
    if isinstance(value, float) and not float(value).is_integer() or isinstance(cell_pq, Decimal):
        want = Decimal(repr(float(value)))
        return Decimal(cell_csv) == want and Decimal(cell_pq) == want
    return int(cell_csv) == value and cell_pq == value and not isinstance(cell_pq, float)


def assert_round_trip(records: list[dict], out: Path) -> dict:
    """Every figure of every record is in the wide table (when it has a column) and in the long table, with
    the same value, in CSV and in Parquet; every other figure column of its row is empty."""
    rep_csv = {r["report_id"]: r for r in read_csv(out / "reports.csv")}
    rep_pq = {r["report_id"]: r for r in read_parquet(out / "reports.parquet")}
    long_csv = read_csv(out / "figures_long.csv")
    long_pq = read_parquet(out / "figures_long.parquet")
    assert len(long_csv) == len(long_pq)
    longs: dict = {}
    for c, p in zip(long_csv, long_pq):
        assert c["report_id"] == p["report_id"] and c["row"] == (p["row"] or "")
        longs[(c["report_id"], c["table"], c["row"], c["column"])] = (c["value"], p["value"])
    ids = {report_id(r) for r in records}
    assert set(rep_csv) == set(rep_pq) == ids
    n_cells = 0
    for record in records:
        rid = report_id(record)
        row_c, row_p = rep_csv[rid], rep_pq[rid]
        assert row_c["year"] == str(record["year"] or "") and row_p["year"] == record["year"]
        assert row_c["agency"] == (record["agency"] or "") and row_c["template"] == record["format"]
        filled = set()
        cells = record_cells(record)
        for (table, row, col), (value, wide) in cells.items():
            lc, lp = longs[(rid, table, row, col)]
            assert _same(lc, lp, value), (rid, table, row, col, value, lc, lp)
            if wide:
                assert _same(row_c[wide], row_p[wide], value), (rid, wide, value, row_c[wide], row_p[wide])
                filled.add(wide)
            n_cells += 1
        for name in set(FIGURE_NAMES) - filled:        # not in this report's template, or absent: empty, not 0
            assert row_c[name] == "" and row_p[name] is None, (rid, name, row_c[name])
        assert sum(1 for k in longs if k[0] == rid) == len(cells)
    return {"reports": len(rep_csv), "cells": n_cells}


def assert_codebook_covers(out: Path) -> None:
    book = read_csv(out / "codebook.csv")
    for table, columns in TABLES.items():
        with open(out / f"{table}.csv", encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f))
        documented = [r["column"] for r in book if r["table"] == table]
        assert documented == [c.name for c in columns]
        assert header == documented, table
        schema = pq.read_schema(out / f"{table}.parquet")
        assert schema.names == documented
    for r in book:
        assert r["label_zh"] and r["type"], r
        if r["table"] == "reports" and r["column"].startswith(("t2_", "t3_", "t4_")):
            assert r["templates"] and r["unit"] and r["crosswalk_2019_2021"], r
    md = (out / "codebook.md").read_text(encoding="utf-8")
    for r in book:
        assert f"`{r['column']}`" in md, r["column"]
