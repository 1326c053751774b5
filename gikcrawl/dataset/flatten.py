"""One record (report.schema.json) → one flat reports row, its long (tidy) figure rows, warnings and checks.

Pure and per record: what needs other reports (agency regions in bulk, duplicates, cross-year checks,
year-on-year indicators) is added by `gikcrawl.dataset.build`.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal

from gikcrawl.parser.templates import APPLICATION_ROWS

from .columns import FIGURES, MONEY_SCALE, REPORT_COLUMN_NAMES, T2_INDEX

_T3 = {c.source[1:]: c.name for c in FIGURES if c.table == "table3"}
_T4 = {c.source[1:]: c.name for c in FIGURES if c.table == "table4"}
_APP_LABELS = {fmt: {r.key: r.label for r in rows} for fmt, rows in APPLICATION_ROWS.items()}
_T3_LABEL = {c.source[1:]: c.label_zh for c in FIGURES if c.table == "table3"}
_T4_LABEL = {c.source[1:]: c.label_zh for c in FIGURES if c.table == "table4"}
_QUANT = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY = {c.name for c in FIGURES if c.dtype == "money"}


def report_id(record: dict) -> str:
    src = record.get("source") or {}
    where = src.get("url") or src.get("path") or record.get("title") or ""
    return "r-" + hashlib.sha1(f"{where}|{src.get('payload_digest') or ''}".encode()).hexdigest()[:16]


def _figures_carrier(record: dict) -> dict:
    """The carrier the figures came from (its WARC location), else the record's source."""
    src = record.get("source") or {}
    fr = record.get("figures_from") or {}
    for c in record.get("carriers") or []:
        if fr and c.get("url") == fr.get("url") and c.get("carrier") == fr.get("carrier"):
            if c.get("url") == src.get("url"):
                return {**src, **{k: v for k, v in c.items() if k.startswith(("warc_", "payload_")) and v is not None}}
            # an attachment: its own location; carriers carry no record id (the catalog's fetches do)
            return {"warc_file": c.get("warc_file"), "warc_offset": c.get("warc_offset"),
                    "warc_record_id": c.get("warc_record_id"), "payload_digest": c.get("payload_digest")}
    return src


def money(v) -> Decimal | None:
    """A 万元 amount as a decimal, from the record's float without binary noise (0.56, not 0.56000000000000005)."""
    return None if v is None else Decimal(repr(float(v)))


def _decimal(v, where: str, problems: list[str]) -> Decimal | None:
    """A decimal figure; one that is not a number, or finer than the dataset keeps, is left null with a warning."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        problems.append(f"{where}: value {v!r} is not a number; left empty")
        return None
    d = money(v)
    if d != d.quantize(_QUANT):
        problems.append(f"{where}: value {v} has more than {MONEY_SCALE} decimals; left empty")
        return None
    return d


def _count(v, where: str, problems: list[str], signed: bool = False):
    """Counts are integers; anything else is left null with a warning naming the cell."""
    if v is None or (type(v) is int and (v >= 0 or signed)):     # the common case, first
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        problems.append(f"{where}: value {v!r} is not a number; left empty")
        return None
    if float(v) != int(v):
        problems.append(f"{where}: value {v} is not a whole count; left empty")
        return None
    if int(v) < 0 and not signed:
        problems.append(f"{where}: negative count {v}; left empty")
        return None
    return int(v)


def flatten(record: dict) -> tuple[dict, list[tuple], list[dict], list[dict]]:
    """(reports row, long rows, warning rows, check rows) of one record. Long rows are tuples in the order of
    columns.LONG_COLUMNS (1.6 million of them for 10,000 reports: tuples transpose at C speed)."""
    rid = report_id(record)
    src = record.get("source") or {}
    carrier = _figures_carrier(record)
    fmt = record.get("format")
    fr = record.get("figures_from") or {}
    row = dict.fromkeys(REPORT_COLUMN_NAMES)
    row.update(
        report_id=rid, agency=record.get("agency"), region=record.get("region"), year=record.get("year"),
        template=fmt, title=record.get("title"), published=record.get("published"), site=src.get("site"),
        url=src.get("url"), fetched_at=src.get("fetched_at"), warc_file=carrier.get("warc_file"),
        warc_offset=carrier.get("warc_offset"), warc_record_id=carrier.get("warc_record_id"),
        payload_digest=carrier.get("payload_digest"), figures_from=fr.get("carrier"),
        carriers=";".join(f"{c.get('carrier')}:{c.get('url')}" for c in record.get("carriers") or []) or None,
        input_path=src.get("path"), warnings=len(record.get("warnings") or []),
        checks_failed=sum(1 for c in record.get("checks") or [] if not c.get("ok")), figures_long_only=0)
    problems: list[str] = []
    long: list[dict] = []
    tables = record.get("tables") or {}

    for cell in tables.get("active_disclosure") or []:
        col = T2_INDEX.get((fmt, cell.get("item"), cell.get("column")))
        is_money = col in _MONEY if col else "万元" in (cell.get("column") or "")
        value = cell.get("value")
        where = f"active_disclosure {cell.get('item')} {cell.get('column')}"
        if is_money:
            value = _decimal(value, where, problems)
        else:
            value = _count(value, where, problems, signed="增/减" in (cell.get("column") or ""))
        if col:
            row[col] = value
        else:
            row["figures_long_only"] += 1
        long.append((rid, "active_disclosure", cell.get("item"), cell.get("column"), value,
                     "万元" if is_money else "件", f"{cell.get('item')} {cell.get('column')}", cell.get("clause"), col))

    for key, cells in (tables.get("applications") or {}).items():
        for ckey, v in (cells or {}).items():
            col = _T3.get((key, ckey))
            value = _count(v, f"applications {key} {ckey}", problems)
            if col:
                row[col] = value
            long.append((rid, "applications", key, ckey, value, "件", _T3_LABEL.get((key, ckey), ""), None, col))

    for group, cells in (tables.get("review_litigation") or {}).items():
        for ckey, v in (cells or {}).items():
            col = _T4.get((group, ckey))
            value = _count(v, f"review_litigation {group} {ckey}", problems)
            if col:
                row[col] = value
            long.append((rid, "review_litigation", group, ckey, value, "件", _T4_LABEL.get((group, ckey), ""), None,
                         col))

    for entry in tables.get("legacy") or []:
        value = _decimal(entry.get("value"), f"legacy {entry.get('indicator')}", problems)
        long.append((rid, "legacy", entry.get("indicator"), None, value, entry.get("unit"), entry.get("indicator"),
                     entry.get("section"), None))

    warnings = [{"report_id": rid, "source": "parser", "detail": w} for w in record.get("warnings") or []]
    warnings += [{"report_id": rid, "source": "export", "detail": p} for p in problems]
    checks = [{"report_id": rid, "scope": "report", "rule": c.get("rule"), "ok": bool(c.get("ok")), "detail": c.get("detail"),
                   "other_report_id": None} for c in record.get("checks") or []]
    return row, long, warnings, checks
