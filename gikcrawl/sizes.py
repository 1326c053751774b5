"""Separate size limits for pages and attachments: an HTML (or other text) response may hold at most
GIKCRAWL_PAGE_MAXSIZE bytes, an attachment DOWNLOAD_MAXSIZE.

The limit follows what the server says it sends, not what the link looked like: at headers_received the
request's ``download_maxsize`` meta is lowered for text types, before Scrapy's HTTP handler reads it (for
the Content-Length check and while the body streams in) and before HttpCompressionMiddleware reads it (the
decompression limit of a gzip bomb). Exceeding it fails the request with cause size_limit or
decompression_limit (gikcrawl/failures.py).
"""
from __future__ import annotations

from scrapy import signals

_TEXT_TYPES = (b"text/", b"application/xhtml", b"application/xml", b"application/json", b"application/javascript")


def is_text_type(content_type: bytes | None) -> bool:
    return (content_type or b"").strip().lower().startswith(_TEXT_TYPES)


class SizeLimits:
    def __init__(self, crawler):
        self.page_max = crawler.settings.getint("GIKCRAWL_PAGE_MAXSIZE")
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def headers_received(self, headers, body_length, request, spider=None):
        if self.page_max and is_text_type(headers.get(b"Content-Type")):
            current = request.meta.get("download_maxsize")
            request.meta["download_maxsize"] = min(current, self.page_max) if current else self.page_max
