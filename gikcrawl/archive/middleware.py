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
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from .. import signals as gk_signals
from .http import request_block, response_block
from .writer import WarcWriterSet, software_info, warc_date

logger = logging.getLogger(__name__)


class WarcArchiveMiddleware:
    def __init__(self, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED", True) or s.get("REPLAY_FROM"):
            raise NotConfigured
        self.crawler = crawler
        # set up now, so that an archive that cannot be written stops the crawl before it starts
        self.writers = WarcWriterSet(Path(s.get("ARCHIVE_DIR", "archive")), self._info(crawler),
                                     max_size=s.getint("WARC_MAX_SIZE", 1 << 30),
                                     compresslevel=s.getint("WARC_GZIP_LEVEL", 6),
                                     worker=s.get("WARC_WORKER_ID") or None)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

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
            "http-header-user-agent": s.get("USER_AGENT", "").replace("{contact}", s.get("GIKCRAWL_CONTACT", "")),
            "sites": ", ".join(sites) or spider.name,
            "sites-config-sha1": getattr(spider, "sites_digest", None),
            "crawl-spider": spider.name,
        })

    def spider_closed(self, spider):
        if self.writers:
            self.writers.close()

    def _prefix(self, request, spider) -> str:
        site = request.meta.get("site")
        if site:
            return site
        site_for = getattr(spider, "site_for_url", None)
        return (site_for(request.url) if site_for else None) or spider.name

    def process_response(self, request, response, spider=None):
        spider = spider or self.crawler.spider
        if request.meta.get("warc_skip"):
            return response
        stats = self.crawler.stats
        f = self.writers.file_for(self._prefix(request, spider))
        builder = f.builder
        date = warc_date()
        resp_headers, body = response_block(response)
        warc_headers = {"WARC-Date": date}
        # gikcrawl's extension fields: which site, and what the page was to the crawl (list, report,
        # attachment), so that replay treats each capture as the live crawl did
        if request.meta.get("site"):
            warc_headers["WARC-Gikcrawl-Site"] = request.meta["site"]
        if request.meta.get("kind"):
            warc_headers["WARC-Gikcrawl-Kind"] = request.meta["kind"]
        ip = getattr(response, "ip_address", None)
        if ip is not None:
            warc_headers["WARC-IP-Address"] = str(ip)
        resp = builder.create_warc_record(request.url, "response", payload=io.BytesIO(body), length=len(body),
                                          http_headers=resp_headers, warc_headers_dict=warc_headers)
        resp_id = resp.rec_headers.get_header("WARC-Record-ID")
        req_headers, req_body = request_block(request)
        req = builder.create_warc_record(request.url, "request", payload=io.BytesIO(req_body), length=len(req_body),
                                         http_headers=req_headers,
                                         warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": resp_id})
        try:
            offset = f.write(resp)
            f.write(req)
        except OSError as e:                     # the archive is the point: stop rather than crawl unarchived
            stats.inc_value("warc/errors")
            logger.error("cannot write %s: %s; closing the spider", f.path, e)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc_write_failed"))
            raise
        written = {"file": f.name, "offset": offset, "record_id": resp_id, "date": date,
                   "payload_digest": resp.rec_headers.get_header("WARC-Payload-Digest")}
        request.meta["warc"] = written
        self.crawler.signals.send_catch_log(gk_signals.response_archived, request=request, response=response,
                                            spider=spider)
        stats.inc_value("warc/records/response")
        stats.inc_value("warc/records/request")
        stats.inc_value("warc/bytes_payload", len(body))
        return response

