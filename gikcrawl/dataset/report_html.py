"""`gikcrawl report`: one static, self-contained HTML page for an archive (opens from disk, no server).

Charts are plotly figures with plotly.js inlined once; the reports table is plain HTML with a small script
to filter it; each row links to its record (embedded JSON, shown in place), to its WARC capture (a path
relative to the archive directory) and, when a replay URL template is given, to a replay of the capture.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from .build import Dataset, build
from .sources import SourceError, catalog_path, load_records, warc_record_ids

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left}
th{background:#f3f3f3} .num{text-align:right} .bad{color:#b00020;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1em}
#search{font-size:1em;padding:.3em;width:28em} pre{white-space:pre-wrap;word-break:break-all;max-width:95vw;background:#f7f7f7;padding:.6em;max-height:30em;overflow:auto}
.muted{color:#666}
"""

_JS = """
(function(){
  var input=document.getElementById('search'), rows=document.querySelectorAll('#reports tbody tr.rep');
  var shown=document.getElementById('shown');
  input.addEventListener('input', function(){
    var q=input.value.trim().toLowerCase(), n=0;
    rows.forEach(function(tr){var ok=!q||tr.dataset.text.indexOf(q)>=0; tr.style.display=ok?'':'none';
      var d=document.getElementById('rec-'+tr.dataset.id); if(d&&!ok) d.style.display='none'; if(ok) n++;});
    shown.textContent=n;
  });
  var records=JSON.parse(document.getElementById('records').textContent);
  document.querySelectorAll('a.show-record').forEach(function(a){
    a.addEventListener('click', function(ev){
      ev.preventDefault(); var id=a.dataset.id, d=document.getElementById('rec-'+id);
      if(d.style.display==='table-row'){d.style.display='none';return;}
      d.querySelector('pre').textContent=JSON.stringify(records[id],null,1); d.style.display='table-row';
    });
  });
})();
"""


def _runs(cat: Path | None) -> list[dict]:
    if cat is None or not cat.exists():
        return []
    with sqlite3.connect(f"file:{cat}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT run_id, started, finished, sites, refresh, report FROM runs "
                              "ORDER BY run_id DESC LIMIT 5").fetchall()
        except sqlite3.OperationalError:
            return []
    out = []
    for run_id, started, finished, sites, refresh, report in rows:
        out.append({"run_id": run_id, "started": started, "finished": finished, "sites": sites, "refresh": refresh,
                        "report": json.loads(report) if report else None})
    return out


def _bar(title: str, counts: Counter | dict, stack: dict[str, Counter] | None = None, horizontal: bool = False):
    import plotly.graph_objects as go
    fig = go.Figure()
    if stack:
        keys = sorted({k for c in stack.values() for k in c}, key=str)
        for name, c in sorted(stack.items()):
            fig.add_bar(name=name, x=[str(k) for k in keys], y=[c.get(k, 0) for k in keys])
        fig.update_layout(barmode="stack")
    else:
        keys = sorted(counts, key=lambda k: (-counts[k], str(k))) if horizontal else sorted(counts, key=str)
        xs, ys = [str(k) for k in keys], [counts[k] for k in keys]
        fig.add_bar(x=ys if horizontal else xs, y=xs if horizontal else ys, orientation="h" if horizontal else "v")
    fig.update_layout(title=title, height=360, margin={"l": 40, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig


def charts(ds: Dataset) -> list:
    reps = [r for r in ds.reports if r["template"] not in ("unknown",)]
    by_year_tpl: dict[str, Counter] = {}
    for r in reps:
        by_year_tpl.setdefault(r["template"] or "?", Counter())[r["year"] if r["year"] is not None else "?"] += 1
    region = Counter((r["province"] or r["region"] or "(unknown)") for r in reps)
    site = Counter(r["site"] or "(file)" for r in ds.reports)
    failed = Counter(f"{c['scope']}: {c['rule']}" for c in ds.checks if not c["ok"])
    return [("reports-by-year", _bar("Reports by year and template", {}, by_year_tpl)),
            ("reports-by-site", _bar("Reports by site", site, horizontal=True)),
            ("reports-by-region", _bar("Reports by region (province, else region as published)", region,
                                       horizontal=True)),
            ("check-failures", _bar("Failed checks by rule", failed or {"(none)": 0}, horizontal=True))]


def _runs_html(runs: list[dict]) -> str:
    if not runs:
        return "<p class='muted'>No runs recorded in the catalog (records were read from JSONL).</p>"
    out = [("<table id='runs'><thead><tr><th>run</th><th>started</th><th>finished</th><th>site</th><th>pages</th>"
           "<th>new</th><th>changed</th><th>vanished</th><th>unchanged</th><th>failures by cause</th></tr></thead><tbody>")]
    for run in runs:
        sites = (run["report"] or {}).get("sites") or {s: {} for s in (run["sites"] or "").split(",")}
        for key, s in sites.items():
            fails = ", ".join(f"{k} {v}" for k, v in sorted((s.get("failures") or {}).items())) or "none"
            out.append(f"<tr><td>{html.escape(run['run_id'])}</td><td>{html.escape(run['started'] or '')}</td>"
                       f"<td>{html.escape(run['finished'] or 'not finished (resume it)')}</td><td>{html.escape(key)}</td>"
                       + "".join(f"<td class='num'>{s.get(k, '')}</td>" for k in
                                 ("pages_fetched", "new_reports", "changed", "vanished", "unchanged"))
                       + f"<td>{html.escape(fails)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def replay_link(template: str | None, row: dict) -> str | None:
    """A pywb-style template: {timestamp} (14 digits of the capture) and {url}."""
    if not template or not row["url"] or not row["fetched_at"]:
        return None
    ts = "".join(ch for ch in row["fetched_at"] if ch.isdigit())[:14]
    return template.replace("{timestamp}", ts).replace("{url}", row["url"])


def _table_html(ds: Dataset, replay_url: str | None, warc_base: str) -> str:
    head = ("<tr><th>year</th><th>agency</th><th>region</th><th>template</th><th>site</th><th>warnings</th>"
            "<th>checks failed</th><th>cross-report failed</th><th>canonical</th><th>links</th></tr>")
    out = [f"<table id='reports'><thead>{head}</thead><tbody>"]
    e = html.escape
    for r in sorted(ds.reports, key=lambda r: (r["year"] or 0, r["agency"] or ""), reverse=True):
        links = [f"<a href='#' class='show-record' data-id='{r['report_id']}'>record</a>"]
        if r["url"]:
            links.append(f"<a href='{e(r['url'])}'>page</a>")
        if r["warc_file"]:
            links.append(f"<a class='capture' href='{e(warc_base + quote(r['warc_file']))}' "
                         f"title='offset {r['warc_offset']}'>capture @{r['warc_offset']}</a>")
        rl = replay_link(replay_url, r)
        if rl:
            links.append(f"<a class='replay' href='{e(rl)}'>replay</a>")
        text = " ".join(str(r[k] or "") for k in ("agency", "agency_norm", "region", "province", "county", "year",
                                                  "template", "site", "title", "url")).lower()
        bad = lambda n: f"<td class='num{' bad' if n else ''}'>{n}</td>"
        out.append(f"<tr class='rep' data-id='{r['report_id']}' data-text='{e(text)}'><td>{r['year'] or ''}</td>"
                   f"<td>{e(r['agency'] or '')}</td><td>{e(r['county'] or r['region'] or '')}</td>"
                   f"<td>{e(r['template'] or '')}</td><td>{e(r['site'] or '')}</td>{bad(r['warnings'])}"
                   f"{bad(r['checks_failed'])}{bad(r['cross_checks_failed'])}<td>{'yes' if r['canonical'] else 'no'}"
                   f"</td><td>{' · '.join(links)}</td></tr>"
                   f"<tr class='record' id='rec-{r['report_id']}' style='display:none'><td colspan='10'><pre></pre>"
                   "</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(ds: Dataset, runs: list[dict], title: str, replay_url: str | None = None, warc_base: str = "") -> str:
    import plotly.io as pio
    figs = charts(ds)
    chart_divs = [pio.to_html(fig, include_plotlyjs=(i == 0), full_html=False, div_id=div_id,
                              config={"displaylogo": False, "responsive": True})
                  for i, (div_id, fig) in enumerate(figs)]
    reps = [r for r in ds.reports if r["template"] != "unknown"]
    failed = Counter(c["scope"] for c in ds.checks if not c["ok"])
    summary = (f"<p id='summary'><b id='n-records'>{len(ds.reports)}</b> records, <b id='n-reports'>{len(reps)}</b> "
               f"recognised reports of <b>{len({r['agency_id'] for r in reps if r['agency_id']})}</b> agencies, "
               f"years {min((r['year'] for r in reps if r['year']), default='–')}–"
               f"{max((r['year'] for r in reps if r['year']), default='–')}; failed checks: within reports "
               f"{failed['report']}, cross-year {failed['cross_year']}, duplicates {failed['duplicate']}; "
               f"{len(ds.warnings)} warnings.</p>")
    records = json.dumps(ds.records, ensure_ascii=False).replace("</", "<\\/")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='muted'>generated {now} by gikcrawl</p>{summary}"
            f"<h2>Last runs</h2>{_runs_html(runs)}<h2>The dataset</h2><div class='charts'>"
            + "".join(f"<div class='chart'>{d}</div>" for d in chart_divs)
            + f"</div><h2>Reports</h2><p><input id='search' type='search' placeholder='filter: agency, region, year, "
              f"site…'> <span id='shown'>{len(ds.reports)}</span> of {len(ds.reports)} shown</p>"
            + _table_html(ds, replay_url, warc_base)
            + f"<script type='application/json' id='records'>{records}</script><script>{_JS}</script></body></html>")


def write_report(source: str | Path, out: str | Path | None = None,
                 replay_url: str | None = None) -> tuple[Path, Dataset, list[str]]:
    src = Path(source)
    cat = catalog_path(src) if src.exists() else None
    if cat is None:
        raise SourceError(f"{src}: give an archive directory (with catalog.sqlite) or a catalog file")
    records, problems = load_records([src])
    ds = build(records, keep_records=True, record_ids=warc_record_ids([src]))
    out = Path(out) if out else cat.parent / "report.html"
    # WARC paths are relative to the archive directory: make them relative to where the page is written
    try:
        rel = Path(*([".."] * len(out.resolve().parent.relative_to(cat.parent.resolve()).parts)))
        warc_base = "" if str(rel) == "." else rel.as_posix() + "/"
    except ValueError:
        warc_base = cat.parent.resolve().as_uri() + "/"
    page = render(ds, _runs(cat), f"gikcrawl archive report — {cat.parent.resolve().name}", replay_url, warc_base)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out, ds, problems
