"""WarcArchiveMiddleware: writes every request and response to WARC as they cross the downloader.

It sits at priority 950, next to the downloader: process_request sees the request after the cookie,
user-agent and header middlewares (what is sent), process_response sees the response before redirects are
followed and before HttpCompressionMiddleware (590) decodes the body (what was received). Where each
response went is put in request.meta["warc"] (file, offset, record_id, date, payload_digest) for the
spider, the items and the catalog.
"""
from __future__ import annotations

import io
import logging
from urllib.parse import quote
from pathlib import Path

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured, ResponseDataLossError
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from ..meta import BROWSER_DOCUMENT, CHANGE, KIND, LINK_TEXT, REFERER_PAGE, SITE, WARC, WARC_SKIP
from .. import signals as gk_signals
from .http import browser_request_block, browser_response_block, request_block, response_block
from ..digest import sha1_digest
from ..runs import RunState, run_state
from .truncated import META_FLAG, ChunkedBodyCut, ReceivedSoFar, headerless_records, truncation_cause
from .writer import WarcWriterSet, software_info, warc_date

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

logger = logging.getLogger(__name__)


class WarcArchiveMiddleware:
    def __init__(self, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED") or s.get("REPLAY_FROM"):
            raise NotConfigured
        self.crawler = crawler
        # set up now, so that an archive that cannot be written stops the crawl before it starts
        self.writers = WarcWriterSet(Path(s.get("ARCHIVE_DIR")), self._info(crawler),
                                     max_size=s.getint("WARC_MAX_SIZE"),
                                     compresslevel=s.getint("WARC_GZIP_LEVEL"),
                                     worker=s.get("WARC_WORKER_ID") or None, stamp=self._run(crawler).run_id)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        self.received = ReceivedSoFar(crawler)        # for downloads that fail after their headers

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @staticmethod
    def _run(crawler):
        return run_state(crawler) or RunState.from_settings(crawler.settings)

    @staticmethod
    def _info(crawler) -> dict:
        s, spider = crawler.settings, crawler.spider
        sites = getattr(spider, "sites", {})
        robots = "obey robots.txt" if s.getbool("ROBOTSTXT_OBEY") else "robots.txt not obeyed"
        ignored = [k for k, site in sites.items() if site.politeness.get("robotstxt_obey") is False]
        if ignored and s.getbool("ROBOTSTXT_OBEY"):
            robots += f" (except sites {', '.join(ignored)}, configured to ignore it)"
        return software_info({
            "operator": s.get("GIKCRAWL_CONTACT"),
            "robots": robots,
            "http-header-user-agent": s.get("USER_AGENT").replace("{contact}", s.get("GIKCRAWL_CONTACT")),
            "sites": ", ".join(sites) or spider.name,
            "sites-config-sha1": getattr(spider, "sites_digest", None),
            "crawl-spider": spider.name,
        })

    def spider_closed(self, spider):
        if self.writers:
            self.writers.close()

    def _prefix(self, request, spider) -> str:
        site = request.meta.get(SITE)
        if site:
            return site
        site_for = getattr(spider, "site_for_url", None)
        return (site_for(request.url) if site_for else None) or spider.name

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
        spider = spider or self.crawler.spider
        headers, body, status = got
        f = self.writers.file_for(self._prefix(request, spider))
        date, cause = warc_date(), truncation_cause(exception)
        error = f"{type(exception).__name__}: {exception}"[:300]
        if status is not None:          # the status line is known: a response record of what was received
            partial = Response(request.url, status=status[0], headers=headers, body=body, request=request,
                               protocol=status[1])
            announced = (headers.get(b"Content-Length") or b"?").decode("latin-1")
            records = self._plain(f.builder, request, partial, date, self._ext(request), {
                "WARC-Truncated": cause,
                "WARC-Gikcrawl-Note": f"download failed after {len(body)} bytes of the body (Content-Length "
                                      f"announced: {announced}): {error}"})
        else:
            records = headerless_records(f.builder, request.url, date, self._ext(request), headers, body, cause,
                                         error)
            req_headers, req_body = request_block(request)
            records.append(f.builder.create_warc_record(
                request.url, "request", payload=io.BytesIO(req_body), length=len(req_body), http_headers=req_headers,
                warc_headers_dict={"WARC-Date": date,
                                   "WARC-Concurrent-To": records[0].rec_headers.get_header("WARC-Record-ID")}))
        self._write(f, records)
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

    def _write(self, f, records) -> list[int]:
        try:
            offsets = [f.write(rec) for rec in records]
        except OSError as e:                     # the archive is the point: stop rather than crawl unarchived
            self.crawler.stats.inc_value("warc/errors")
            logger.error("cannot write %s: %s; closing the spider", f.path, e)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc_write_failed"))
            raise
        for rec in records:
            self.crawler.stats.inc_value(f"warc/records/{rec.rec_type}")
        return offsets

    @staticmethod
    def _ext(request) -> dict:
        ext = {}        # gikcrawl's extension fields: the site, and what the page was to the crawl (list, report,
        if request.meta.get(SITE):                   # attachment), so replay treats each capture as live
            ext["WARC-Gikcrawl-Site"] = request.meta[SITE]
        if request.meta.get(KIND):
            ext["WARC-Gikcrawl-Kind"] = request.meta[KIND]
        if request.meta.get(KIND) == "attachment" and request.meta.get(REFERER_PAGE):
            ext["WARC-Gikcrawl-Referer"] = request.meta[REFERER_PAGE]     # the report page it belongs to
        if request.meta.get(LINK_TEXT):
            ext["WARC-Gikcrawl-Link-Text"] = quote(request.meta[LINK_TEXT][:200])
        return ext

    def process_response(self, request, response, spider=None):
        spider = spider or self.crawler.spider
        self.received.pop(request)
        if request.meta.get(WARC_SKIP):
            return response
        f = self.writers.file_for(self._prefix(request, spider))
        date = warc_date()
        if "dataloss" in response.flags and request.meta.get(META_FLAG):
            announced = (response.headers.get(b"Content-Length") or b"?").decode("latin-1")
            self._write(f, self._plain(f.builder, request, response, date, self._ext(request), {
                "WARC-Truncated": "disconnect",
                "WARC-Gikcrawl-Note": f"connection ended after {len(response.body)} bytes of the body "
                                      f"(Content-Length announced: {announced})"}))
            return self._truncated(request, response, spider)
        ext = self._ext(request)
        run = self._run_state(spider)
        prev = run.previous.get(request.url) if run else None
        revisit = None
        if request.meta.get("playwright"):
            records, parsed = self._rendered(f.builder, request, response, date, ext)
        else:
            digest = sha1_digest(response.body)
            if run:
                request.meta[CHANGE] = run.classify(request.url, response.status, digest)
            if prev and (response.status == 304 or (200 <= response.status < 300 and digest == prev.digest)):
                revisit = prev
                records = self._revisit(f.builder, request, response, date, ext, prev)
            else:
                records = self._plain(f.builder, request, response, date, ext)
            parsed = 0
        offsets = self._write(f, records)
        main = records[parsed]
        if revisit is not None:          # the bytes are in the earlier capture: point there, dated now
            request.meta[WARC] = {"file": revisit.warc_file, "offset": revisit.warc_offset, "date": date,
                                    "record_id": revisit.record_id, "payload_digest": revisit.digest,
                                    "revisit": {"file": f.name, "offset": offsets[parsed],
                                                "record_id": main.rec_headers.get_header("WARC-Record-ID")}}
        else:
            request.meta[WARC] = {"file": f.name, "offset": offsets[parsed], "date": date,
                                    "record_id": main.rec_headers.get_header("WARC-Record-ID"),
                                    "payload_digest": main.rec_headers.get_header("WARC-Payload-Digest")}
        self.crawler.signals.send_catch_log(gk_signals.response_archived, request=request, response=response,
                                            spider=spider)
        return response

    @staticmethod
    def _pair(builder, url, date, ext, resp_headers, body, req_headers, req_body, extra=None):
        """A response record and its request record, linked by WARC-Concurrent-To."""
        resp = builder.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                          http_headers=resp_headers,
                                          warc_headers_dict=dict({"WARC-Date": date}, **ext, **(extra or {})))
        req = builder.create_warc_record(url, "request", payload=io.BytesIO(req_body), length=len(req_body),
                                         http_headers=req_headers,
                                         warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To":
                                                            resp.rec_headers.get_header("WARC-Record-ID")})
        return resp, req

    @staticmethod
    def _run_state(spider):
        return run_state(spider.crawler) if getattr(spider, "crawler", None) else None

    def _revisit(self, builder, request, response, date, ext, prev):
        """A revisit record (with the request record) instead of a second copy of an unchanged payload:
        identical-payload-digest for a 2xx whose digest matches, server-not-modified for a 304."""
        resp_headers, _ = response_block(response)
        rec = builder.create_revisit_record(request.url, prev.digest, request.url, prev.date,
                                            http_headers=resp_headers,
                                            warc_headers_dict=dict({"WARC-Date": date}, **ext))
        if response.status == 304:
            rec.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED)
        if prev.record_id:
            rec.rec_headers.add_header("WARC-Refers-To", prev.record_id)
        req_headers, req_body = request_block(request)
        req = builder.create_warc_record(request.url, "request", payload=io.BytesIO(req_body), length=len(req_body),
                                         http_headers=req_headers,
                                         warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To":
                                                            rec.rec_headers.get_header("WARC-Record-ID")})
        return [rec, req]

    def _plain(self, builder, request, response, date, ext, extra=None):
        resp_headers, body = response_block(response)
        extra = dict(extra or {})
        ip = getattr(response, "ip_address", None)
        if ip is not None:
            extra["WARC-IP-Address"] = str(ip)
        req_headers, req_body = request_block(request)
        return list(self._pair(builder, request.url, date, ext, resp_headers, body, req_headers, req_body, extra))

    def _rendered(self, builder, request, response, date, ext):
        """A page rendered by the browser: the main document's network response (response + request records),
        the rendered DOM as a resource record linked to it, and a screenshot when asked for. The DOM is
        what the spider parsed, so provenance points at it. Returns (records, index of the DOM record)."""
        records, linked = [], {}
        doc = request.meta.get(BROWSER_DOCUMENT)
        if doc:
            resp_headers, body, decoded = browser_response_block(doc)
            req_headers, req_body = browser_request_block(doc)
            extra = {"WARC-Gikcrawl-Rendered": "network response of a page rendered by the browser"}
            if decoded:
                extra["WARC-Gikcrawl-Note"] = ("body as decoded by the browser; Content-Encoding removed "
                                               "(browsers do not expose coded bodies)")
            resp, req = self._pair(builder, doc["url"], date, ext, resp_headers, body, req_headers, req_body, extra)
            records += [resp, req]
            linked = {"WARC-Concurrent-To": resp.rec_headers.get_header("WARC-Record-ID")}
        for other in request.meta.get("browser_exchanges") or ():     # a challenge: the browser's other responses
            resp_headers, body, decoded = browser_response_block(other)
            req_headers, req_body = browser_request_block(other)
            extra = {"WARC-Gikcrawl-Rendered": "received by the browser while passing a challenge"}
            if decoded:
                extra["WARC-Gikcrawl-Note"] = "body as decoded by the browser; Content-Encoding removed"
            records += list(self._pair(builder, other["url"], date, ext, resp_headers, body, req_headers, req_body,
                                       extra))
        ctype = (response.headers.get(b"Content-Type") or b"text/html").decode("latin-1")
        dom = builder.create_warc_record(response.url, "resource", payload=io.BytesIO(response.body),
                                         length=len(response.body), warc_content_type=ctype,
                                         warc_headers_dict=dict({"WARC-Date": date, **ext, **linked,
                                                                 "WARC-Gikcrawl-Status": str(response.status),
                                                                 "WARC-Gikcrawl-Rendered": "DOM"}))
        records.append(dom)
        parsed = len(records) - 1
        for method in request.meta.get("playwright_page_methods") or ():
            if getattr(method, "method", None) == "screenshot" and isinstance(getattr(method, "result", None), bytes):
                records.append(builder.create_warc_record(
                    f"urn:gikcrawl:screenshot:{response.url}", "resource", payload=io.BytesIO(method.result),
                    length=len(method.result), warc_content_type="image/png",
                    warc_headers_dict={"WARC-Date": date, **ext, "WARC-Concurrent-To":
                                       dom.rec_headers.get_header("WARC-Record-ID")}))
        return records, parsed
