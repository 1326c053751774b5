"""Cross-report checks: evaluated and reported in the checks table, never used to change a number."""
from __future__ import annotations

from collections import defaultdict

from gikcrawl.parser.templates import APPLICANT_COLUMNS

from .columns import FIGURE_NAMES

_IN_FORCE_ITEMS = ("rules", "normative_docs")


def _check(row: dict, rule: str, ok: bool, detail: str, other: dict | None, scope: str = "cross_year") -> dict:
    return {"report_id": row["report_id"], "scope": scope, "rule": rule, "ok": ok, "detail": detail,
                "other_report_id": other["report_id"] if other else None}


def cross_year_checks(rows: list[dict]) -> list[dict]:
    """Year Y against year Y−1 of the same agency, canonical reports only (one per agency and year)."""
    by_agency: dict[str, dict[int, dict]] = defaultdict(dict)
    for row in rows:
        if row["canonical"] and row["agency_id"] and row["year"] is not None:
            by_agency[row["agency_id"]][row["year"]] = row
    out = []
    for years in by_agency.values():
        for year, row in sorted(years.items()):
            prev = years.get(year - 1)
            if prev is None:
                continue
            out += _carried_over(row, prev)
            if row["template"] == "2021" and prev["template"] == "2021":
                out += _in_force(row, prev)
    return out


def _carried_over(row: dict, prev: dict) -> list[dict]:
    pairs = [(c, row[f"t3_carried_over_{c}"], prev[f"t3_carried_forward_{c}"]) for c in APPLICANT_COLUMNS]
    pairs = [(c, a, b) for c, a, b in pairs if a is not None and b is not None]
    if not pairs:
        return []
    bad = [f"{c}: 上年结转 {a} ≠ {prev['year']} 结转下年度继续办理 {b}" for c, a, b in pairs if a != b]
    detail = "; ".join(bad) if bad else f"{len(pairs)} columns agree with {prev['year']}"
    return [_check(row, "carried_over_continuity", not bad, detail, prev)]


def _in_force(row: dict, prev: dict) -> list[dict]:
    out = []
    for item in _IN_FORCE_ITEMS:
        last, new, gone, now = (prev[f"t2_{item}_in_force"], row[f"t2_{item}_issued"], row[f"t2_{item}_repealed"],
                                row[f"t2_{item}_in_force"])
        if None in (last, new, gone, now):
            continue
        want = last + new - gone
        detail = (f"{item}: 现行有效 {now} = {prev['year']} 现行有效 {last} + 制发 {new} − 废止 {gone}" if now == want
                  else f"{item}: 现行有效 {now} ≠ {prev['year']} 现行有效 {last} + 制发 {new} − 废止 {gone} = {want}")
        out.append(_check(row, "in_force_continuity", now == want, detail, prev))
    return out


def duplicate_checks(canonical: dict, others: list[dict]) -> list[dict]:
    """Each other report of the group against the canonical one, figure by figure (both non-empty)."""
    out = []
    for other in others:
        diff = [f"{c}: {other[c]} vs {canonical[c]}" for c in FIGURE_NAMES
                if other[c] is not None and canonical[c] is not None and other[c] != canonical[c]]
        only = [c for c in FIGURE_NAMES if (other[c] is None) != (canonical[c] is None)]
        if diff:
            other["dup_differs"] = canonical["dup_differs"] = True
        detail = (f"{len(diff)} figures differ from the canonical report: " + "; ".join(diff[:20])
                  + (" …" if len(diff) > 20 else "")) if diff else "figures agree with the canonical report"
        if only:
            detail += f" ({len(only)} figures present in only one of them)"
        out.append(_check(other, "duplicate_figures_agree", not diff, detail, canonical, scope="duplicate"))
    return out
