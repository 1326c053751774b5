"""Consistency rules of the statistics tables: evaluated and reported, never used to change a number."""
from __future__ import annotations

from . import templates as T

_APPLICANTS = T.APPLICANT_COLUMNS[:-1]


def _failures(pairs):
    """pairs: (where, left, right); those with a null side are not evaluable. Returns (evaluated, failures)."""
    evaluated, failed = 0, []
    for where, left, right in pairs:
        if left is None or right is None:
            continue
        evaluated += 1
        if abs(left - right) > 1e-9:
            failed.append(f"{where}: {left} ≠ {right}")
    return evaluated, failed


def _sum(values):
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def _check(rule, pairs, out):
    evaluated, failed = _failures(pairs)
    if evaluated:
        detail = "; ".join(failed) if failed else f"{evaluated} comparisons hold"
        out.append({"rule": rule, "ok": not failed, "detail": detail})


def run_checks(tables: dict, layout: str | None) -> list[dict]:
    out: list[dict] = []
    apps = tables.get("applications")
    if apps:
        rows = apps
        get = lambda key, col: (rows.get(key) or {}).get(col)
        _check("applications_balance", [
            (col, _sum([get("new_requests", col), get("carried_over", col)]),
             _sum([get("results_total", col), get("carried_forward", col)]))
            for col in T.APPLICANT_COLUMNS], out)
        _check("applications_row_totals", [
            (key, _sum(get(key, c) for c in _APPLICANTS), get(key, "total")) for key in rows], out)
        result_keys = [r.key for r in T.APPLICATION_ROWS[layout or "2021"] if r.result and r.key in rows]
        _check("applications_results_total", [
            (col, _sum(get(k, col) for k in result_keys), get("results_total", col))
            for col in T.APPLICANT_COLUMNS], out)
    review = tables.get("review_litigation")
    if review:
        for group, rule in zip(T.REVIEW_GROUPS, ("review_total", "litigation_direct_total",
                                                 "litigation_after_review_total")):
            row = review.get(group) or {}
            _check(rule, [(group, _sum(row.get(c) for c in T.OUTCOME_COLUMNS[:-1]), row.get("total"))], out)
    return out
