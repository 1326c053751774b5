"""Derived columns; each one's formula is in the codebook (columns.INDICATORS)."""
from __future__ import annotations

from collections import defaultdict

from .columns import _DENIED, _OTHER21, _UNAVAIL, _UNHANDLED


def _sum(row: dict, names: list[str]):
    vals = [row[n] for n in names]
    return None if any(v is None for v in vals) else sum(vals)


def _ratio(num, den):
    return None if num is None or den is None or den == 0 else num / den


def add_indicators(row: dict) -> None:
    a, b = row["t3_new_requests_total"], row["t3_carried_over_total"]
    row["applications"] = None if a is None or b is None else a + b
    results = row["t3_results_total_total"]
    tot = lambda keys: _sum(row, [f"t3_{k}_total" for k in keys])
    row["share_granted"] = _ratio(row["t3_granted_total"], results)
    row["share_partially_granted"] = _ratio(row["t3_partially_granted_total"], results)
    row["share_denied"] = _ratio(tot(_DENIED), results)
    row["share_unavailable"] = _ratio(tot(_UNAVAIL), results)
    row["share_unhandled"] = _ratio(tot(_UNHANDLED), results)
    row["share_other"] = _ratio(tot(_OTHER21) if row["template"] == "2021" else row["t3_other_total"], results)
    decided = _sum(row, [f"t4_review_{c}" for c in ("upheld", "corrected", "other")])
    row["review_correction_rate"] = _ratio(row["t4_review_corrected"], decided)
    groups = ("litigation_direct", "litigation_after_review")
    row["litigation_correction_rate"] = _ratio(
        _sum(row, [f"t4_{g}_corrected" for g in groups]),
        _sum(row, [f"t4_{g}_{c}" for g in groups for c in ("upheld", "corrected", "other")]))
    row["fee_income"] = row["t2_fees_amount"]


def add_yoy(rows: list[dict]) -> None:
    by_agency: dict[str, dict[int, dict]] = defaultdict(dict)
    for row in rows:
        if row["canonical"] and row["agency_id"] and row["year"] is not None:
            by_agency[row["agency_id"]][row["year"]] = row
    for years in by_agency.values():
        for year, row in years.items():
            prev = years.get(year - 1)
            if prev is None:
                continue
            for col, base in (("applications_yoy", "applications"), ("new_requests_yoy", "t3_new_requests_total")):
                r = _ratio(row[base], prev[base])
                row[col] = None if r is None else r - 1
