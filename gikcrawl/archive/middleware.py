"""WarcArchiveMiddleware: every request and response is archived as it crosses the downloader.

It sits at priority 950, next to the downloader: process_request sees the request after the cookie,
user-agent and header middlewares (what is sent), process_response sees the response before redirects are
followed and before HttpCompressionMiddleware (590) decodes the body (what was received). It decides what
is archived and how the crawl goes on; the archive storage (ARCHIVE_STORAGE, gikcrawl/archive/storage.py)
writes it and puts in request.meta["warc"] where each response went (file, offset, record_id, date,
payload_digest) for the spider, the items and the catalog.
"""
from __future__ import annotations

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured, ResponseDataLossError

from ..meta import CHANGE, WARC, WARC_SKIP
from .. import signals as gk_signals
from ..runs import run_state
from .storage import archive_storage
from .truncated import META_FLAG, ChunkedBodyCut, ReceivedSoFar, truncation_cause


class WarcArchiveMiddleware:
    def __init__(self, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED") or s.get("REPLAY_FROM"):
            raise NotConfigured
        self.crawler = crawler
        self.storage = archive_storage(crawler)
        self.received = ReceivedSoFar(crawler)        # for downloads that fail after their headers

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if "download_fail_on_dataloss" not in request.meta:     # cut-short bodies come here to be archived
            request.meta["download_fail_on_dataloss"] = False
            request.meta[META_FLAG] = True
        return None

    def process_exception(self, request, exception, spider=None):
        """A download that failed after its headers: what was received, as truncated records."""
        got = self.received.pop(request)
        if got is None or request.meta.get(WARC_SKIP):
            return None
        headers, body, status = got
        cause = truncation_cause(exception)
        self.storage.store_failed_download(spider or self.crawler.spider, request, headers, body, cause,
                                           f"{type(exception).__name__}: {exception}"[:300], status)
        self.crawler.stats.inc_value(f"warc/truncated/{cause}")
        return None

    def _truncated(self, request, response, spider):
        """A response whose connection ended before its body did (archived by process_response): retried
        like a failed download, then failed as ResponseDataLossError."""
        self.crawler.stats.inc_value("warc/truncated/disconnect")
        retry = get_retry_request(request, spider=spider, reason="dataloss")
        if retry is not None:
            return retry
        # a body without Content-Length that still lost data was chunked (the client consumes the
        # Transfer-Encoding header; a close-delimited body cannot end early)
        chunked = b"Content-Length" not in response.headers
        error = ChunkedBodyCut if chunked else ResponseDataLossError
        raise error(f"connection ended after {len(response.body)} bytes of the body: {request.url}")

    def process_response(self, request, response, spider=None):
        spider = spider or self.crawler.spider
        self.received.pop(request)
        if request.meta.get(WARC_SKIP):
            return response
        if "dataloss" in response.flags and request.meta.get(META_FLAG):
            self.storage.store_truncated(spider, request, response)
            return self._truncated(request, response, spider)
        self.storage.store_response(spider, request, response)
        run = run_state(self.crawler)
        if run is not None and not request.meta.get("playwright"):
            # the stored payload's digest (a revisit carries the earlier capture's, equal by definition)
            request.meta[CHANGE] = run.classify(request.url, response.status, request.meta[WARC]["payload_digest"])
        self.crawler.signals.send_catch_log(gk_signals.response_archived, request=request, response=response,
                                            spider=spider)
        return response
