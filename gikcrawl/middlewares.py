"""Downloader middlewares: a user agent that names its operator, and retries with backoff."""
from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request


class ContactUserAgentMiddleware:
    """USER_AGENT with {contact} filled from GIKCRAWL_CONTACT, so -s GIKCRAWL_CONTACT=… reaches every request."""

    def __init__(self, user_agent: str):
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("USER_AGENT").replace("{contact}", s.get("GIKCRAWL_CONTACT")))

    def process_request(self, request, spider=None):
        if self.user_agent:
            request.headers.setdefault(b"User-Agent", self.user_agent)


def retry_after_seconds(value: bytes | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting before each retry: RETRY_BACKOFF_BASE × 2^(n-1), capped at
    RETRY_BACKOFF_MAX, or the server's Retry-After when it sends one. Only the retried request waits."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    def _delay(self, retry: Request, hint: float | None) -> float:
        attempt = retry.meta.get("retry_times", 1)
        delay = hint if hint is not None else self.base * 2 ** (attempt - 1)
        return min(max(delay, 0.0), self.cap)

    async def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            hint = retry_after_seconds(response.headers.get(b"Retry-After"))
            await asyncio.sleep(self._delay(result, hint))
        return result

    async def process_exception(self, request, exception, spider=None):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result, None))
        return result
