"""IncrementalMiddleware: conditional requests from earlier captures, and archived bodies for 304s.

A report or attachment captured by an earlier run is asked for with If-None-Match / If-Modified-Since
when that capture had an ETag / Last-Modified. The WARC middleware
archives a 304 as a server-not-modified revisit; this middleware (just below it) then gives the spider
the earlier capture's stored response, so the page is parsed as if it had been sent again.
"""
from __future__ import annotations

from pathlib import Path

from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from ..meta import KIND
from ..runs import run_state
from .reader import read_member, record_of


class IncrementalMiddleware:
    def __init__(self, crawler):
        if crawler.settings.get("REPLAY_FROM"):
            raise NotConfigured
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _previous(self, request):
        run = run_state(self.crawler)
        if run is None or request.meta.get("playwright"):
            return None, None
        return run, run.previous.get(request.url)

    def process_request(self, request, spider=None):
        run, prev = self._previous(request)
        if prev is None or request.meta.get(KIND) not in ("report", "attachment"):
            return None
        if prev.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = prev.etag
        if prev.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = prev.last_modified
        return None

    def process_response(self, request, response, spider=None):
        if response.status != 304:
            return response
        run, prev = self._previous(request)
        if prev is None or not prev.warc_file:
            return response
        rec = record_of(read_member(Path(run.archive_dir) / prev.warc_file, prev.warc_offset))
        body = rec.raw_stream.read()
        headers = Headers()
        for name, value in rec.http_headers.headers:
            headers.appendlist(name, value.encode("latin-1", "replace"))
        self.crawler.stats.inc_value("gikcrawl/incremental/not_modified")
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=int(rec.http_headers.get_statuscode()), headers=headers, body=body,
                   request=request, flags=["not-modified"])
