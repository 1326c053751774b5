"""Crawl bounds that are never silent: list pages per column, pager depth, requests per site, and pagers
that keep returning the same report links (the real trap: an endless 下一页 chain, a page_template or
createPageHTML pager that answers every page number with the same list).

A *column* is the first page of a 公开年报 column (or sub-column) with every list page reached from it through
its pager (meta ``via``: pager, template, dataproxy). The spider middleware sees what each list page yields:
report links first, then pager links, so it knows whether a page added a report link its column had not
shown yet before it decides on the pager. The downloader middleware counts requests per site and drops
queued pager requests of a column found to be a trap. Every bound reached is counted in the stats
(gikcrawl/limits/<bound>), logged as a warning naming site and column, and kept for the run report
(``spider.limits_reached``).

Defaults are settings (GIKCRAWL_MAX_LIST_PAGES, GIKCRAWL_MAX_PAGER_DEPTH, GIKCRAWL_MAX_REQUESTS,
GIKCRAWL_STALE_PAGES); a site entry overrides them with ``limits: {max_list_pages, max_pager_depth,
max_requests, stale_pages}``.
"""
from __future__ import annotations

import logging
import weakref
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from scrapy import Request

from .failures import LimitReached
from .meta import KIND, SITE

logger = logging.getLogger(__name__)

PAGER_VIA = ("pager", "template", "dataproxy")
_SETTINGS = {"max_list_pages": "GIKCRAWL_MAX_LIST_PAGES", "max_pager_depth": "GIKCRAWL_MAX_PAGER_DEPTH",
             "max_requests": "GIKCRAWL_MAX_REQUESTS", "stale_pages": "GIKCRAWL_STALE_PAGES"}


@dataclass(frozen=True)
class Limits:
    max_list_pages: int        # list pages of one column (its first page and all pager pages); 0: none
    max_pager_depth: int       # pager steps from the column's first page; 0: none
    max_requests: int          # requests to the downloader for one site, retries and redirects included; 0: none
    stale_pages: int           # list pages in a row adding no report link new to their column: a trap; 0: off


def site_limits(settings, site) -> Limits:
    own = dict(getattr(site, "limits", None) or {})
    return Limits(**{k: int(own.get(k, settings.getint(name))) for k, name in _SETTINGS.items()})


@dataclass
class Column:
    site: str
    url: str
    reports: set = field(default_factory=set)      # report/attachment links seen on the column's pages
    pages: set = field(default_factory=set)        # list page URLs requested for the column
    stale_run: int = 0                             # list pages in a row (arrival order) adding nothing
    stale_fetched: int = 0                         # list pages fetched that added nothing
    closed: str | None = None                      # the bound that stopped the column


class BoundsState:
    def __init__(self, crawler):
        self.crawler = crawler
        self.columns: dict[str, Column] = {}
        self.requests: Counter = Counter()                     # site → requests sent to the downloader
        self.reached: dict[str, Counter] = defaultdict(Counter)   # site → bound → times reached
        self.dropped: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))   # site → bound → URLs not fetched
        self._limits: dict[str, Limits] = {}

    def limits(self, spider, key: str) -> Limits:
        if key not in self._limits:
            site = getattr(spider, "sites", {}).get(key)
            self._limits[key] = site_limits(self.crawler.settings, site)
        return self._limits[key]

    def reach(self, spider, site: str, bound: str, where: str, detail: str) -> None:
        stats = self.crawler.stats
        self.reached[site][bound] += 1
        stats.inc_value(f"gikcrawl/limits/{bound}")
        logger.warning("site %s, %s: %s; not followed further", site, where, detail)
        self._publish(spider)

    def _publish(self, spider) -> None:
        spider.limits_reached = {s: {"reached": dict(c), "requests_not_made": {
            b: len(urls) for b, urls in self.dropped[s].items()}} for s, c in self.reached.items()}

    def drop(self, spider, site: str, bound: str, url: str) -> None:
        """A request not made because of a bound (each URL counted once, however often it was linked)."""
        urls = self.dropped[site][bound]
        if url not in urls:
            urls.add(url)
            self.crawler.stats.inc_value("gikcrawl/limits/requests_not_made")
            self._publish(spider)


_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def state(crawler) -> BoundsState:
    if crawler not in _STATES:
        _STATES[crawler] = BoundsState(crawler)
    return _STATES[crawler]


class CrawlBoundsSpiderMiddleware:
    """Pager bounds and the trap detector, at the point where list pages yield their follow-ups."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.state = state(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result, spider=None):
        judge = self._judge(response)
        for out in result:
            if judge is None or not isinstance(out, Request) or judge(out):
                yield out

    async def process_spider_output_async(self, response, result, spider=None):
        judge = self._judge(response)
        async for out in result:
            if judge is None or not isinstance(out, Request) or judge(out):
                yield out

    def _judge(self, response):
        """A function telling whether a request a list page yields is followed (None: not a list page)."""
        meta = response.meta
        key = meta.get(SITE)
        if meta.get(KIND) != "list" or key is None:
            return None
        spider = self.crawler.spider
        st = self.state
        limits = st.limits(spider, key)
        col_url = meta.get("column") or response.url
        col = st.columns.get(col_url)
        if col is None:
            col = st.columns[col_url] = Column(key, col_url, pages={col_url})
        depth = meta.get("pager_depth", 0)
        page = {"new": 0, "pager_seen": False, "stale": meta.get("pager_stale", 0)}

        def judge(req: Request) -> bool:
            kind, via = req.meta.get(KIND), req.meta.get("via")
            if kind in ("report", "attachment"):
                if req.url not in col.reports:
                    col.reports.add(req.url)
                    page["new"] += 1
                return True
            if kind != "list":
                return True
            if via not in PAGER_VIA:
                req.meta.setdefault("column", req.url)        # a sub-column: a column of its own
                return True
            if not page["pager_seen"]:       # every report link of this page has been seen: judge the page
                page["pager_seen"] = True
                self._page_done(spider, col, limits, page)
            req.meta.update(column=col.url, pager_depth=depth + 1, pager_stale=page["stale"])
            if req.url in col.pages:           # requested for this column already (the dupefilter drops it)
                return True
            if col.closed:
                st.drop(spider, key, col.closed, req.url)
                return False
            if limits.max_pager_depth and depth + 1 > limits.max_pager_depth:
                return self._close(spider, col, req.url, "pager_depth",
                                   f"pager deeper than {limits.max_pager_depth} pages "
                                   f"(GIKCRAWL_MAX_PAGER_DEPTH / limits.max_pager_depth) at {response.url}")
            if limits.max_list_pages and len(col.pages) >= limits.max_list_pages:
                return self._close(spider, col, req.url, "list_pages",
                                   f"more than {limits.max_list_pages} list pages "
                                   f"(GIKCRAWL_MAX_LIST_PAGES / limits.max_list_pages)")
            col.pages.add(req.url)
            return True

        return judge

    def _page_done(self, spider, col: Column, limits: Limits, page: dict) -> None:
        if page["new"]:
            col.stale_run, page["stale"] = 0, 0
            return
        col.stale_run += 1
        col.stale_fetched += 1
        page["stale"] += 1
        run = max(col.stale_run, page["stale"])
        if limits.stale_pages and run >= limits.stale_pages and not col.closed:
            self.crawler.stats.inc_value("gikcrawl/limits/trap_pages", col.stale_fetched)
            self._close(spider, col, None, "same_reports",
                        f"{run} list pages in a row add no new report link (a pager trap; "
                        f"GIKCRAWL_STALE_PAGES / limits.stale_pages)")

    def _close(self, spider, col: Column, url: str | None, bound: str, detail: str) -> bool:
        if not col.closed:
            col.closed = bound
            self.state.reach(spider, col.site, bound, f"column {col.url}", detail)
        if url is not None:
            self.state.drop(spider, col.site, bound, url)
        return False


class CrawlBoundsDownloaderMiddleware:
    """Requests per site, and queued pager requests of a column closed after they were queued."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.state = state(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        meta = request.meta
        key = meta.get(SITE)
        if key is None:
            return
        spider = self.crawler.spider
        st = self.state
        col = st.columns.get(meta.get("column")) if meta.get("via") in PAGER_VIA else None
        if col is not None and col.closed == "same_reports":       # queued before the trap was seen
            st.drop(spider, key, col.closed, request.url)
            raise LimitReached(f"column {col.url} closed ({col.closed})")
        limit = st.limits(spider, key).max_requests
        if limit and st.requests[key] >= limit:
            if not st.reached[key]["requests"]:
                st.reach(spider, key, "requests", "whole site",
                         f"{limit} requests made (GIKCRAWL_MAX_REQUESTS / limits.max_requests)")
            st.drop(spider, key, "requests", request.url)
            raise LimitReached(f"site {key}: {limit} requests made")
        st.requests[key] += 1
