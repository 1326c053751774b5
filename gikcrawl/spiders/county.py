"""The one generic spider: `scrapy crawl county -a site=KEY` (or site=a,b or site=all).

From each site's start URLs it follows 公开年报 columns, their sub-columns and list pages, report links and
attachments (gikcrawl.discovery), parses every report page with the shared parser (gikcrawl.extract) and
yields one item per report: the parser's record with its source. Pages that fail are counted by cause in
the stats and logged; every response received reaches a callback (HTTPERROR_ALLOW_ALL).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_playwright.page import PageMethod
from twisted.python.failure import Failure

from .. import bounds, discovery, distributed
from .. import signals as gk_signals
from ..archive.storage import archive_storage
from ..attachments import attachment_record, unreadable_record
from ..browser import browser_path, missing_browser_message, render_meta
from ..encoding import UndecodableError
from ..extract import decode_body
from ..failures import failure_cause
from ..items import is_html_type, is_report, report_item
from ..meta import IN_COLUMN, KIND, LINK_TEXT, REFERER_PAGE, SITE, WARC
from ..report import Carrier, build_report, standalone
from ..runs import RunState, run_state
from ..report_images import carrier_links
from ..sites import SiteConfigError, load_sites
from ..workers import WorkerLimit, workers_of


class CountySpider(scrapy.Spider):
    name = "county"
    records_runs = True         # RunExtension keeps this crawl's run state (earlier captures, refresh mode)

    @property
    def run(self) -> RunState:
        state = run_state(self.crawler)
        if state is None:       # outside a crawl (`gikcrawl enqueue`), or RunExtension turned off
            state = self.__dict__.setdefault("_own_run", RunState.from_settings(self.crawler.settings))
        return state

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
        spider.rechecked = False
        spider.documents = {}            # url → the task fetching and reading that document (once per crawl)
        spider.emitted_documents = set()  # documents emitted as reports of their own
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
                in_column: bool = False, recheck: bool = False, via: str | None = None,
                **kw) -> scrapy.Request | None:
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
        meta = {SITE: site.key, KIND: kind, REFERER_PAGE: referer, LINK_TEXT: text, IN_COLUMN: in_column}
        if site.politeness.get("robotstxt_obey") is False:
            meta["dont_obey_robotstxt"] = True
        if "download_delay" in site.politeness or "concurrency" in site.politeness:
            meta["download_slot"] = site.key
        if site.render in (True, "all") or (site.render == "lists" and kind == "list"):
            meta.update(render_meta(site.key))
            if self.screenshots:
                meta["playwright_page_methods"] = [PageMethod("screenshot", full_page=True, type="png")]
        if via:           # a document shown by a viewer page: fetched as the viewer would, the viewer as Referer
            meta["viewer"] = via
            kw["headers"] = {**kw.get("headers", {}), "Referer": via}
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

    def failed(self, request, cause: str, failure) -> None:
        if cause == "crawl_limit":             # a bound reached is counted by gikcrawl/bounds.py, not a failure
            return
        self.crawler.stats.inc_value(f"gikcrawl/failures/{cause}")
        self.logger.warning("fetch failed (%s: %s): %s [%s]", cause, failure.value, request.url, request.meta.get(KIND))
        self.crawler.signals.send_catch_log(gk_signals.fetch_failed, request=request, failure=failure, spider=self)

    def on_error(self, failure):
        request = failure.request
        self.failed(request, failure_cause(failure), failure)
        distributed.failed(self.crawler, request)

    # --- documents (attachments, and report links that answer with a file) ---------------------------

    async def document(self, url: str, site, referer: str, text: str, via: str | None = None) -> Carrier | None:
        """The carrier at url, fetched and read once per crawl however many pages link it (None: not fetched,
        offsite or, in a `--refresh new` run, known and not captured again)."""
        task = self.documents.get(url)
        if task is None:
            task = self.documents[url] = asyncio.ensure_future(self._fetch_document(url, site, referer, text, via))
        return await task

    async def _fetch_document(self, url: str, site, referer: str, text: str, via: str | None = None) -> Carrier | None:
        req = self.request(url, site, "attachment", referer=referer, text=text, via=via)
        if req is None:
            return await self.archived_document(url, site, text)
        try:
            response = await self.crawler.engine.download_async(req)
        except Exception as e:          # every cause is counted, logged and named in the report's warnings
            failure = Failure(e)
            cause = failure_cause(failure)
            self.failed(req, cause, failure)
            return Carrier(url, None, cause)
        self.crawler.stats.inc_value("gikcrawl/pages/attachment")
        if response.status >= 400:
            self.crawler.stats.inc_value(f"gikcrawl/failures/http_{response.status}")
            self.logger.warning("HTTP %s for %s [attachment]", response.status, response.url)
            return Carrier(url, None, f"HTTP {response.status}")
        return Carrier(url, await self.read_document(response, site, text))

    async def archived_document(self, url: str, site, text: str) -> Carrier | None:
        """A known attachment a `--refresh new` run does not fetch again: read from its earlier capture, so
        the report's record is the one replay gives (NOTES.md: the second live/replay disagreement)."""
        storage = archive_storage(self.crawler)
        prev = storage.previous(url)
        try:
            response = storage.retrieve_previous(url, decode=True)
        except Exception as e:          # a damaged earlier capture: the report says so
            return Carrier(url, None, f"earlier capture unreadable ({type(e).__name__})")
        if response is None:
            return None
        warc = {"file": prev.warc_file, "offset": prev.warc_offset, "record_id": prev.record_id, "date": prev.date,
                "payload_digest": prev.digest}
        return Carrier(url, await self.document_record(response.body, url, site, response.headers.get(b"Content-Type"),
                                                       response.headers.get(b"Content-Disposition"), warc, text))

    async def read_document(self, response, site, text: str = "") -> dict:
        return await self.document_record(response.body, response.url, site,
                                          response.headers.get(b"Content-Type") or b"",
                                          response.headers.get(b"Content-Disposition") or b"",
                                          response.meta.get(WARC), text or response.meta.get(LINK_TEXT) or "")

    async def document_record(self, body: bytes, url: str, site, content_type, disposition, warc, text) -> dict:
        """The document's record, extracted and parsed in a worker process; past a limit, or on an
        extractor bug, a record saying why it was not read (the raw bytes are archived)."""
        stats = self.crawler.stats
        stats.inc_value("gikcrawl/attachments")
        settings = self.crawler.settings
        args = dict(url=url, site_key=site.key, content_type=content_type, warc=warc, disposition=disposition,
                    link_text=text)
        try:
            return await workers_of(self.crawler).run(
                attachment_record, body, **args, max_pages=settings.getint("ATTACHMENT_MAX_PAGES"),
                timeout=settings.getfloat("GIKCRAWL_WORKER_TIMEOUT"))
        except WorkerLimit as e:
            self.logger.warning("attachment not read: %s: %s", url, e)
            return unreadable_record(f"not read: {e}", **args)
        except Exception as e:           # an extractor bug: the report still comes out, saying so
            stats.inc_value("gikcrawl/failures/attachment_extraction")
            self.logger.error("cannot extract %s: %s: %s", url, type(e).__name__, e)
            return unreadable_record(f"not read: {type(e).__name__}: {e}", **args)

    async def standalone_documents(self, links, site, referer: str):
        """Documents linked from a list (or from a page that is not a report): reports of their own when
        they read as reports; each emitted once."""
        links = [link for link in links if link.url not in self.emitted_documents]
        carriers = await asyncio.gather(*(self.document(link.url, site, referer, link.text, link.via)
                                          for link in links))
        for link, carrier in zip(links, carriers):
            if carrier is not None and standalone(carrier, link.text) and link.url not in self.emitted_documents:
                self.emitted_documents.add(link.url)
                yield self.emit(build_report(None, [carrier]))

    def unusable(self, response, cause: str) -> None:
        self.crawler.signals.send_catch_log(gk_signals.response_unusable, request=response.request,
                                            response=response, cause=cause, spider=self)

    # --- callbacks -----------------------------------------------------------------------------------

    async def parse_page(self, response):
        site = self.sites[response.meta[SITE]]
        kind = response.meta[KIND]
        stats = self.crawler.stats
        stats.inc_value(f"gikcrawl/pages/{kind}")
        if response.status >= 400:
            cause = f"http_{response.status}"
            if response.meta.get("challenge") == "browser":        # gikcrawl/browser.py could not pass it
                cause = "challenge_failed"
                self.unusable(response, cause)
            stats.inc_value(f"gikcrawl/failures/{cause}")
            self.logger.warning("HTTP %s for %s [%s]", response.status, response.url, kind)
            return
        content_type = response.headers.get(b"Content-Type") or b""
        disposition = response.headers.get(b"Content-Disposition") or b""
        if kind == "attachment" or not is_html_type(content_type) or b"attachment" in disposition.lower():
            # a report link that answered with a file (or a known attachment rechecked): a report of its own
            carrier = Carrier(response.url, await self.read_document(response, site))
            self.documents.setdefault(response.url, _done(carrier))
            if standalone(carrier, response.meta.get(LINK_TEXT) or "") and response.url not in self.emitted_documents:
                self.emitted_documents.add(response.url)
                yield self.emit(build_report(None, [carrier]))
            return
        try:
            text = decode_body(response.body, content_type, site.encoding)
        except UndecodableError as e:
            stats.inc_value("gikcrawl/failures/undecodable")
            self.logger.warning("cannot decode %s: %s", response.url, e)
            self.unusable(response, "undecodable")
            return
        sel = Selector(text=text)
        if kind != "report":
            async for out in self.follow_lists(response, site, text, sel):
                yield out
            return
        record = await self.report_record(response, site, text, content_type)
        links = discovery.attachment_links(sel, response.url, site)
        if not is_report(record):
            if len(discovery.report_links(sel, response.url, site)) >= 2:   # a year sub-column, not a report
                async for out in self.follow_lists(response, site, text, sel):
                    yield out
            else:
                stats.inc_value("gikcrawl/reports/not_a_report")
                self.logger.info("not a report: %s", response.url)
            async for out in self.standalone_documents(links, site, response.url):
                yield out
            return
        links = carrier_links(sel, response.url, site, record)       # attachments, report images
        carriers = await asyncio.gather(*(self.document(link.url, site, response.url, link.text, link.via)
                                          for link in links))
        yield self.emit(build_report(record, [c for c in carriers if c is not None]))

    async def report_record(self, response, site, text: str, content_type) -> dict:
        """The page's record; a large page is parsed in a worker process (a 60 MB page parses for ~30 s)."""
        args = dict(url=response.url, site_key=site.key, site=site, content_type=content_type,
                    warc=response.meta.get(WARC))
        if len(text) <= self.crawler.settings.getint("GIKCRAWL_INLINE_PAGE_SIZE"):
            return report_item(text, **args)
        try:
            return await workers_of(self.crawler).run(report_item, text, **args)
        except WorkerLimit as e:
            self.crawler.stats.inc_value("gikcrawl/failures/page_parse_limit")
            self.logger.warning("report page not parsed: %s: %s", response.url, e)
            record = unreadable_record(str(e), url=response.url, site_key=site.key, content_type=content_type,
                                       warc=response.meta.get(WARC), link_text=response.meta.get(LINK_TEXT) or "")
            record["warnings"] = [f"report page not parsed: {e}"]
            record.pop("carrier", None)
            return record

    def emit(self, record: dict) -> dict:
        stats = self.crawler.stats
        stats.inc_value("gikcrawl/reports/parsed")
        stats.inc_value(f"gikcrawl/reports/format/{record['format']}")
        if any(not c["ok"] for c in record["checks"]):
            stats.inc_value("gikcrawl/reports/checks_failed")
        return record

    async def follow_lists(self, response, site, text, sel):
        base = response.url
        reports = discovery.report_links(sel, base, site)
        # a 公开年报 column: reached as one, named like one, or listing reports; only there are pagers and
        # sub-columns followed (elsewhere they would lead through the whole site)
        in_column = (response.meta.get(IN_COLUMN) or bool(discovery.COLUMN_SLUG.search(base))
                     or len(reports) >= 2)
        documents = []
        for link in reports:
            if discovery.is_attachment_url(link.url):
                documents.append(link)
                continue
            req = self.request(link.url, site, "report", referer=base, text=link.text, via=link.via)
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
                for req in self.template_pages(response, site):
                    yield req
        proxy = discovery.dataproxy(text, base)
        if proxy is not None:
            yield self.dataproxy_request(proxy, site, base, 1)
        async for out in self.standalone_documents(documents, site, base):
            yield out

    def template_pages(self, response, site):
        """index_{n}.html pages: the next one is asked for as long as pages answer with report links."""
        n = response.meta.get("page_n", 0) + 1
        req = self.request(response.urljoin(site.page_template.format(n=n)), site, "list", referer=response.url,
                           in_column=True)
        if req is not None:
            req.meta.update(page_n=n, via="template")
            yield req

    def dataproxy_request(self, proxy, site, referer, start):
        url, end = proxy.page_url(start, pages=3)
        req = self.request(url, site, "list", referer=referer, cls=scrapy.FormRequest, formdata=proxy.params,
                           callback=self.parse_dataproxy, in_column=True)
        if req is not None:
            req.meta.update(dataproxy=proxy, dataproxy_end=end, via="dataproxy")
        return req

    def parse_dataproxy(self, response):
        site = self.sites[response.meta[SITE]]
        self.crawler.stats.inc_value("gikcrawl/pages/dataproxy")
        if response.status >= 400:
            self.crawler.stats.inc_value(f"gikcrawl/failures/http_{response.status}")
            return
        links, total = response.meta["dataproxy"].records(
            decode_body(response.body, response.headers.get(b"Content-Type")), response.url)
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


def _done(carrier: Carrier) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_result(carrier)
    return future
