"""The WARC archive as a storage, the way Scrapy's HTTP cache storages are (FilesystemCacheStorage): it answers
what it holds for a request and stores what the downloader received; the middlewares decide when to ask.

ARCHIVE_STORAGE names the class (loaded with load_object); one instance per crawler, shared by the archive
writer (gikcrawl/archive/middleware.py), replay and resume (replay_mw.py), the incremental middleware and the
spider's known attachments, found with :func:`archive_storage`. What an instance holds:

- the archive being replayed (REPLAY_FROM) or resumed (GIKCRAWL_RESUME: the run's own WARCs, repaired
  first), looked up by method and URL in its CDXJ indexes — ``retrieve_response``;
- the captures of earlier runs (the run state's catalog rows), looked up by URL — ``previous`` and
  ``retrieve_previous``; an unchanged payload is stored as a revisit of the earlier capture;
- this crawl's WARCs, written unless archiving is off (WARC_ENABLED False, or replaying) —
  ``store_response``, ``store_truncated``, ``store_failed_download``.
Records are built by gikcrawl/archive/records.py and read back by gikcrawl/archive/convert.py.
"""
from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object

from ..digest import sha1_digest
from ..meta import SITE, WARC
from ..runs import Previous, RunState, run_state
from .convert import Stored, to_response
from .lookup import load_index
from .records import (disconnect_fields, exchange_records, extension_fields, failed_download_records, record_id,
                      rendered_records, revisit_records)
from .verify import verify
from .writer import WarcWriterSet, software_info, warc_date

logger = logging.getLogger(__name__)


class NotInArchive(IgnoreRequest):
    """The request's URL was never captured in the replayed archive."""


class WarcStorage:
    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.run: RunState | None = run_state(crawler)
        # replay: every request from REPLAY_FROM; resume: what the run archived before it was killed
        self.mode = "replay" if s.get("REPLAY_FROM") else (
            "resume" if s.getbool("GIKCRAWL_RESUME") and self.run is not None else None)
        self.writes = s.getbool("WARC_ENABLED") and not s.get("REPLAY_FROM")
        self.writers: WarcWriterSet | None = None
        self.root: Path | None = None
        self.by_key: dict = {}
        self.by_time: dict = {}
        self.doms: dict = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider) -> None:
        s = self.crawler.settings
        paths: list[Path] = []
        if self.mode == "replay":
            source = Path(s.get("REPLAY_FROM"))
            self.root, paths = (source if source.is_dir() else source.parent), [source]
        elif self.mode == "resume":
            self.root, paths = self.run.archive_dir, self.run.warc_files()
            for path in paths:
                verdict = verify(path, repair=True)
                if verdict.repaired:
                    logger.warning("resume: %s: %s", path, verdict.repaired)
        if paths:
            self.by_key, self.by_time, self.doms = load_index(paths)
        if self.writes:
            run = self.run or RunState.from_settings(s)
            self.writers = WarcWriterSet(Path(s.get("ARCHIVE_DIR")), self._info(spider),
                                         max_size=s.getint("WARC_MAX_SIZE"), compresslevel=s.getint("WARC_GZIP_LEVEL"),
                                         worker=s.get("WARC_WORKER_ID") or None, stamp=run.run_id)

    def close_spider(self, spider=None) -> None:
        if self.writers:
            self.writers.close()

    # --- what the archive holds ------------------------------------------------------------------------

    def retrieve_response(self, spider, request: Request) -> Response | None:
        """The archived response for the request (newest capture of its method and URL; for a page to render,
        its DOM), its request.meta[WARC] set to where the bytes are; None when the archive has none. A revisit
        whose original is not in the archive raises NotInArchive."""
        url = request.url.split("#")[0]
        if request.meta.get("playwright") and url in self.doms:
            entry = self.doms[url]
            return to_response(Stored.at(entry["path"], int(entry["offset"])), url=url, request=request,
                               location=(self._location(entry), int(entry["offset"])))
        entry = self.by_key.get((request.method.upper(), url))
        if entry is None:
            return None
        found, original, where = Stored.at(entry["path"], int(entry["offset"])), None, entry
        if found.record.rec_type == "revisit":
            where = self._original(found)
            if where is None:
                raise NotInArchive(f"revisit of {url} whose original is not in the archive")
            original = Stored.at(where["path"], int(where["offset"]))
        return to_response(found, original, url=url, request=request,
                           location=(self._location(where), int(where["offset"])))

    def previous(self, url: str) -> Previous | None:
        """The latest capture of the URL by an earlier run."""
        return self.run.previous.get(url) if self.run is not None else None

    def retrieve_previous(self, url: str, *, request: Request | None = None, flags: list[str] | tuple = (),
                          decode: bool = False) -> Response | None:
        """The response of the URL's capture by an earlier run (None without one); decode: its body with the
        Content-Encoding decoded, as a callback sees it. request.meta is left alone."""
        prev = self.previous(url)
        if prev is None or not prev.warc_file or prev.warc_offset is None:
            return None
        found = Stored.at(self.run.archive_dir / prev.warc_file, prev.warc_offset)
        return to_response(found, url=url, request=request, flags=flags, decode=decode)

    def _original(self, revisit: Stored) -> dict | None:
        """The index entry of the response a revisit refers to (in the inputs, or for a resumed run, the
        earlier capture the run's revisit pointed at)."""
        uri = revisit.field("WARC-Refers-To-Target-URI")
        date = revisit.field("WARC-Refers-To-Date")
        found = next((e for (u, _), e in self.by_time.items() if u == uri and _same_time(e["timestamp"], date)
                      and e.get("mime") != "warc/revisit"), None)
        prev = self.previous(uri) if found is None else None
        if prev is not None and prev.warc_file:
            found = {"path": str(self.run.archive_dir / prev.warc_file), "offset": prev.warc_offset,
                     "filename": prev.warc_file}
        return found

    def _location(self, entry: dict) -> str:
        path = Path(entry["path"])
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else entry["filename"]

    # --- storing ---------------------------------------------------------------------------------------

    def store_response(self, spider, request: Request, response: Response) -> None:
        """Archive a response as received, and put in request.meta[WARC] where the parsed bytes are: the
        response record; a rendered page's DOM record; for a payload the earlier run already holds (same
        digest, or a 304) a revisit record, and meta points at the earlier capture's bytes, dated now."""
        f = self.writers.file_for(self._prefix(request, spider))
        date, ext = warc_date(), extension_fields(request)
        prev = self.previous(request.url)
        revisit = None
        if request.meta.get("playwright"):
            records, parsed = rendered_records(request, response, date, ext)
        else:
            parsed = 0
            if prev and (response.status == 304 or (200 <= response.status < 300
                                                    and sha1_digest(response.body) == prev.digest)):
                revisit = prev
                records = revisit_records(request, response, date, ext, digest=prev.digest,
                                          refers_to_date=prev.date, refers_to_id=prev.record_id)
            else:
                records = exchange_records(request, response, date, ext)
        offsets = self._write(f, records)
        main = records[parsed]
        if revisit is not None:
            request.meta[WARC] = {"file": revisit.warc_file, "offset": revisit.warc_offset, "date": date,
                                  "record_id": revisit.record_id, "payload_digest": revisit.digest,
                                  "revisit": {"file": f.name, "offset": offsets[parsed], "record_id": record_id(main)}}
        else:
            request.meta[WARC] = {"file": f.name, "offset": offsets[parsed], "date": date,
                                  "record_id": record_id(main),
                                  "payload_digest": main.rec_headers.get_header("WARC-Payload-Digest")}

    def store_truncated(self, spider, request: Request, response: Response) -> None:
        """Archive a response whose connection ended before its body did, marked WARC-Truncated: disconnect."""
        f = self.writers.file_for(self._prefix(request, spider))
        self._write(f, exchange_records(request, response, warc_date(), extension_fields(request),
                                        disconnect_fields(response)))

    def store_failed_download(self, spider, request: Request, headers, body: bytes, cause: str, error: str,
                              status: tuple[int, str] | None = None) -> None:
        """Archive what a download that failed after its headers received: a truncated response record when
        the status line is known (status, protocol), else resource + metadata + request."""
        f = self.writers.file_for(self._prefix(request, spider))
        self._write(f, failed_download_records(request, warc_date(), headers, body, cause, error, status))

    def _write(self, f, records) -> list[int]:
        stats = self.crawler.stats
        try:
            offsets = [f.write(rec) for rec in records]
        except OSError as e:                     # the archive is the point: stop rather than crawl unarchived
            stats.inc_value("warc/errors")
            logger.error("cannot write %s: %s; closing the spider", f.path, e)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc_write_failed"))
            raise
        for rec in records:
            stats.inc_value(f"warc/records/{rec.rec_type}")
        return offsets

    @staticmethod
    def _prefix(request: Request, spider) -> str:
        site = request.meta.get(SITE)
        if site:
            return site
        site_for = getattr(spider, "site_for_url", None)
        return (site_for(request.url) if site_for else None) or spider.name

    def _info(self, spider) -> dict:
        s = self.crawler.settings
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


_ATTR = "_gikcrawl_archive_storage"


def archive_storage(crawler):
    """The crawler's archive storage (ARCHIVE_STORAGE), built and opened the first time a component asks.
    Opened then rather than on spider_opened: an archive that cannot be opened (an unwritable directory, a
    damaged index) then stops the crawl before it starts, where a signal handler's error is only logged."""
    storage = getattr(crawler, _ATTR, None)
    if storage is None:
        storage = build_from_crawler(load_object(crawler.settings["ARCHIVE_STORAGE"]), crawler)
        storage.open_spider(crawler.spider)
        crawler.signals.connect(storage.close_spider, signal=signals.spider_closed)
        # held by the crawler (a weak mapping crawler → storage would never let go: the storage holds it)
        setattr(crawler, _ATTR, storage)
    return storage


def _same_time(stamp14: str, warc_date: str | None) -> bool:
    digits = "".join(ch for ch in (warc_date or "") if ch.isdigit())[:14]
    return stamp14 == digits
