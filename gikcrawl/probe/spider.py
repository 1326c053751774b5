"""The probe spider: from homepages to their 公开年报 columns, best first, within a per-site request budget.

A Scrapy spider rather than a hand-written fetcher, so a probe is exactly as polite as the crawl: the same
robots.txt handling, download delay, AutoThrottle, contact User-Agent and retries (gikcrawl/settings.py).
Each site keeps its own frontier (a heap by score) and has one request in flight at a time: the next page
is chosen only after the last one has been read, which is what keeps the budget small. Nothing is archived
and no item is produced; the evidence (every page tried, what it held and why it was followed) is kept on
the spider for gikcrawl.probe.entry to judge.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest

from .. import discovery
from ..browser import browser_path, render_meta
from ..encoding import UndecodableError, declared_charset, decode
from ..extract import header_charset
from . import rules
from ..meta import KIND

# scores: verification first (a column found is worth more than any navigation), then navigation
_SCORE = {"column": 100, "dataproxy": 95, "render": 95, "subcolumn": 90, "report": 80}
SUBPORTAL_SCORE = 20             # 部门/乡镇信息公开: still followed once a column is confirmed
MAX_SUBCOLUMNS = 3               # sub-columns opened to confirm a column that lists none itself


@dataclass
class Visit:
    url: str
    kind: str                    # home, nav, column, subcolumn, dataproxy, render, report
    depth: int
    via: str                     # the link text that led here
    status: int | None = None
    note: str = ""


@dataclass
class Column:
    url: str
    text: str
    depth: int
    trail: tuple                 # link texts from the homepage
    parent: str | None = None    # the top column a sub-column belongs to
    fetched: bool = False
    status: int | None = None
    reports: list = field(default_factory=list)        # discovery.Link
    subcolumns: list = field(default_factory=list)     # discovery.Link
    pager: str | None = None
    render: str | None = None    # None; "suspected"; "lists" (confirmed in the browser)
    encoding: str | None = None
    declared: str | None = None
    confirmed_by: str | None = None   # the page whose report links confirm the column

    @property
    def confirmed(self) -> bool:
        return self.confirmed_by is not None


@dataclass
class SiteProbe:
    home: str
    frontier: list = field(default_factory=list)
    seen: set = field(default_factory=set)
    inflight: int = 0
    requests: int = 0
    visits: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)        # url -> Column
    samples: list = field(default_factory=list)        # (url, status, title or note)
    markers: dict = field(default_factory=dict)        # CMS family -> set of markers
    government: rules.Government | None = None
    site_code: str | None = None
    hosts: set = field(default_factory=set)            # hosts of the portal, columns and reports
    home_final: str = ""                               # the homepage after redirects
    budget_hit: bool = False
    failure: str | None = None                         # the homepage could not be read

    @property
    def confirmed(self) -> list[Column]:
        return [c for c in self.columns.values() if c.confirmed and c.parent is None]


class ProbeSpider(scrapy.Spider):
    name = "probe"
    custom_settings: ClassVar[dict] = {
        # a probe looks, it does not collect: no archive, catalog, run bookkeeping or shared frontier
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None},
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
            "gikcrawl.middlewares.ContactUserAgentMiddleware": 500,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "gikcrawl.middlewares.BackoffRetryMiddleware": 550,
            "gikcrawl.browser.ChallengeMiddleware": 585,      # 瑞数-style challenges: once through the browser
        },
        "SPIDER_MIDDLEWARES": {},
    }

    def __init__(self, homepages: list[str] | str = (), *args, **kwargs):
        super().__init__(*args, **kwargs)
        homes = homepages.split(",") if isinstance(homepages, str) else list(homepages)
        self.probes = {h: SiteProbe(h) for h in homes if h}
        self._seq = itertools.count()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.budget = s.getint("PROBE_BUDGET")
        spider.max_depth = s.getint("PROBE_MAX_DEPTH")
        spider.sample_reports = s.getint("PROBE_SAMPLE_REPORTS")
        spider.browser = Path(browser_path(s)).exists()
        spider.order = s.get("PROBE_ORDER")
        return spider

    # --- the per-site frontier ------------------------------------------------------------------------

    def push(self, probe: SiteProbe, url: str, kind: str, depth: int, via: str, trail: tuple = (),
             score: int | None = None, **extra) -> None:
        key = (url, kind == "render")
        if key in probe.seen:
            return
        score = _SCORE.get(kind, 0) if score is None else score
        if self.order == "breadth" and kind in ("nav", "column"):
            score = 0                        # the baseline of bench/onboarding.py: shallowest first, in page order
        heapq.heappush(probe.frontier, (-score, depth, next(self._seq), url, kind, via, trail, extra))

    def pump(self, probe: SiteProbe):
        while probe.inflight < 1 and probe.frontier:
            neg, depth, _, url, kind, via, trail, extra = heapq.heappop(probe.frontier)
            key = (url, kind == "render")
            if key in probe.seen:
                continue
            if kind == "nav" and probe.confirmed and -neg != SUBPORTAL_SCORE and not extra.get("subportal"):
                continue                     # the column is known: only department/township portals remain
            if kind == "report" and len(probe.samples) + probe.inflight >= self.sample_reports:
                continue
            if probe.requests >= self.budget:
                probe.budget_hit = True
                probe.frontier.clear()
                return
            probe.seen.add(key)
            probe.requests += 1
            probe.inflight += 1
            meta = {"probe": probe.home, "kind": kind, "probe_depth": depth, "via": via, "trail": trail, **extra}
            if kind == "dataproxy":
                proxy = extra["endpoint"]
                yield scrapy.FormRequest(proxy.page_url(1)[0], formdata=proxy.params, callback=self.parse_page,
                                         errback=self.on_error, meta=meta, dont_filter=True)
                continue
            if kind == "render":
                meta.update(render_meta("probe"))
            yield scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta,
                                 dont_filter=True)

    async def start(self):
        for probe in self.probes.values():
            self.push(probe, probe.home, "home", 0, "(homepage)")
            for req in self.pump(probe):
                yield req

    # --- callbacks ---------------------------------------------------------------------------------

    def on_error(self, failure):
        meta = failure.request.meta
        probe = self.probes[meta["probe"]]
        probe.inflight -= 1
        if failure.check(IgnoreRequest):
            note = str(failure.value) or "ignored"         # RobotsTxtMiddleware: "Forbidden by robots.txt"
        else:
            note = f"{failure.type.__name__}: {failure.value}"
        probe.visits.append(Visit(failure.request.url, meta[KIND], meta["probe_depth"], meta["via"], None, note))
        if meta[KIND] == "home":
            probe.failure = note
        if meta[KIND] == "report":
            probe.samples.append((failure.request.url, None, note))
        yield from self.pump(probe)

    def parse_page(self, response):
        meta = response.meta
        probe = self.probes[meta["probe"]]
        probe.inflight -= 1
        visit = Visit(response.url, meta[KIND], meta["probe_depth"], meta["via"], response.status)
        probe.visits.append(visit)
        redirected = meta.get("redirect_urls")
        if redirected:
            visit.note = f"redirected from {redirected[0]}; "
        try:
            self.read(probe, response, visit)
        except Exception as e:           # a page the rules choke on must not stall the site's frontier
            self.logger.exception("probe: cannot read %s", response.url)
            visit.note += f"; not read ({type(e).__name__}: {e})"
        yield from self.pump(probe)

    def read(self, probe: SiteProbe, response, visit: Visit) -> None:
        kind = visit.kind
        if response.status >= 400:
            visit.note += f"HTTP {response.status}"
            if kind == "home":
                probe.failure = f"HTTP {response.status}"
            if kind == "report":
                probe.samples.append((response.url, response.status, f"HTTP {response.status}"))
            if kind in ("column", "subcolumn") and response.url in probe.columns:
                probe.columns[response.url].status = response.status
            return
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        if kind != "dataproxy" and not ctype.lower().startswith(("text/html", "application/xhtml")) and ctype:
            visit.note += f"not HTML ({ctype})"
            if kind == "report":
                probe.samples.append((response.url, response.status, f"a file ({ctype})"))
            return
        declared = header_charset(ctype) or declared_charset(response.body)
        try:
            text, codec = decode(response.body, declared=header_charset(ctype))
        except UndecodableError as e:
            visit.note += f"undecodable: {e}"
            if kind == "home":
                probe.failure = f"undecodable homepage: {e}"
            return
        for family, seen in rules.cms_markers(response.url, text).items():
            probe.markers.setdefault(family, set()).update(seen)
        if kind == "dataproxy":
            self.read_dataproxy(probe, response, text, visit)
            return
        sel = Selector(text=text)
        if kind == "home":
            gov = rules.government_name(sel)
            if probe.government is None or gov.name:
                probe.government = gov
            probe.hosts.add(rules.host_key(response.url))
            probe.home_final = response.url
            for target in rules.shell_targets(sel, text):      # a redirect shell or a frameset
                url = response.urljoin(target)
                if rules.same_government(probe.home_final, url, ""):
                    self.push(probe, url, "home", visit.depth, "(shell target)", response.meta["trail"])
            visit.note += f"government: {probe.government.name} (from the {probe.government.source})"
        from .regions import site_code_prefix
        probe.site_code = probe.site_code or site_code_prefix(" ".join(sel.xpath("//body//text()").getall()))
        if kind in ("home", "nav"):
            title = " ".join(" ".join(sel.xpath("//title//text()").getall()).split())
            name = rules.title_parts(title)[0] if title else ""
            if response.url not in probe.columns and rules.is_column_candidate(name, response.url):
                # given the column itself (or led to it by a link not named like one)
                probe.columns[response.url] = Column(response.url, name, visit.depth, response.meta["trail"])
                self.read_column(probe, response, sel, text, visit, codec, declared, url=response.url)
                visit.note += "; "
            self.read_nav(probe, response, sel, visit)
        elif kind in ("column", "subcolumn", "render"):
            self.read_column(probe, response, sel, text, visit, codec, declared)
        elif kind == "report":
            title = " ".join(" ".join(sel.xpath("//title//text()").getall()).split())
            heading = next((t for t in (" ".join(" ".join(x.xpath(".//text()").getall()).split())
                                        for x in sel.xpath("//h1|//*[contains(@class,'title')]|//*[@class='bt']"))
                            if discovery.is_report_title(t)), None)
            ok = heading or (title if discovery.is_report_title(title.split("_")[0]) else None)
            probe.samples.append((response.url, response.status, ok or f"no report title (title: {title[:60]})"))
            probe.hosts.add(rules.host_key(response.url))
            visit.note += f"report page: {ok}" if ok else "not a report page"

    def read_nav(self, probe, response, sel, visit) -> None:
        depth, trail = visit.depth, response.meta["trail"]
        inside = bool(response.meta.get("subportal"))   # below a 部门/乡镇信息公开 page: their portals too
        followed = columns = 0
        for link in rules.nav_links(sel, response.url):
            url = link.url
            if not url.startswith(("http://", "https://")):
                continue
            other_host = rules.host_key(url) != rules.host_key(response.url)
            if other_host and not rules.same_government(probe.home_final or probe.home, url, link.text):
                continue
            step = trail + (link.text,)
            if rules.is_column_candidate(link.text, url) and depth + 1 <= self.max_depth:
                if url not in probe.columns:
                    probe.columns[url] = Column(url, link.text, depth + 1, step)
                    self.push(probe, url, "column", depth + 1, link.text, step, column_url=url)
                    columns += 1
                continue
            score = rules.portal_score(link.text, url)
            if self.order == "breadth" and not discovery.is_attachment_url(url):
                score = score or 1               # the baseline follows every link of the site
            if score and depth + 1 < self.max_depth:
                self.push(probe, url, "nav", depth + 1, link.text, step, score=score - 2 * other_host,
                          subportal=inside or score == SUBPORTAL_SCORE)
                followed += 1
        visit.note += f"{'; ' if visit.note else ''}{columns} column links, {followed} portal links"

    def read_column(self, probe, response, sel, text, visit, codec, declared, url: str | None = None) -> None:
        url = url or response.meta["column_url"]
        col = probe.columns.get(url)
        if col is None:
            return
        col.fetched, col.status = True, response.status
        col.encoding = col.encoding or codec
        col.declared = col.declared or declared
        top = probe.columns[col.parent] if col.parent else col
        reports = [link for link in discovery.report_links(sel, response.url)]
        subs = [link for link in discovery.column_links(sel, response.url)
                if link.url != response.url and not discovery.PAGER_HREF.search(link.url)
                and link.url not in probe.columns]
        proxy = discovery.dataproxy(text, response.url)
        col.pager = col.pager or rules.pager_style(sel, text, response.url)
        col.reports += reports
        col.subcolumns += subs
        probe.hosts.add(rules.host_key(response.url))
        if visit.kind == "render":
            col.render = "lists" if reports else "suspected"
        if reports:
            top.confirmed_by = top.confirmed_by or response.url
            if visit.kind == "render":
                top.render = "lists"
            pages = [x for x in reports if not discovery.is_attachment_url(x.url)] or reports
            for link in pages[: self.sample_reports]:
                self.push(probe, link.url, "report", visit.depth + 1, link.text, col.trail + (link.text,))
        for link in subs[:MAX_SUBCOLUMNS] if not top.confirmed else []:
            sub = Column(link.url, link.text, visit.depth + 1, col.trail + (link.text,), parent=top.url)
            probe.columns[link.url] = sub
            self.push(probe, link.url, "subcolumn", visit.depth + 1, link.text, sub.trail, column_url=link.url)
        if proxy is not None and not reports:
            self.push(probe, proxy.url, "dataproxy", visit.depth + 1, "(dataproxy.jsp)", col.trail, endpoint=proxy,
                      column_url=url)
        if not reports and not subs and proxy is None and visit.kind != "render" and rules.script_built(text):
            col.render = "suspected"
            if self.browser:
                self.push(probe, response.request.url, "render", visit.depth, "(rendered)", col.trail,
                          column_url=url)
        visit.note += (f"{len(reports)} report links, {len(subs)} sub-columns, pager {col.pager or 'none'}"
                       + (", dataproxy" if proxy else "") + (", list built by script" if col.render else ""))

    def read_dataproxy(self, probe, response, text, visit) -> None:
        col = probe.columns.get(response.meta.get("column_url"))
        links, total = response.meta["endpoint"].records(text, response.url)
        reports = [x for x in links if discovery.is_report_title(x.text)]
        visit.note += f"dataproxy: {len(links)} records of {total}, {len(reports)} reports"
        if col is None:
            return
        top = probe.columns[col.parent] if col.parent else col
        col.reports += reports
        col.pager = "dataproxy"
        if reports:
            top.confirmed_by = top.confirmed_by or response.url
            for link in reports[: self.sample_reports]:
                self.push(probe, link.url, "report", visit.depth + 1, link.text, col.trail + (link.text,))
