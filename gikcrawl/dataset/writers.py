"""Typed tables to CSV (UTF-8 with BOM, so Excel opens it) and Parquet (pyarrow)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

from .columns import MONEY_SCALE, Column

_QUANT = Decimal(1).scaleb(-MONEY_SCALE)


def arrow_type(dtype: str):
    import pyarrow as pa
    return {"int": pa.int64(), "signed": pa.int64(), "money": pa.decimal128(24, MONEY_SCALE),
            "ratio": pa.float64(), "str": pa.string(), "bool": pa.bool_(), "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC")}[dtype]


def _typed(value, dtype: str):
    if value is None:
        return None
    if dtype == "money":
        return Decimal(value).quantize(_QUANT)
    if dtype == "date":
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    if dtype == "timestamp":
        try:
            t = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return value


def csv_cell(value, dtype: str) -> str:
    if value is None:
        return ""
    if dtype == "bool":
        return "true" if value else "false"
    if dtype == "money":
        d = Decimal(value).normalize()
        return format(d, "f")
    if dtype == "ratio":
        return repr(float(value))
    return str(value)


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_csv(path: Path, columns: list[Column], rows: list[dict]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.name for c in columns])
    for row in rows:
        w.writerow([csv_cell(row.get(c.name), c.dtype) for c in columns])
    _atomic(path, buf.getvalue().encode("utf-8-sig"))


def arrow_table(columns: list[Column], rows: list[dict]):
    import pyarrow as pa
    arrays = [pa.array([_typed(r.get(c.name), c.dtype) for r in rows], type=arrow_type(c.dtype)) for c in columns]
    fields = [pa.field(c.name, arrow_type(c.dtype), metadata={"label_zh": c.label_zh, "unit": c.unit})
              for c in columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(path: Path, columns: list[Column], rows: list[dict]) -> None:
    import pyarrow.parquet as pq
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(arrow_table(columns, rows), tmp, compression="zstd")
    os.replace(tmp, path)
