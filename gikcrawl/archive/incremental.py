"""IncrementalMiddleware: conditional requests from earlier captures, and archived bodies for 304s.

A report or attachment captured by an earlier run is asked for with If-None-Match / If-Modified-Since
when that capture had an ETag / Last-Modified. The WARC middleware archives a 304 as a server-not-modified
revisit; this middleware (just below it) then gives the spider the earlier capture's stored response, so
the page is parsed as if it had been sent again. Earlier captures come from the archive storage
(gikcrawl/archive/storage.py).
"""
from __future__ import annotations

from scrapy.exceptions import NotConfigured

from ..meta import KIND
from .storage import archive_storage


class IncrementalMiddleware:
    def __init__(self, crawler):
        if crawler.settings.get("REPLAY_FROM"):
            raise NotConfigured
        self.crawler = crawler
        self.storage = archive_storage(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if request.meta.get("playwright") or request.meta.get(KIND) not in ("report", "attachment"):
            return None
        prev = self.storage.previous(request.url)
        if prev is None:
            return None
        if prev.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = prev.etag
        if prev.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = prev.last_modified
        return None

    def process_response(self, request, response, spider=None):
        if response.status != 304 or request.meta.get("playwright"):
            return response
        earlier = self.storage.retrieve_previous(request.url, request=request, flags=["not-modified"])
        if earlier is None:
            return response
        self.crawler.stats.inc_value("gikcrawl/incremental/not_modified")
        return earlier
