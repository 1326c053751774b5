"""Rendering with Debian's Chromium through scrapy-playwright, and JavaScript challenges.

- BrowserDownloadHandler: scrapy-playwright's handler, which also keeps the main document's network
  response (status, reason phrase, raw header list, body, request headers) in request.meta[BROWSER_DOCUMENT]
  so the archive stores what the server sent beside the rendered DOM; a missing Chromium gives one clear
  error naming the Debian package.
- ChallengeMiddleware: a response that looks like a JavaScript challenge (412/405/521 with a script body,
  or 瑞数-style dynamic cookies) is fetched once more through the browser; the cookies the browser earns
  go into Scrapy's cookie jar for the domain's plain requests; a challenge the browser cannot pass is
  counted and reported, never retried in a loop.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from .archive.statusline import StatusLineHTTP11DownloadHandler
from .meta import BROWSER_DOCUMENT, SITE, WARC
from .encoding import UndecodableError, decode
from .extract import header_charset

logger = logging.getLogger(__name__)

CHALLENGE_STATUS = {412, 405, 521}
# 瑞数 (Riversecurity) dynamic-cookie names and script markers, and generic script challenges
_CHALLENGE_MARKERS = re.compile(rb"FSSBBIl1UgzbN7N80|\$_ts\s*=|_\$[a-zA-Z]{2}\s*=|document\.cookie\s*=|"
                                rb"location\.(?:reload|replace|href)", re.IGNORECASE)


class BrowserMissing(RuntimeError):
    pass


def browser_path(settings) -> str:
    return (settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS") or {}).get("executable_path") or "/usr/bin/chromium"


def missing_browser_message(path: str) -> str:
    return (f"Chromium not found at {path}: install Debian's package (apt-get install chromium), or point "
            f"PLAYWRIGHT_LAUNCH_OPTIONS executable_path at a Chromium binary")


def browser_charset(codec: str) -> str:
    """A Python codec name as a WHATWG encoding label (cp1252 → windows-1252, euc_jp → euc-jp)."""
    return {"cp1252": "windows-1252", "cp936": "gbk"}.get(codec, codec.replace("_", "-"))


def corrected_content_type(body: bytes, content_type: str | None, override: str | None = None) -> str | None:
    """The Content-Type under which a browser decodes an HTML document as the plain path does
    (gikcrawl/encoding.py: a declaration is trusted only when the bytes decode under it), or None when the
    document is not HTML or is not text at all. An HTTP charset beats a <meta charset> in every browser, so
    a page whose meta lies is rendered from correctly decoded text."""
    ctype = (content_type or "").strip()
    if ctype and not ctype.lower().startswith(("text/html", "application/xhtml")):
        return None
    try:
        _, codec = decode(body, declared=header_charset(ctype), override=override)
    except UndecodableError:
        return None
    return f"{ctype.split(';')[0].strip() or 'text/html'}; charset={browser_charset(codec)}"


class _CharsetRoute:
    """The route of a document request, handed to scrapy-playwright's handler: its continue_() fetches the
    document, then fulfils it with the Content-Type our policy decides (the body is the server's bytes)."""

    def __init__(self, route, handler: BrowserDownloadHandler, override: str | None):
        self._route, self._handler, self._override = route, handler, override

    def __getattr__(self, name):
        return getattr(self._route, name)

    async def continue_(self, **overrides):
        fetch = {k: v for k, v in overrides.items() if k in ("headers", "method", "post_data", "url")}
        try:
            request = self._route.request
            headers = dict(fetch.get("headers") or await request.all_headers())
            if not any(k.lower() == "cookie" for k in headers):
                # cookies a script set (a JavaScript challenge's) are not sent by route.fetch on its own
                cookies = await request.frame.page.context.cookies(request.url)
                if cookies:
                    headers["cookie"] = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
            fetch["headers"] = headers
            response = await self._route.fetch(max_redirects=0, **fetch)
            body = await response.body()
        except Exception as e:  # noqa: BLE001 (any fetch error: the browser fetches it itself, fails its own way)
            logger.debug("document fetch for charset check failed, continuing: %s: %s", self._route.request.url, e)
            return await self._route.continue_(**overrides)
        # the body is already decoded: no content coding or framing headers for it
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")}
        fixed = corrected_content_type(body, headers.get("content-type"), self._override)
        if fixed and fixed != headers.get("content-type"):
            self._handler.original_headers[response.url] = response.headers_array
            self._handler.stats.inc_value("gikcrawl/browser/charset_corrected")
            headers["content-type"] = fixed
        await self._route.fulfill(status=response.status, headers=headers, body=body)


# scrapy-playwright hands requests without `playwright` meta to super().download_request: with this base
# after it in the MRO, that is the status-remembering HTTP/1.1 handler (gikcrawl/archive/statusline.py)
class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler, StatusLineHTTP11DownloadHandler):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.executable = browser_path(crawler.settings)
        self.crawler = crawler
        self.original_headers: dict[str, list] = {}    # url → headers as the server sent them (charset corrected)
        if self.abort_request is None:               # PLAYWRIGHT_ABORT_REQUEST unset: our own policy
            self.abort_request = self._abort_offsite

    def _abort_offsite(self, playwright_request) -> bool:
        """Requests the page makes to hosts outside every crawled site's allowed domains are aborted (and
        counted): images, scripts and beacons of other hosts are not ours to fetch."""
        url = playwright_request.url
        if not url.startswith(("http://", "https://")):
            return False
        spider = self.crawler.spider
        if getattr(spider, "site_for_url", None) is None or spider.site_for_url(url) is not None:
            return False
        self.stats.inc_value("gikcrawl/browser/aborted_offsite")
        logger.debug("browser request off the allowed hosts aborted: %s", url)
        return True

    def _make_request_handler(self, **kw):
        inner = super()._make_request_handler(**kw)
        spider = kw.get("spider")

        first = {"done": False}

        async def handler(route, playwright_request):
            # the navigation to the requested page only: what its scripts load or reload (a JavaScript
            # challenge reloading with the cookie it set) goes to the browser untouched
            if (not first["done"] and playwright_request.is_navigation_request()
                    and playwright_request.url.rstrip("/") == str(kw.get("url", "")).rstrip("/")
                    and not self._abort_offsite(playwright_request)):
                first["done"] = True
                site = getattr(spider, "sites", {}).get(kw.get("context_name"))
                route = _CharsetRoute(route, self, getattr(site, "encoding", None))
            await inner(route, playwright_request)
        return handler

    async def _download_request(self, request, spider=None):
        if not Path(self.executable).exists():
            raise BrowserMissing(missing_browser_message(self.executable))
        return await super()._download_request(request, spider)

    async def _get_response_and_download(self, request, page, spider):
        response, download = await super()._get_response_and_download(request, page, spider)
        if response is not None:
            try:
                headers = self.original_headers.pop(response.url, None) or await response.headers_array()
                request.meta[BROWSER_DOCUMENT] = {
                    "url": response.url, "status": response.status, "reason": response.status_text,
                    "headers": headers, "body": await response.body(),
                    "method": response.request.method, "request_headers": await response.request.headers_array(),
                }
            except Exception as e:   # the document is gone (a download, a crashed page): archive the DOM only
                logger.debug("no network capture of %s: %s", request.url, e)
        return response, download

    async def _download_request_with_page(self, request, page, spider):
        """For a challenge fetched through the browser, also every response the browser itself received
        (the reload after the challenge, its scripts) in request.meta["browser_exchanges"], for the archive."""
        if request.meta.get("challenge") != "browser":
            return await super()._download_request_with_page(request, page, spider)
        seen = []

        def keep(response):
            seen.append(response)
        page.on("response", keep)
        try:
            result = await super()._download_request_with_page(request, page, spider)
        finally:
            page.remove_listener("response", keep)
        request.meta["browser_exchanges"] = await _exchanges(seen, request.meta.get(BROWSER_DOCUMENT))
        return result


async def _exchanges(responses, main: dict | None) -> list[dict]:
    """The browser's responses less the main document (archived as such), as browser_document dicts."""
    out, skipped = [], main is None
    for r in responses:
        if not skipped and r.url == main["url"] and r.status == main["status"]:
            skipped = True
            continue
        try:
            body = await r.body()
        except Exception:          # redirects and aborted loads have no body
            body = b""
        try:
            out.append({"url": r.url, "status": r.status, "reason": r.status_text, "headers": await r.headers_array(),
                        "body": body, "method": r.request.method,
                        "request_headers": await r.request.headers_array()})
        except Exception as e:     # the page went away meanwhile: what was taken is kept
            logger.debug("browser response of %s not captured: %s", r.url, e)
    return out


def render_meta(context: str, include_page: bool = False) -> dict:
    """Request meta that sends a request through the browser, in one browser context per site. The DOM is
    taken once the network has been idle for 500 ms, so lists that scripts fetch after `load` are in it."""
    meta = {"playwright": True, "playwright_context": context,
            "playwright_page_goto_kwargs": {"wait_until": "networkidle"}}
    if include_page:
        meta["playwright_include_page"] = True
    return meta


_TAGS = re.compile(rb"<script.*?</script>|<style.*?</style>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def is_challenge_page(body: bytes) -> bool:
    """A page that is only a script: next to no visible text, a script that sets cookies or reloads."""
    head = body[:50000]
    visible = re.sub(rb"\s+", b"", _TAGS.sub(b"", head))
    return b"<script" in head.lower() and len(visible) < 300 and bool(_CHALLENGE_MARKERS.search(head))


def looks_like_challenge(response) -> bool:
    if response.status in CHALLENGE_STATUS and b"<script" in response.body[:20000].lower():
        return True
    cookies = b" ".join(response.headers.getlist(b"Set-Cookie"))
    return bool(re.search(rb"FSSBBIl1UgzbN7N80", cookies)) or (
        response.status in CHALLENGE_STATUS and is_challenge_page(response.body))


class ChallengeMiddleware:
    """Between redirects and decompression (priority 585): sees decoded bodies of final responses."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_response(self, request, response, spider=None):
        stats = self.crawler.stats
        meta = request.meta
        if meta.get("challenge") == "browser":
            page = meta.pop("playwright_page", None)
            cookies = []
            if page is not None:
                try:
                    cookies = await page.context.cookies()
                finally:
                    await page.close()
            # the browser reports the status of its first navigation (the challenge); whether it got through
            # shows in the DOM it ended on
            if is_challenge_page(response.body) or not cookies:
                stats.inc_value("gikcrawl/challenges/failed")
                logger.warning("JavaScript challenge not passed by the browser: %s (HTTP %s)", request.url,
                               response.status)
                return response
            stats.inc_value("gikcrawl/challenges/passed")
            # fetch the page again the plain way, with the cookies the browser earned (they stay in the jar)
            plain_meta = {k: v for k, v in meta.items() if not k.startswith("playwright") and k not in
                          ("browser_document", "browser_exchanges", "warc", "download_slot_override")}
            plain_meta["challenge"] = "passed"
            return request.replace(meta=plain_meta, dont_filter=True,
                                   cookies=[{"name": c["name"], "value": c["value"], "domain": c["domain"],
                                             "path": c.get("path", "/")} for c in cookies])
        if meta.get("challenge") or meta.get("playwright") or not looks_like_challenge(response):
            if meta.get("challenge") == "passed" and looks_like_challenge(response):
                stats.inc_value("gikcrawl/challenges/cookie_rejected")
                logger.warning("challenge cookies earned by the browser were not accepted: %s", request.url)
            return response
        stats.inc_value("gikcrawl/challenges/detected")
        logger.info("JavaScript challenge at %s (HTTP %s): retrying once through the browser", request.url,
                    response.status)
        browser_meta = dict(meta, challenge="browser", **render_meta(meta.get(SITE) or "challenge", True),
                            playwright_page_methods=[PageMethod("wait_for_load_state", "networkidle")])
        browser_meta.pop(WARC, None)
        return request.replace(meta=browser_meta, dont_filter=True)

