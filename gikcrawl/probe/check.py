"""`gikcrawl sites check`: do existing entries still work? Their start pages and a sample of report links
are fetched (robots.txt, delays and rendering as in the crawl) and what broke is named: a start page or
report that answers 4xx/5xx or fails, a redirect to a host outside the entry's allowed_domains (the site
moved), a redirect within the site (the column moved: works, but update start_urls), a start page that no
longer lists reports or sub-columns (the column moved or emptied).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest

from .. import discovery
from ..browser import render_meta
from ..encoding import UndecodableError
from ..extract import decode_body
from ..sites import load_sites
from .spider import ProbeSpider
from ..meta import KIND, SITE

MAX_LISTS = 3                    # sub-column or list pages opened per entry to find report links


@dataclass
class EntryCheck:
    key: str
    problems: list[str] = field(default_factory=list)     # the entry no longer works as written
    warnings: list[str] = field(default_factory=list)     # works, but should be updated
    report_failures: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    reports_seen: int = 0
    reports_ok: int = 0
    lists: int = 0
    sampled: int = 0
    requests: int = 0

    @property
    def status(self) -> str:
        return "broken" if self.problems else "moved" if self.warnings else "ok"

    def as_dict(self) -> dict:
        return {"key": self.key, "status": self.status, "problems": self.problems, "warnings": self.warnings,
                "reports_seen": self.reports_seen, "reports_ok": self.reports_ok, "requests": self.requests,
                "fetched": self.fetched}


class CheckSpider(scrapy.Spider):
    name = "sites-check"
    custom_settings = ProbeSpider.custom_settings

    def __init__(self, site: str = "all", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_spec = site

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sites = {s.key: s for s in load_sites(crawler.settings.get("SITES_CONFIG")).select(spider.site_spec)}
        spider.checks = {key: EntryCheck(key) for key in spider.sites}
        spider.sample = crawler.settings.getint("CHECK_SAMPLE_REPORTS")
        spider.budget = crawler.settings.getint("PROBE_BUDGET")
        return spider

    def req(self, site, url: str, kind: str, **meta):
        check = self.checks[site.key]
        if check.requests >= self.budget:
            return None
        check.requests += 1
        meta = {"site": site.key, "kind": kind, **meta}
        if site.politeness.get("robotstxt_obey") is False:
            meta["dont_obey_robotstxt"] = True
        if kind != "report" and site.render in (True, "all", "lists") or kind == "report" and site.render in (
                True, "all"):
            meta.update(render_meta(site.key))
        cls, extra = scrapy.Request, {}
        if kind == "dataproxy":
            proxy = meta["endpoint"]
            url, _ = proxy.page_url(1)
            cls, extra = scrapy.FormRequest, {"formdata": proxy.params}
        return cls(url, callback=self.parse_page, errback=self.on_error, meta=meta, dont_filter=True, **extra)

    async def start(self):
        for site in self.sites.values():
            for url in site.start_urls:
                req = self.req(site, url, "start", start=url)
                if req is not None:
                    yield req

    def on_error(self, failure):
        meta = failure.request.meta
        check = self.checks[meta[SITE]]
        cause = str(failure.value) if failure.check(IgnoreRequest) else f"{failure.type.__name__}: {failure.value}"
        check.fetched.append(f"{meta[KIND]} --- {failure.request.url} {cause}")
        what = {"start": "start page", "report": "report link"}.get(meta[KIND], "list page")
        (check.report_failures if meta[KIND] == "report" else check.problems).append(
            f"{what} {failure.request.url}: {cause}")

    def parse_page(self, response):
        meta = response.meta
        site, check, kind = self.sites[meta[SITE]], self.checks[meta[SITE]], meta[KIND]
        check.fetched.append(f"{kind} {response.status} {response.url}")
        what = {"start": "start page", "report": "report link"}.get(kind, "list page")
        origin = (meta.get("redirect_urls") or [response.url])[0]
        problems = check.report_failures if kind == "report" else check.problems
        if response.url != origin:
            if not site.allows(response.url):
                problems.append(f"{what} {origin} redirects to {response.url}, outside allowed_domains "
                                      f"({', '.join(site.allowed_domains)}): the site moved host")
                return
            if kind == "start":
                check.warnings.append(f"start page {origin} redirects to {response.url}: update start_urls")
        if response.status >= 400:
            problems.append(f"{what} {origin}: HTTP {response.status}")
            return
        if kind == "report":
            check.reports_ok += 1
            return
        try:
            text = decode_body(response.body, response.headers.get(b"Content-Type"), site.encoding)
        except UndecodableError as e:
            check.problems.append(f"{what} {response.url}: undecodable ({e})")
            return
        if kind == "dataproxy":
            links, _ = meta["endpoint"].records(text, response.url)
            reports = [x for x in links if discovery.is_report_title(x.text) or site.title_ok(x.text)]
            yield from self.sample_reports(site, check, reports)
            return
        sel = Selector(text=text)
        reports = discovery.report_links(sel, response.url, site)
        yield from self.sample_reports(site, check, reports)
        if not reports and check.lists < MAX_LISTS:
            subs = [x for x in discovery.column_links(sel, response.url, site) if x.url != response.url]
            proxy = discovery.dataproxy(text, response.url)
            for link in subs[: MAX_LISTS - check.lists]:
                check.lists += 1
                req = self.req(site, link.url, "list", start=meta["start"])
                if req is not None:
                    yield req
            if proxy is not None:
                req = self.req(site, proxy.url, "dataproxy", start=meta["start"], endpoint=proxy)
                if req is not None:
                    yield req
            if kind == "start" and not subs and proxy is None:
                check.problems.append(f"start page {response.url} lists no report link, sub-column or data "
                                      "proxy: the column moved or was emptied")

    def sample_reports(self, site, check, reports):
        check.reports_seen += len(reports)
        pages = [x for x in reports if not discovery.is_attachment_url(x.url)] or reports
        for link in pages:
            if check.sampled >= self.sample:
                return
            check.sampled += 1
            req = self.req(site, link.url, "report")
            if req is not None:
                yield req


def check(spec: str, *, config: str | None, overrides: dict, report: str | None = None, out=sys.stdout) -> int:
    from .run import _crawl
    if config:
        overrides = {**overrides, "SITES_CONFIG": config}
    load_sites(overrides.get("SITES_CONFIG")).select(spec)          # unknown keys: a clear error first
    crawler = _crawl(CheckSpider, overrides, site=spec)
    checks = list(crawler.spider.checks.values())
    for c in checks:
        if not c.problems and not c.reports_seen:
            c.problems.append("no report link found from the start pages")
        if c.sampled and not c.reports_ok:              # every sampled report fails: the details moved
            c.problems += c.report_failures
        else:                                           # a dead link among live ones: worth a look only
            c.warnings += c.report_failures
        print(f"{c.key}: {c.status.upper()} ({c.reports_seen} report links seen, {c.reports_ok} of {c.sampled} "
              f"sampled fetched, {c.requests} requests)", file=out)
        for line in c.problems:
            print(f"   problem: {line}", file=out)
        for line in c.warnings:
            print(f"   warning: {line}", file=out)
    if report:
        Path(report).write_text(json.dumps([c.as_dict() for c in checks], ensure_ascii=False, indent=1),
                                encoding="utf-8")
    broken = [c.key for c in checks if c.status == "broken"]
    print(f"{len(checks) - len(broken)}/{len(checks)} entries work" + (f"; broken: {', '.join(broken)}" if broken
                                                                        else ""), file=out)
    return 1 if broken else 0
