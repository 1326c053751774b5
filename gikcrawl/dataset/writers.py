"""Typed tables to CSV (UTF-8 with BOM, so Excel opens it) and Parquet (pyarrow)."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

from .columns import MONEY_SCALE, Column


def arrow_type(dtype: str):
    import pyarrow as pa
    return {"int": pa.int64(), "signed": pa.int64(), "money": pa.decimal128(24, MONEY_SCALE),
            "ratio": pa.float64(), "str": pa.string(), "bool": pa.bool_(), "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC")}[dtype]


def _typed(value, dtype: str):
    if value is None:
        return None
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
    if dtype == "ratio":               # as Arrow's CSV writer prints it (1, not 1.0)
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value)


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_csv(path: Path, columns: list[Column], rows: list) -> None:
    """Through Arrow's CSV writer (fast); money as the shortest decimal (0.56, not 0.560000), timestamps as
    recorded, booleans true/false, null as an empty cell."""
    import pyarrow.csv as pacsv
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write("\ufeff".encode())                     # BOM: Excel then reads UTF-8
        pacsv.write_csv(arrow_table(columns, rows, for_csv=True), f)
    os.replace(tmp, path)


def _column(c: Column, values: list, for_csv: bool):
    import pyarrow as pa
    if for_csv and c.dtype == "timestamp":
        return pa.array(values, type=pa.string())
    if c.dtype in ("date", "timestamp"):
        values = [_typed(v, c.dtype) for v in values]
    arr = pa.array(values, type=arrow_type(c.dtype))     # Decimals have at most MONEY_SCALE places (flatten)
    if for_csv and c.dtype == "money":             # the decimal without trailing zeros: 0.56, 100
        import pyarrow.compute as pc
        arr = pc.replace_substring_regex(pc.replace_substring_regex(arr.cast(pa.string()), r"(\.\d*?)0+$", r"\1"),
                                         r"\.$", "")
    return arr


def arrow_table(columns: list[Column], rows: list, for_csv: bool = False):
    import pyarrow as pa
    if rows and isinstance(rows[0], tuple):       # rows already in column order
        by_column = list(zip(*rows)) or [()] * len(columns)
        arrays = [_column(c, list(v), for_csv) for c, v in zip(columns, by_column)]
    else:
        arrays = [_column(c, [r.get(c.name) for r in rows], for_csv) for c in columns]
    fields = [pa.field(c.name, a.type, metadata={"label_zh": c.label_zh, "unit": c.unit})
              for c, a in zip(columns, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(path: Path, columns: list[Column], rows: list) -> None:
    import pyarrow.parquet as pq
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(arrow_table(columns, rows), tmp, compression="zstd")
    os.replace(tmp, path)
