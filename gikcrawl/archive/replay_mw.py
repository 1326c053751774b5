"""Spider-level replay: `-s REPLAY_FROM=PATH` answers every request from the archive, never the network.

The archive storage (gikcrawl/archive/storage.py) looks the request up in the CDXJ indexes beside the WARCs;
the stored status, headers and body (still content-coded) become the response, so the normal middleware
chain — decompression, redirects, cookies — runs on it as it did live. A URL not in the archive fails with
NotInArchive (counted in stats as replay/missing), never a made-up 404. Archiving is off in this mode.
"""
from __future__ import annotations

from scrapy.exceptions import NotConfigured

from ..meta import CHANGE, WARC, WARC_SKIP
from .. import signals as gk_signals
from .storage import NotInArchive, archive_storage

__all__ = ["ArchiveReplayMiddleware", "NotInArchive"]


class ArchiveReplayMiddleware:
    """REPLAY_FROM: every request from the archive (strict: a miss fails). GIKCRAWL_RESUME: what the run
    being resumed archived before it was killed (its WARCs repaired first); misses go to the network."""

    def __init__(self, crawler):
        s = crawler.settings
        if not s.get("REPLAY_FROM") and not s.getbool("GIKCRAWL_RESUME"):
            raise NotConfigured
        self.crawler = crawler
        self.storage = archive_storage(crawler)
        if self.storage.mode is None:            # resuming without a run (a spider that makes none)
            raise NotConfigured
        self.resuming = self.storage.mode == "resume"

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        stats = self.crawler.stats
        request.meta.pop(WARC_SKIP, None)
        try:
            response = self.storage.retrieve_response(spider or self.crawler.spider, request)
        except NotInArchive:
            stats.inc_value("replay/missing")
            raise
        if response is None:
            if self.resuming:
                return None                      # not archived before the kill: fetch it
            stats.inc_value("replay/missing")
            raise NotInArchive(f"not in the archive: {request.method} {request.url.split('#')[0]}")
        if self.resuming:
            request.meta[WARC_SKIP] = True       # already in the archive
            self._resumed(request, response)
        else:
            stats.inc_value("replay/served_dom" if "playwright" in response.flags else "replay/served")
        return response

    def _resumed(self, request, response) -> None:
        """A response the killed run archived: the catalog gets its row again, as if fetched now."""
        self.crawler.stats.inc_value("gikcrawl/resume/served_from_archive")
        run = self.storage.run
        request.meta[CHANGE] = run.classify(request.url, response.status, request.meta[WARC].get("payload_digest"))
        self.crawler.signals.send_catch_log(gk_signals.response_archived, request=request, response=response,
                                            spider=self.crawler.spider)
