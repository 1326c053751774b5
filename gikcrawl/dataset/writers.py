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


def _column(c: Column, values: list):
    import pyarrow as pa
    if c.dtype in ("date", "timestamp"):
        values = [_typed(v, c.dtype) for v in values]
    return pa.array(values, type=arrow_type(c.dtype))     # Decimals have at most MONEY_SCALE places (flatten)


def arrow_table(columns: list[Column], rows: list):
    """The typed table (Parquet's); rows are dicts, or tuples in column order."""
    import pyarrow as pa
    if rows and isinstance(rows[0], tuple):
        arrays = [_column(c, list(v)) for c, v in zip(columns, zip(*rows))]
    else:
        arrays = [_column(c, [r.get(c.name) for r in rows]) for c in columns]
    fields = [pa.field(c.name, a.type, metadata={"label_zh": c.label_zh, "unit": c.unit})
              for c, a in zip(columns, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def csv_view(table, columns: list[Column], rows: list):
    """The table as the CSV shows it: money as the shortest decimal (0.56, not 0.560000), timestamps as
    recorded (2024-03-01T00:00:00Z)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    for i, c in enumerate(columns):
        if c.dtype == "money":
            text = pc.replace_substring_regex(table.column(i).cast(pa.string()), r"(\.\d*?)0+$", r"\1")
            table = table.set_column(i, c.name, pc.replace_substring_regex(text, r"\.$", ""))
        elif c.dtype == "timestamp":
            raw = [r[i] for r in rows] if rows and isinstance(rows[0], tuple) else [r.get(c.name) for r in rows]
            table = table.set_column(i, c.name, pa.array(raw, type=pa.string()))
    return table


def write_table(out_dir: Path, name: str, columns: list[Column], rows: list, formats) -> None:
    """name.parquet and/or name.csv (UTF-8 with BOM, through Arrow's CSV writer: booleans true/false, null
    as an empty cell), from one typed table."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    table = arrow_table(columns, rows)
    if "parquet" in formats:
        path = out_dir / f"{name}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    if "csv" in formats:
        path = out_dir / f"{name}.csv"
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write("\ufeff".encode())                 # BOM: Excel then reads UTF-8
            pacsv.write_csv(csv_view(table, columns, rows), f)
        os.replace(tmp, path)
