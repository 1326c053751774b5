"""A probe's verdict, its site entry, its explanation, and writing entries to a sites YAML file.

Verdicts: ``ok`` (a 公开年报 column confirmed by report links on it, its sub-columns or its dataproxy: an
entry is written); ``no_column`` (no column within the budget and depth); ``no_reports`` (a column found
that lists no report, even rendered); ``needs_render`` (the list is built by script and no browser could
confirm it); ``inconclusive`` (the budget ran out before a column found could be confirmed); ``ambiguous``
(a column on another registered domain whose reports do not name this government); ``failed`` (the
homepage could not be read). Only ``ok`` gives an entry; every verdict lists the pages tried. (The command
adds ``duplicate``: a homepage whose columns another homepage of the same run already gave.)
"""
from __future__ import annotations

import datetime
import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..sites import SiteConfigError, load_sites
from . import regions, rules
from .spider import SiteProbe


@dataclass
class Verdict:
    homepage: str
    status: str
    key: str
    entry: dict | None
    lines: list[str] = field(default_factory=list)    # what was found and why
    tried: list[str] = field(default_factory=list)    # every page tried, with what it held
    requests: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return {"homepage": self.homepage, "status": self.status, "key": self.key, "entry": self.entry,
                "found": self.lines, "tried": self.tried, "requests": self.requests, "warnings": self.warnings}


def site_key(homepage: str) -> str:
    """weixi for www.weixi.gov.cn; the host (dots as dashes) otherwise; the first path segment appended when
    the homepage is below the host's root (several sites on one host)."""
    parts = urlsplit(homepage)
    host = (parts.hostname or "site").lower()
    labels = [x for x in host.split(".") if x not in ("www", "gov", "cn", "com", "org", "net", "xxgk", "zwgk",
                                                        "zfxxgk", "gk", "portal")]
    key = labels[0] if labels and not re.fullmatch(r"[\d.]+", host) else host.replace(".", "-")
    if parts.port:
        key += f"-{parts.port}"
    first = parts.path.strip("/").split("/")[0] if "/" in parts.path.strip("/") or "." not in parts.path else ""
    if first:
        key += "-" + first
    return re.sub(r"[^a-z0-9_\-]+", "-", key).strip("-") or "site"


def _norm(url: str) -> str:
    return re.sub(r"/(?:index|default)\.s?html?$", "/", url)


def judge(probe: SiteProbe, key: str | None = None) -> Verdict:
    key = key or site_key(probe.home)
    tried = [f"{v.kind:9} d{v.depth} {v.status if v.status is not None else '---'} {v.url}  [{v.via}] {v.note}".rstrip()
             for v in probe.visits]
    v = Verdict(probe.home, "ok", key, None, tried=tried, requests=probe.requests)
    gov = probe.government.name if probe.government else None
    if probe.failure:
        v.status = "failed"
        v.lines.append(f"homepage not readable: {probe.failure}")
        return v
    tops = probe.confirmed
    if not tops:
        found = [c for c in probe.columns.values() if c.parent is None]
        if probe.budget_hit and any(not c.fetched for c in found):
            v.status = "inconclusive"
            v.lines.append(f"budget of {probe.requests} requests spent before the column(s) "
                           f"{', '.join(c.url for c in found if not c.fetched)} could be read")
        elif any(c.render == "suspected" for c in probe.columns.values()):
            v.status = "needs_render"
            v.lines += [f"column {c.url} lists no report links in its HTML; its list is built by script"
                        for c in probe.columns.values() if c.render == "suspected"]
        elif found:
            v.status = "no_reports"
            v.lines += [f"column {c.url} ('{c.text}', HTTP {c.status}) lists no report" for c in found]
        else:
            v.status = "no_column"
            v.lines.append(f"no 公开年报 column within {probe.requests} requests and depth "
                           f"{max((x.depth for x in probe.visits), default=0)}"
                           + ("; the budget ran out" if probe.budget_hit else "; every portal link was followed"))
        return v
    seen, starts = set(), []
    for col in sorted(tops, key=lambda c: (c.depth, c.url)):
        if _norm(col.url) not in seen:
            seen.add(_norm(col.url))
            starts.append(col)
    region, warning = regions.lookup(gov or "", probe.site_code)
    if warning:
        v.warnings.append(f"region: {warning}")
    foreign = [c for c in starts if rules.registered(rules.host_key(c.url).split(":")[0])
               != rules.registered(rules.host_key(probe.home_final or probe.home).split(":")[0])]
    short = region.name if region else re.sub(r"(?:人民)?政府(?:办公室)?$", "", gov or "")
    for col in foreign:        # another government's domain: its reports must name this one
        titles = [x.text for x in col.reports] + [x.text for s in probe.columns.values() if s.parent == col.url
                                                  for x in s.reports]
        if not short or not any(short in t for t in titles):
            v.status = "ambiguous"
            v.lines.append(f"column {col.url} is on another domain and none of its {len(titles)} report links "
                           f"names {short or 'the government (unknown)'}: it may be another government's")
    if v.status == "ambiguous":
        return v
    home_host = rules.host_key(probe.home_final or probe.home)
    hosts = sorted(probe.hosts | {home_host} | {rules.host_key(c.url) for c in starts},
                   key=lambda h: (h != home_host, h))
    family = rules.cms_family(probe.markers)
    for col in starts:
        subs = [c for c in probe.columns.values() if c.parent == col.url]
        names = [x.text for x in col.subcolumns]
        v.lines.append(f"column {col.url}: '{col.text}', reached by {' > '.join(('首页',) + col.trail)}; "
                       f"confirmed by {col.confirmed_by}")
        if names:
            v.lines.append(f"  {len(names)} sub-columns: {', '.join(names[:8])}{' …' if len(names) > 8 else ''}"
                           f" ({len([s for s in subs if s.fetched])} opened)")
        v.lines.append(f"  pager: {col.pager or 'none (one page)'}; encoding: {_encoding(col)}"
                       + ("; list rendered in the browser" if col.render == "lists" else ""))
        for link in (col.reports + [r for s in subs for r in s.reports])[:3]:
            v.lines.append(f"  report link: {link.text} <{link.url}>")
    other = [h for h in hosts if h != home_host]
    if other:
        v.lines.append(f"portal on another host of the same government: {', '.join(other)}")
    v.lines.append(f"CMS family: {family}" + (f" ({'; '.join(sorted(probe.markers[family]))})"
                                               if family in probe.markers else ""))
    for url, status, what in probe.samples:
        v.lines.append(f"sample report {url}: {status if status is not None else '---'} {what}")
    if region:
        v.lines.append(f"region: {region.province} {region.city or ''} {region.name} ({region.code})")
    entry = {"name": f"{gov or rules.host_key(probe.home)} 政府信息公开年报",
             "start_urls": [c.url for c in starts], "allowed_domains": hosts}
    if any(c.render == "lists" for c in starts):
        entry["render"] = "lists"
    if region:
        entry["region"] = region.as_entry()
    entry["cms"] = family
    entry["notes"] = (f"probed {datetime.date.today().isoformat()} from {probe.home}: "
                      + "; ".join(f"{c.url} via {' > '.join(('首页',) + c.trail)}, pager {c.pager or 'none'}, "
                                  f"{_encoding(c)}" for c in starts))
    v.entry = entry
    return v


def _encoding(col) -> str:
    if not col.encoding:
        return "unknown"
    if col.declared and col.declared.lower() not in (col.encoding, col.encoding.replace("-", "")):
        return f"{col.encoding} (declared {col.declared})"
    return col.encoding


# --- writing -------------------------------------------------------------------------------------------

def existing_entry(config, homepage: str, entry: dict) -> str | None:
    """The key of the entry in the sites config for this site: one whose start URLs are on the host of the
    homepage or of a column found, sharing the longest path prefix with them (several sites may share a host,
    e.g. a province platform's /<county>/ paths; a homepage below the root must share its first segment)."""
    if config is None:
        return None
    ours = [homepage] + list(entry.get("start_urls", []))

    def segments(url):
        return [x for x in urlsplit(url).path.split("/")[:-1] if x]
    best, best_score = None, -1
    for key, site in config.sites.items():
        for start in site.start_urls:
            for url in ours:
                if rules.host_key(start) != rules.host_key(url):
                    continue
                a, b = segments(start), segments(url)
                common = next((n for n, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                if segments(homepage) and not common:
                    continue
                if common > best_score:
                    best, best_score = key, common
    return best


def entry_dict(site) -> dict:
    """A loaded SiteConfig back as the YAML mapping (for diffs)."""
    out = {"name": site.name, "start_urls": list(site.start_urls), "allowed_domains": list(site.allowed_domains)}
    for name in ("columns", "report_links", "next_page", "page_template", "content", "attachments", "encoding"):
        if getattr(site, name):
            out[name] = getattr(site, name)
    if site.render:
        out["render"] = site.render
    for name in ("metadata", "politeness"):
        if getattr(site, name):
            out[name] = dict(getattr(site, name))
    for name in ("title_include", "title_exclude"):
        if getattr(site, name):
            out[name] = list(getattr(site, name))
    for name in ("region", "cms"):
        if getattr(site, name, None):
            out[name] = getattr(site, name)
    return out


def diff(key: str, old: dict, new: dict) -> str:
    """A unified diff of the parts that matter (start URLs, domains, render, region, cms): notes left out."""
    def dump(d):
        d = {k: v for k, v in d.items() if k != "notes"}
        return yaml.safe_dump({key: d}, allow_unicode=True, sort_keys=True).splitlines(keepends=True)
    return "".join(difflib.unified_diff(dump(old), dump(new), f"existing {key}", f"probed {key}"))


def write_entries(path: str | Path, entries: dict[str, dict]) -> Path:
    """Add or replace entries in a sites YAML file (created when missing), validated by gikcrawl.sites before
    the file is replaced (atomically): an invalid entry raises SiteConfigError and the file is left alone."""
    path = Path(path)
    data = {"sites": {}}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"sites": {}}
        data.setdefault("sites", {})
    data["sites"].update(entries)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    fd, tmp = tempfile.mkstemp(prefix=".probe-", suffix=".yaml", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_sites(tmp)                              # the crawl's own validation
        os.replace(tmp, path)
    except (SiteConfigError, OSError):
        os.unlink(tmp)
        raise
    return path
