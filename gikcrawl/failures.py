"""Every failed fetch gets a cause a person can read: one short name per kind of failure, used alike in the
stats (gikcrawl/failures/<cause>), the catalog's `error` column and the run report.

Scrapy wraps Twisted's errors (DownloadFailedError around a ResponseFailed, DownloadCancelledError around a
CancelledError, ...), so the cause is found by walking the exception chain, not by the outer type alone.
"""
from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest


class LimitReached(IgnoreRequest):
    """A request dropped because a crawl bound was reached (gikcrawl/bounds.py counts and reports it)."""


class RedirectLoop(IgnoreRequest):
    """A redirect leads back to a URL already visited in the same redirect chain."""


class TooManyRedirects(IgnoreRequest):
    """More redirects than REDIRECT_MAX_TIMES."""


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware, telling a loop (A → B → A) from a long chain. Without this a loop ends
    silently: the dupefilter drops the second request for A and no failure is ever recorded."""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        visits = chain.count(redirected.url)
        if visits >= 2:
            raise RedirectLoop(f"redirect loop: {' -> '.join([*chain, redirected.url])}")
        try:
            out = super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            raise TooManyRedirects(f"more than {self.max_redirect_times} redirects from "
                                   f"{chain[0]}") from None
        if visits:          # back to a URL of the chain once (a server that sets a cookie, then redirects
            out.dont_filter = True      # back): allowed, past the dupefilter; a second time is a loop
        return out


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        for reason in getattr(exc, "reasons", None) or []:     # twisted.web._newclient.ResponseFailed
            inner = getattr(reason, "value", None)
            if inner is not None:
                yield inner
        exc = exc.__cause__ or exc.__context__


# class name anywhere in the exception chain → cause; the first that matches wins (most specific first:
# bad chunk framing also ends as data loss, a reset as a lost connection)
_BY_NAME = [
    ("RedirectLoop", "redirect_loop"),
    ("TooManyRedirects", "too_many_redirects"),
    ("LimitReached", "crawl_limit"),
    ("_MalformedChunkedDataError", "bad_chunking"),
    ("ChunkedBodyCut", "bad_chunking"),            # gikcrawl/archive/truncated.py: archived, then failed
    ("_DataLoss", "short_body"),
    ("ResponseDataLossError", "short_body"),
    ("PotentialDataLoss", "short_body"),
    ("DownloadTimeoutError", "timeout"),
    ("TimeoutError", "timeout"),
    ("TCPTimedOutError", "timeout"),
    ("DownloadConnectionRefusedError", "connection_refused"),
    ("ConnectionRefusedError", "connection_refused"),
    ("CannotResolveHostError", "dns"),
    ("DNSLookupError", "dns"),
    ("ConnectionResetError", "connection_lost"),
    ("ConnectionLost", "connection_lost"),
    ("ConnectionDone", "connection_lost"),
    ("BrowserMissing", "browser_missing"),
]


def exception_cause(exc: BaseException) -> str:
    """The cause of a failed fetch, from the exception its errback received."""
    chain = list(_chain(exc))
    names = {type(e).__name__ for e in chain}
    text = " ".join(str(e) for e in chain)
    for name, cause in _BY_NAME[:3]:
        if name in names:
            return cause
    if "Forbidden by robots.txt" in text:
        return "robots_forbidden"
    if "during decompression" in text:
        return "decompression_limit"
    if "larger than download max size" in text or "DownloadCancelledError" in names:
        return "size_limit"         # Scrapy cancels a download only for DOWNLOAD_MAXSIZE (header or body)
    for name, cause in _BY_NAME[3:]:
        if name in names:
            return cause
    if type(exc).__module__.startswith("playwright"):
        return "browser_error"
    return type(exc).__name__


def failure_cause(failure) -> str:
    """The cause of a Twisted Failure handed to an errback (or to the fetch_failed signal)."""
    value = getattr(failure, "value", None)
    if isinstance(value, BaseException):
        return exception_cause(value)
    return str(value) if value else "unknown"
