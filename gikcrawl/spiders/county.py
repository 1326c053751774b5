"""The one generic spider: `scrapy crawl county -a site=KEY` (or site=a,b or site=all).

From each site's start URLs it follows 公开年报 columns, their sub-columns and list pages, report links and
attachments (gikcrawl.discovery), parses every report page with the shared parser (gikcrawl.extract) and
yields one item per report: the parser's record with its source. Pages that fail are counted by cause in
the stats and logged; every response received reaches a callback (HTTPERROR_ALLOW_ALL).
"""
from __future__ import annotations

from urllib.parse import urlencode

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from pathlib import Path

from scrapy_playwright.page import PageMethod

from .. import bounds, discovery, distributed
from ..attachments import ReportAssembler, attachment_record, merge
from ..browser import browser_path, missing_browser_message, render_meta
from .. import signals as gk_signals
from ..extract import decode_body
from ..failures import failure_cause
from ..items import is_html_type, is_report, report_item
from ..encoding import UndecodableError
from ..runs import RunState
from ..sites import SiteConfigError, load_sites



class CountySpider(scrapy.Spider):
    name = "county"

    def __init__(self, site: str | None = None, start_urls: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not site:
            raise ValueError("the county spider needs -a site=KEY (KEY, KEY1,KEY2 or all)")
        self.site_spec = site
        self.start_override = [u.strip() for u in start_urls.split(",")] if start_urls else None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        sites_file = load_sites(crawler.settings.get("SITES_CONFIG"))
        spider.sites = {s.key: s for s in sites_file.select(spider.site_spec)}
        spider.sites_digest = sites_file.digest
        spider.allowed_domains = sorted({d.split(":")[0] for s in spider.sites.values() for d in s.allowed_domains})
        renders = [k for k, site in spider.sites.items() if site.render]
        executable = browser_path(crawler.settings)
        if renders and not Path(executable).exists():
            raise SiteConfigError(f"sites {', '.join(renders)} have render set: {missing_browser_message(executable)}")
        spider.screenshots = crawler.settings.getbool("WARC_SCREENSHOTS")
        if crawler.settings.get("REDIS_URL"):
            distributed.configure(crawler.settings)
        spider.run = RunState.from_settings(crawler.settings)
        spider.rechecked = False
        spider.assembler = ReportAssembler()
        spider.refetched = set()
        crawler.signals.connect(spider.recheck_unlinked, signal=signals.spider_idle)
        if spider.start_override and len(spider.sites) != 1:
            raise SiteConfigError("-a start_urls=… needs exactly one site")
        slots = dict(crawler.settings.getdict("DOWNLOAD_SLOTS"))
        for site in spider.sites.values():
            p = site.politeness
            if "download_delay" in p or "concurrency" in p:
                slots[site.key] = {"delay": p.get("download_delay", crawler.settings.getfloat("DOWNLOAD_DELAY")),
                                   "concurrency": p.get("concurrency",
                                                        crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))}
        if not crawler.settings.frozen:
            crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        return spider

    def site_for_url(self, url: str) -> str | None:
        """The key of the first crawled site whose domains hold url (robots.txt has no site in its meta)."""
        return next((key for key, site in self.sites.items() if site.allows(url)), None)

    # --- requests ------------------------------------------------------------------------------------

    def request(self, url: str, site, kind: str, *, referer: str | None = None, text: str = "",
                in_column: bool = False, recheck: bool = False, **kw) -> scrapy.Request | None:
        if not site.allows(url):
            self.crawler.stats.inc_value("gikcrawl/offsite_links")
            return None
        if kind in ("report", "attachment") and not recheck:
            self.run.linked.add(url)
            if self.run.refresh == "new" and not self.run.revalidatable(url) and self.run.known(url):
                if url not in self.run.skipped_urls:
                    self.run.skipped_urls.add(url)
                    self.run.skipped[site.key] += 1
                    self.crawler.stats.inc_value("gikcrawl/incremental/skipped_known")
                return None
        meta = {"site": site.key, "kind": kind, "referer_page": referer, "link_text": text,
                "in_column": in_column}
        if site.politeness.get("robotstxt_obey") is False:
            meta["dont_obey_robotstxt"] = True
        if "download_delay" in site.politeness or "concurrency" in site.politeness:
            meta["download_slot"] = site.key
        if site.render in (True, "all") or (site.render == "lists" and kind == "list"):
            meta.update(render_meta(site.key))
            if self.screenshots:
                meta["playwright_page_methods"] = [PageMethod("screenshot", full_page=True, type="png")]
        cls = kw.pop("cls", scrapy.Request)
        return cls(url, callback=kw.pop("callback", self.parse_page), errback=self.on_error, meta=meta, **kw)

    def start_request(self, site, url: str) -> scrapy.Request | None:
        return self.request(url, site, "list", in_column=bool(discovery.COLUMN_SLUG.search(url)))

    async def start(self):
        for site in self.sites.values():
            for url in self.start_override or site.start_urls:
                req = self.start_request(site, url)
                if req is not None:      # (distributed: the shared dupefilter drops start URLs already queued)
                    yield req

    def recheck_unlinked(self):
        """Once the crawl is done: reports captured before that no list links any more are fetched once,
        so a page that is gone is reported as vanished (404/410) rather than silently dropped."""
        awaited = [u for u in self.assembler.awaited() if u not in self.refetched]
        if awaited:        # attachments a report page waits for whose request was dropped (e.g. as a duplicate)
            self.refetched.update(awaited)
            for url in awaited:
                prev_site = next((s for s in self.sites.values() if s.allows(url)), None)
                if prev_site is not None:
                    req = self.request(url, prev_site, "attachment", recheck=True)
                    if req is not None:
                        self.crawler.engine.crawl(req.replace(dont_filter=True))
            self.crawler.stats.inc_value("gikcrawl/attachments/refetched_awaited", len(awaited))
            raise DontCloseSpider
        if self.rechecked:
            return
        self.rechecked = True
        todo = self.run.unlinked_known(set(self.sites))
        for url, prev in todo:
            req = self.request(url, self.sites[prev.site], prev.kind, recheck=True)
            if req is not None:
                self.crawler.engine.crawl(req)
        if todo:
            self.crawler.stats.set_value("gikcrawl/incremental/rechecked_unlinked", len(todo))
            raise DontCloseSpider

    def on_error(self, failure):
        request = failure.request
        cause = failure_cause(failure)
        if cause != "crawl_limit":             # a bound reached is counted by gikcrawl/bounds.py, not a failure
            self.crawler.stats.inc_value(f"gikcrawl/failures/{cause}")
            self.logger.warning("fetch failed (%s: %s): %s [%s]", cause, failure.value, request.url,
                                request.meta.get("kind"))
            self.crawler.signals.send_catch_log(gk_signals.fetch_failed, request=request, failure=failure,
                                                spider=self)
        distributed.failed(self.crawler, request)
        if request.meta.get("kind") == "attachment":
            yield from self.emit(self.assembler.attachment(request.url, None, cause)[0])

    def unusable(self, response, cause: str) -> None:
        self.crawler.signals.send_catch_log(gk_signals.response_unusable, request=response.request,
                                            response=response, cause=cause, spider=self)

    # --- callbacks -----------------------------------------------------------------------------------

    def parse_page(self, response):
        site = self.sites[response.meta["site"]]
        kind = response.meta["kind"]
        stats = self.crawler.stats
        stats.inc_value(f"gikcrawl/pages/{kind}")
        if response.status >= 400:
            cause = f"http_{response.status}"
            if response.meta.get("challenge") == "browser":        # gikcrawl/browser.py could not pass it
                cause = "challenge_failed"
                self.unusable(response, cause)
            stats.inc_value(f"gikcrawl/failures/{cause}")
            self.logger.warning("HTTP %s for %s [%s]", response.status, response.url, kind)
            if kind == "attachment":
                yield from self.emit(self.assembler.attachment(response.url, None, f"HTTP {response.status}")[0])
            return
        content_type = response.headers.get(b"Content-Type") or b""
        disposition = response.headers.get(b"Content-Disposition") or b""
        if kind == "attachment" or not is_html_type(content_type) or b"attachment" in disposition.lower():
            yield from self.handle_attachment(response, site, content_type, disposition)
            return
        try:
            text = decode_body(response.body, content_type, site.encoding)
        except UndecodableError as e:
            stats.inc_value("gikcrawl/failures/undecodable")
            self.logger.warning("cannot decode %s: %s", response.url, e)
            self.unusable(response, "undecodable")
            return
        sel = Selector(text=text)
        if kind == "report":
            yield from self.handle_report(response, site, text, sel, content_type)
        else:
            yield from self.follow_lists(response, site, text, sel)

    def handle_report(self, response, site, text, sel, content_type):
        stats = self.crawler.stats
        record = report_item(text, url=response.url, site_key=site.key, site=site, content_type=content_type,
                             warc=response.meta.get("warc"))
        wanted = []
        for link in discovery.attachment_links(sel, response.url, site):
            if link.url in self.assembler.requested or link.url in self.assembler.done:
                wanted.append(link.url)
                continue
            req = self.request(link.url, site, "attachment", referer=response.url, text=link.text)
            if req is not None:
                self.assembler.requested.add(link.url)
                wanted.append(link.url)
                yield req
        if not is_report(record):
            if len(discovery.report_links(sel, response.url, site)) >= 2:   # a year sub-column, not a report
                yield from self.follow_lists(response, site, text, sel)
            else:
                stats.inc_value("gikcrawl/reports/not_a_report")
                self.logger.info("not a report: %s", response.url)
            return
        yield from self.emit(self.assembler.page(response.url, record, wanted))

    def handle_attachment(self, response, site, content_type, disposition):
        """An attachment, or a report link that answered with a file: parsed, then merged into the report
        page that linked it, or a report of its own when a list linked it."""
        stats = self.crawler.stats
        stats.inc_value("gikcrawl/attachments")
        try:
            record = attachment_record(response.body, url=response.url, site_key=site.key,
                                       content_type=content_type, warc=response.meta.get("warc"),
                                       disposition=disposition, link_text=response.meta.get("link_text") or "",
                                       max_pages=self.crawler.settings.getint("ATTACHMENT_MAX_PAGES", 200))
        except Exception as e:           # an extractor bug must not keep the report page waiting forever
            stats.inc_value("gikcrawl/failures/attachment_extraction")
            self.logger.error("cannot extract %s: %s: %s", response.url, type(e).__name__, e)
            yield from self.emit(self.assembler.attachment(response.url, None, f"{type(e).__name__}: {e}")[0])
            return
        ready, waited = self.assembler.attachment(response.url, record)
        yield from self.emit(ready)
        if not waited and (is_report(record) or discovery.is_report_title(response.meta.get("link_text") or "")):
            yield from self.emit([merge(None, [record])])        # a report published only as a file

    def emit(self, records):
        stats = self.crawler.stats
        for record in records:
            stats.inc_value("gikcrawl/reports/parsed")
            stats.inc_value(f"gikcrawl/reports/format/{record['format']}")
            if any(not c["ok"] for c in record["checks"]):
                stats.inc_value("gikcrawl/reports/checks_failed")
            yield record

    def follow_lists(self, response, site, text, sel):
        base = response.url
        reports = discovery.report_links(sel, base, site)
        # a 公开年报 column: reached as one, named like one, or listing reports; only there are pagers and
        # sub-columns followed (elsewhere they would lead through the whole site)
        in_column = (response.meta.get("in_column") or bool(discovery.COLUMN_SLUG.search(base))
                     or len(reports) >= 2)
        for link in reports:
            kind = "attachment" if discovery.is_attachment_url(link.url) else "report"
            req = self.request(link.url, site, kind, referer=base, text=link.text)
            if req is not None:
                yield req
        for link in discovery.column_links(sel, base, site):
            req = self.request(link.url, site, "list", referer=base, text=link.text, in_column=True)
            if req is not None:
                yield req
        if in_column:
            max_pages = bounds.site_limits(self.crawler.settings, site).max_list_pages
            for url in discovery.pager_links(sel, base, site, max_pages=max_pages or None):
                req = self.request(url, site, "list", referer=base, in_column=True)
                if req is not None:
                    req.meta["via"] = "pager"        # gikcrawl/bounds.py bounds pagers by column
                    yield req
            if site.page_template:
                yield from self.template_pages(response, site)
        proxy = discovery.dataproxy(text, base)
        if proxy is not None:
            yield self.dataproxy_request(proxy, site, base, 1)

    def template_pages(self, response, site):
        """index_{n}.html pages: the next one is asked for as long as pages answer with report links."""
        n = response.meta.get("page_n", 0) + 1
        req = self.request(response.urljoin(site.page_template.format(n=n)), site, "list", referer=response.url,
                           in_column=True)
        if req is not None:
            req.meta.update(page_n=n, via="template")
            yield req

    def dataproxy_request(self, proxy, site, referer, start):
        end = start + proxy.perpage * 3 - 1
        url = f"{proxy.url}?{urlencode({'startrecord': start, 'endrecord': end, 'perpage': proxy.perpage})}"
        req = self.request(url, site, "list", referer=referer, cls=scrapy.FormRequest, formdata=proxy.params,
                           callback=self.parse_dataproxy, in_column=True)
        if req is not None:
            req.meta.update(dataproxy=proxy, dataproxy_end=end, via="dataproxy")
        return req

    def parse_dataproxy(self, response):
        site = self.sites[response.meta["site"]]
        self.crawler.stats.inc_value("gikcrawl/pages/dataproxy")
        if response.status >= 400:
            self.crawler.stats.inc_value(f"gikcrawl/failures/http_{response.status}")
            return
        links, total = discovery.dataproxy_records(decode_body(response.body, response.headers.get(b"Content-Type")),
                                                   response.url)
        for link in links:
            if discovery.is_report_title(link.text) or site.title_ok(link.text):
                req = self.request(link.url, site, "report", referer=response.url, text=link.text)
                if req is not None:
                    yield req
        end = response.meta["dataproxy_end"]
        if total is not None and end < total:
            req = self.dataproxy_request(response.meta["dataproxy"], site, response.url, end + 1)
            if req is not None:
                yield req
