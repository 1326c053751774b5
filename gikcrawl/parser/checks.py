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


def _check(rule, pairs, out, blanks_counted=False):
    evaluated, failed = _failures(pairs)
    if evaluated:
        detail = "; ".join(failed) if failed else f"{evaluated} comparisons hold"
        if blanks_counted:
            detail += " (blank cells counted as 0)"
        out.append({"rule": rule, "ok": not failed, "detail": detail})


def run_checks(tables: dict, layout: str | None, unknown: dict | None = None) -> list[dict]:
    """unknown: table name → row keys whose values could not be read (not evaluable). Other null cells
    were printed blank and count as 0."""
    unknown = unknown or {}
    out: list[dict] = []
    apps = tables.get("applications")
    if apps:
        skip = unknown.get("applications", set())
        blanks = any(v is None for key, row in apps.items() if key not in skip for v in row.values())

        cols = T.APPLICANT_COLUMNS
        zeros = [0] * len(cols)
        # each row's values with blanks as 0, None for a row that could not be read (not evaluable)
        filled = {key: None if key in skip else [(row or {}).get(c) or 0 for c in cols] for key, row in apps.items()}

        def values(key):
            return None if key in skip else filled.get(key) or zeros

        def plus(a, b, i):
            return None if a is None or b is None else a[i] + b[i]

        new, over, total, forward = (values(k) for k in ("new_requests", "carried_over", "results_total",
                                                          "carried_forward"))
        _check("applications_balance", [
            (col, plus(new, over, i), plus(total, forward, i)) for i, col in enumerate(cols)], out, blanks)
        _check("applications_row_totals", [
            (key, None, None) if (row := filled[key]) is None else (key, sum(row[:-1]), row[-1])
            for key in apps], out, blanks)
        results = [values(r.key) for r in T.APPLICATION_ROWS[layout or "2021"] if r.result and r.key in apps]
        unread = any(row is None for row in results)
        _check("applications_results_total", [
            (col, None if unread else sum(row[i] for row in results), None if total is None else total[i])
            for i, col in enumerate(cols)], out, blanks)
    review = tables.get("review_litigation")
    if review and not unknown.get("review_litigation"):
        for group, rule in zip(T.REVIEW_GROUPS, ("review_total", "litigation_direct_total",
                                                 "litigation_after_review_total")):
            row = review.get(group) or {}
            blanks = any(v is None for v in row.values())
            values = {c: row.get(c) or 0 for c in T.OUTCOME_COLUMNS}
            _check(rule, [(group, sum(values[c] for c in T.OUTCOME_COLUMNS[:-1]), values["total"])], out, blanks)
    return out
