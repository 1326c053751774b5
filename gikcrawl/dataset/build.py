"""Records → the dataset's tables: flatten each, then what needs several reports — regions in one batch,
agency ids, duplicate groups, cross-year checks, indicators."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .. import carriers
from .agencies import agency_id, agency_level, clean, normalise_agency, resolve_regions
from .checks import cross_year_checks, duplicate_checks
from .columns import FIGURE_NAMES
from .flatten import flatten
from .indicators import add_indicators, add_yoy

@dataclass
class Dataset:
    reports: list[dict] = field(default_factory=list)
    figures_long: list[tuple] = field(default_factory=list)     # in LONG_COLUMNS order
    warnings: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    agencies: list[dict] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)   # report_id → record (for `gikcrawl report`)

    def tables(self) -> dict[str, list[dict]]:
        return {"reports": self.reports, "figures_long": self.figures_long, "warnings": self.warnings,
                "checks": self.checks, "agencies": self.agencies}


def canonical_key(row: dict) -> tuple:
    """The canonical report of an agency and year: one with figures before one without, then fewest failed
    checks, fewest warnings, most figures, the most structured carrier, the newest capture, the URL."""
    n_figures = sum(row[c] is not None for c in FIGURE_NAMES)
    return (n_figures == 0, row["checks_failed"], row["warnings"], -n_figures,
            carriers.rank(row["figures_from"]), _neg(row["fetched_at"] or ""),
            row["url"] or row["input_path"] or "")


def _neg(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)


def build(records, keep_records: bool = False, record_ids: dict | None = None) -> Dataset:
    """record_ids: (warc_file, warc_offset) → WARC-Record-ID, for carriers whose record id is not in the record."""
    ds = Dataset()
    seen: set[str] = set()
    for record in records:
        row, long, warns, checks = flatten(record)
        if row["report_id"] in seen:          # the same capture twice (e.g. two JSONL files): once is enough
            continue
        seen.add(row["report_id"])
        if row["warc_record_id"] is None and record_ids:
            row["warc_record_id"] = record_ids.get((row["warc_file"], row["warc_offset"]))
        ds.reports.append(row)
        ds.figures_long += long
        ds.warnings += warns
        ds.checks += checks
        if keep_records:
            ds.records[row["report_id"]] = record
    identify(ds.reports, ds.warnings)
    _duplicates(ds)
    for row in ds.reports:
        add_indicators(row)
    ds.checks += cross_year_checks(ds.reports)
    add_yoy(ds.reports)
    failed = defaultdict(int)
    for c in ds.checks:
        if c["scope"] != "report" and not c["ok"]:
            failed[c["report_id"]] += 1
    n_warn = defaultdict(int)
    for w in ds.warnings:
        n_warn[w["report_id"]] += 1
    for row in ds.reports:
        row["cross_checks_failed"] = failed[row["report_id"]]
        row["warnings"] = n_warn[row["report_id"]]
    _agencies(ds)
    return ds


def identify(rows: list[dict], warnings: list[dict]) -> None:
    """Agency name, level, region codes and agency id of each row; unresolved regions are warned about."""
    regions = resolve_regions([(r["region"], r["agency"], r["year"]) for r in rows])
    for row, reg in zip(rows, regions):
        names = tuple(n for n in (reg.province, reg.city, reg.county) if n)
        row["agency_norm"] = normalise_agency(row["agency"], row["region"], names) or None
        row["agency_level"] = agency_level(clean(row["agency"])) if row["agency"] else None
        row.update(province=reg.province, province_code=reg.province_code, city=reg.city, city_code=reg.city_code,
                   county=reg.county, county_code=reg.county_code, region_match=reg.match)
        row["agency_id"] = agency_id(row["agency_norm"], reg, row["region"], row["site"]) if row["agency_norm"] \
            else None
        if row["agency_norm"] and reg.match == "none" and row["template"] not in ("unknown",):
            warnings.append({"report_id": row["report_id"], "source": "export",
                                    "detail": f"region not found in the administrative divisions of {row['year']}: "
                                           f"region {row['region']!r}, agency {row['agency']!r} (codes left empty)"})


def _duplicates(ds: Dataset) -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in ds.reports:
        if row["agency_id"] and row["year"] is not None and row["template"] not in ("unknown",):
            row["dup_group"] = f"{row['agency_id']}:{row['year']}"
            groups[row["dup_group"]].append(row)
        else:               # no agency or year, or not a report: in no group, and never canonical
            row["dup_group"], row["dup_count"], row["canonical"], row["dup_differs"] = None, 1, False, False
    for rows in groups.values():
        rows.sort(key=canonical_key)
        for i, row in enumerate(rows):
            row["dup_count"], row["canonical"], row["dup_differs"] = len(rows), i == 0, False
        ds.checks += duplicate_checks(rows[0], rows[1:])


def _agencies(ds: Dataset) -> None:
    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in ds.reports:
        if row["agency_id"]:
            by_id[row["agency_id"]].append(row)
    for aid, rows in sorted(by_id.items()):
        first = rows[0]
        ds.agencies.append({
            "agency_id": aid, "agency_norm": first["agency_norm"],
            "names": ";".join(sorted({r["agency"] for r in rows if r["agency"]})),
            "agency_level": first["agency_level"], "province": first["province"], "province_code": first["province_code"],
            "city": first["city"], "city_code": first["city_code"], "county": first["county"],
            "county_code": first["county_code"], "region": first["region"],
            "years": ";".join(str(y) for y in sorted({r["year"] for r in rows if r["year"] is not None})),
            "reports": len(rows)})

