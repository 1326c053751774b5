"""Rendering with Debian's Chromium through scrapy-playwright, and JavaScript challenges.

- BrowserDownloadHandler: scrapy-playwright's handler, which also keeps the main document's network
  response (status, reason phrase, raw header list, body, request headers) in request.meta["browser_document"]
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

from .meta import BROWSER_DOCUMENT, SITE, WARC

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


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.executable = browser_path(crawler.settings)

    async def _download_request(self, request, spider=None):
        if not Path(self.executable).exists():
            raise BrowserMissing(missing_browser_message(self.executable))
        return await super()._download_request(request, spider)

    async def _get_response_and_download(self, request, page, spider):
        response, download = await super()._get_response_and_download(request, page, spider)
        if response is not None:
            try:
                request.meta[BROWSER_DOCUMENT] = {
                    "url": response.url, "status": response.status, "reason": response.status_text,
                    "headers": await response.headers_array(), "body": await response.body(),
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
        request.meta["browser_exchanges"] = await _exchanges(seen, request.meta.get("browser_document"))
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

