"""A replica site (TRS layout) with two years of reports per agency, for the dataset's cross-year tests.

Agencies are township governments of real counties (so their regions resolve to official codes). Each
agency's later report continues its earlier one: 上年结转 = last year's 结转下年度继续办理 in every applicant column,
and, when both use the 2021 template, 现行有效件数 = last year's + 本年制发 − 本年废止. Every report stays
internally consistent (the parser's checks pass). ``broken`` agencies disagree on both rules by a known
amount; ``duplicate`` is one agency-year published at a second URL with one figure changed.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

from . import reportgen
from .replica import Site, _Builder, _paginate, _trs_lists
from .reportgen import ReportTruth

# (county, township, [(template, year), ...])
AGENCIES = (
    ("维西傈僳族自治县", "白济汛乡", (("2021", 2021), ("2021", 2022))),
    ("维西傈僳族自治县", "塔城镇", (("2021", 2022), ("2021", 2023))),
    ("维西傈僳族自治县", "保和镇", (("2019", 2020), ("2021", 2021))),
    ("林西县", "林西镇", (("2021", 2021), ("2021", 2022))),
    ("林西县", "新城子镇", (("2021", 2021), ("2021", 2022))),       # broken: disagrees with its 2021 report
)
BROKEN = {("林西县", "新城子镇")}
DUPLICATE = ("林西县", "林西镇", 2022)
APPLICANTS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org")


@dataclass
class PairsSite:
    site: Site
    truths: dict[str, ReportTruth] = field(default_factory=dict)        # path → truth
    broken: dict[str, tuple[str, str]] = field(default_factory=dict)     # agency → (earlier path, later path)
    consistent: dict[str, tuple[str, str]] = field(default_factory=dict)
    duplicate: tuple[str, str] = ("", "")                                # (first path, second path)


def _continue(prev: dict, t: dict, fmt: str, prev_fmt: str, off: int) -> None:
    """Make tables t continue prev; off ≠ 0 puts both rules off by that much (t stays self-consistent)."""
    app, papp = t["applications"], prev["applications"]
    for c in APPLICANTS:
        co = papp["carried_forward"][c] + (off if c == "natural_person" else 0)
        app["carried_over"][c] = co
        app["new_requests"][c] = app["results_total"][c] + app["carried_forward"][c] - co
        if app["new_requests"][c] < 0:          # keep counts non-negative: more results this year
            raise ValueError("carried-over exceeds this year's workload; choose another seed")
    for key in ("carried_over", "new_requests"):
        app[key]["total"] = sum(app[key][c] for c in APPLICANTS)
    if fmt == prev_fmt == "2021":
        last = {(e["item"], e["column"]): e["value"] for e in prev["active_disclosure"]}
        cells = {(e["item"], e["column"]): e for e in t["active_disclosure"]}
        for item in ("规章", "行政规范性文件"):
            issued, repealed = cells[(item, "本年制发件数")], cells[(item, "本年废止件数")]
            repealed["value"] = min(repealed["value"], last[(item, "现行有效件数")] + issued["value"])
            cells[(item, "现行有效件数")]["value"] = (last[(item, "现行有效件数")] + issued["value"] - repealed["value"]
                                                  + (3 if off else 0))


def build_pairs_site(key: str = "pairs", seed: int = 7) -> PairsSite:
    site = Site(key, "trs", f"/{key}/")
    b = _Builder(site, seed)
    b.county, b.gov = AGENCIES[0][0], f"{AGENCIES[0][0]}人民政府"
    b.style, b.charset = "trs", "utf-8"
    col = b.p("zfxxgk/gknb/")
    b.crumbs = [("政府信息公开", b.p("zfxxgk/index.html")), ("政府信息公开年报", col + "index.html")]
    b.columns.append(("政府信息公开年报", col + "index.html"))
    out = PairsSite(site)
    entries = []
    n = 0
    for county, town, plan in AGENCIES:
        prev = None
        paths = []
        for fmt, year in plan:
            n += 1
            t = reportgen.make_report(seed * 1000 + n, fmt, year=year, place=(county, town))
            t = replace(t, tables=copy.deepcopy(t.tables))
            if prev is not None:
                _continue(prev.tables, t.tables, fmt, prev.format, 1 if (county, town) in BROKEN else 0)
            date = t.published
            path = f"{col}{date[:7].replace('-', '')}/t{date.replace('-', '')}_{b.uid()}.html"
            entries.append(b.report_page(path, t, "plain"))
            out.truths[path] = t
            paths.append(path)
            if (county, town, year) == DUPLICATE:      # the same report again, one figure different
                d = replace(t, tables=copy.deepcopy(t.tables))
                rev = d.tables["review_litigation"]["review"]
                rev["other"] += 2
                rev["total"] += 2
                dpath = f"{col}{date[:7].replace('-', '')}/t{date.replace('-', '')}_{b.uid()}.html"
                entries.append(b.report_page(dpath, d, "plain"))
                out.truths[dpath] = d
                out.duplicate = (path, dpath)
            prev = t
        (out.broken if (county, town) in BROKEN else out.consistent)[f"{county}{town}人民政府"] = tuple(paths)
    _trs_lists(b, col, _paginate(entries, 2))
    b.chrome_pages()
    site.start_path = col + "index.html"
    return out
