"""What became of each site, said in the crawl's last lines; a crawl whose sites all failed is a failure.

SiteOutcome (an extension) follows every response, failure and item per site. At spider close it logs one
line per site (reports, failures by cause, bounds reached) and, for a site from which nothing usable came
back (and something failed), why; it keeps the verdict for `scrapy crawl` (gikcrawl/commands/crawl.py) and `gikcrawl` commands
(``failed_sites``), which exit non-zero when every site failed. A warning at start names a missing
GIKCRAWL_CONTACT. Network errors met while fetching robots.txt are logged in one line, not a traceback
(Scrapy logs them with exc_info; with LOG_LEVEL=DEBUG the traceback stays).
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict

from scrapy import signals

from . import signals as gk_signals
from .failures import exception_cause, failure_cause
from .meta import SITE

logger = logging.getLogger(__name__)
CONTACT_PLACEHOLDER = "set GIKCRAWL_CONTACT"


class _OneLineNetworkErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            cause = exception_cause(record.exc_info[1])
            record.msg = f"{record.getMessage()} [{cause}]"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


_ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


class SiteOutcome:
    def __init__(self, crawler):
        self.crawler = crawler
        self.ok: Counter = Counter()                        # site → usable responses
        self.reports: Counter = Counter()
        self.failures: dict[str, Counter] = defaultdict(Counter)
        self.failed_sites: dict[str, str] = {}              # site → why, filled at close
        self.sites: list[str] = []
        self.finished = False
        s = crawler.signals
        s.connect(self.spider_opened, signal=signals.spider_opened)
        s.connect(self.response_received, signal=signals.response_received)
        s.connect(self.fetch_failed, signal=gk_signals.fetch_failed)
        s.connect(self.unusable, signal=gk_signals.response_unusable)
        s.connect(self.item_scraped, signal=signals.item_scraped)
        s.connect(self.spider_closed, signal=signals.spider_closed)
        self._filter = None
        if crawler.settings.get("LOG_LEVEL") != "DEBUG":
            self._filter = _OneLineNetworkErrors()
            logging.getLogger(_ROBOTS_LOGGER).addFilter(self._filter)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.sites = list(getattr(spider, "sites", {}) or [])
        s = self.crawler.settings
        if CONTACT_PLACEHOLDER in (s.get("GIKCRAWL_CONTACT") or CONTACT_PLACEHOLDER) and not s.get("REPLAY_FROM"):
            logger.warning("GIKCRAWL_CONTACT is not set: every request's User-Agent names no one to contact about "
                           "this crawler; set it (-s GIKCRAWL_CONTACT=name@example.org)")

    def response_received(self, response, request, spider):
        site = request.meta.get(SITE)
        if site is None:
            return
        if response.status < 400:
            self.ok[site] += 1
        else:
            cause = "challenge_failed" if request.meta.get("challenge") == "browser" else f"http_{response.status}"
            self.failures[site][cause] += 1

    def fetch_failed(self, request, failure, spider):
        site = request.meta.get(SITE)
        if site is not None:
            self.failures[site][failure_cause(failure)] += 1

    def unusable(self, request, response, cause, spider):
        site = request.meta.get(SITE)
        if site is not None and response.status < 400:     # (an error status was counted when received)
            self.ok[site] -= 1
            self.failures[site][cause] += 1

    def item_scraped(self, item, response, spider):
        site = (item.get("source") or {}).get("site") if isinstance(item, dict) else None
        if site is None:
            site = getattr(response, "meta", {}).get("site") if response is not None else None
        if site is not None:
            self.reports[site] += 1

    def summary_lines(self) -> list[str]:
        limits = getattr(self.crawler.spider, "limits_reached", {}) or {}
        lines = []
        for site in self.sites:
            failures = ", ".join(f"{k} {v}" for k, v in sorted(self.failures[site].items())) or "none"
            bounds = ", ".join(f"{k} {v}" for k, v in sorted((limits.get(site) or {}).get("reached", {}).items()))
            line = f"site {site}: {self.reports[site]} reports, {max(self.ok[site], 0)} pages fetched, " \
                   f"failures: {failures}" + (f"; bounds reached: {bounds}" if bounds else "")
            if site in self.failed_sites:
                line += f" — FAILED: {self.failed_sites[site]}"
            lines.append(line)
        if self.sites and len(self.failed_sites) == len(self.sites):
            lines.append(f"all {len(self.sites)} sites failed: {', '.join(self.sites)}")
        return lines

    def all_failed(self) -> bool:
        return self.finished and bool(self.sites) and len(self.failed_sites) == len(self.sites)

    def spider_closed(self, spider, reason):
        if self._filter is not None:
            logging.getLogger(_ROBOTS_LOGGER).removeFilter(self._filter)
        if reason != "finished":
            return
        self.finished = True
        for site in self.sites:
            causes = self.failures[site]
            # failed: requests were made and none gave anything usable (a distributed worker left with
            # nothing to do, or a run with every report known, has made none: not a failure)
            if self.ok[site] <= 0 and causes:
                self.failed_sites[site] = "nothing usable fetched (" + ", ".join(
                    f"{k} {v}" for k, v in causes.most_common()) + ")"
        self.crawler.stats.set_value("gikcrawl/sites_failed", len(self.failed_sites))
        for line in self.summary_lines():
            (logger.error if "FAILED" in line or line.startswith("all ") else logger.info)(line)
