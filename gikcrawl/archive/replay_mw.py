"""Spider-level replay: `-s REPLAY_FROM=PATH` answers every request from the archive, never the network.

The URL is looked up in the CDXJ indexes beside the WARCs (made on the fly for files without one); the
stored status, headers and body (still content-coded) become the response, so the normal middleware chain
— decompression, redirects, cookies — runs on it as it did live. A URL not in the archive fails with
NotInArchive (counted in stats as replay/missing), never a made-up 404. Archiving is off in this mode.
"""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from ..meta import CHANGE, WARC, WARC_SKIP
from .. import signals as gk_signals
from ..runs import run_state
from .cdxj import index_path, own_entry, write_index
from .reader import read_member, record_of
from .verify import verify, warc_files

logger = logging.getLogger(__name__)


class NotInArchive(IgnoreRequest):
    """The request's URL was never captured in the replayed archive."""


def load_index(paths) -> tuple[dict, dict, dict]:
    """(method, url) → newest capture; (url, timestamp) → capture; url → newest rendered DOM (a resource
    record: no HTTP status in the index), from the CDXJ indexes."""
    by_key: dict = {}
    by_time: dict = {}
    doms: dict = {}
    for warc in warc_files(paths):
        cdxj = index_path(warc)
        if not cdxj.exists():
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / warc.name
                copy.symlink_to(warc.resolve())
                text = write_index(copy).read_text(encoding="utf-8")
        else:
            text = cdxj.read_text(encoding="utf-8")
        for line in text.splitlines():
            _, stamp, data = line.split(" ", 2)
            entry = own_entry(json.loads(data))
            if entry.get("truncated"):                     # a body cut short: a failure, not a capture
                continue
            entry.update(timestamp=stamp, path=str(warc.parent / entry["filename"]))
            if "status" not in entry and entry.get("mime", "").startswith("text/html"):
                if entry["url"] not in doms or stamp >= doms[entry["url"]]["timestamp"]:
                    doms[entry["url"]] = entry
                continue
            if "status" not in entry and entry.get("mime") != "warc/revisit":
                continue                                   # other resource records (screenshots)
            key = (entry.get("method", "GET").upper(), entry["url"])
            if key not in by_key or stamp >= by_key[key]["timestamp"]:
                by_key[key] = entry
            by_time[(entry["url"], stamp)] = entry
    return by_key, by_time, doms


class ArchiveReplayMiddleware:
    """REPLAY_FROM: every request from the archive (strict: a miss fails). GIKCRAWL_RESUME: what the run
    being resumed archived before it was killed (its WARCs repaired first); misses go to the network."""

    def __init__(self, crawler):
        s = crawler.settings
        run = run_state(crawler)
        self.crawler = crawler
        self.resuming = False
        if s.get("REPLAY_FROM"):
            source = Path(s.get("REPLAY_FROM"))
            self.root = source if source.is_dir() else source.parent
            paths = [source]
        elif s.getbool("GIKCRAWL_RESUME") and run is not None:
            self.resuming, self.root = True, run.archive_dir
            paths = run.warc_files()
            for path in paths:
                verdict = verify(path, repair=True)
                if verdict.repaired:
                    logger.warning("resume: %s: %s", path, verdict.repaired)
        else:
            raise NotConfigured
        self.run = run
        self.by_key, self.by_time, self.doms = load_index(paths) if paths else ({}, {}, {})

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        stats = self.crawler.stats
        url = request.url.split("#")[0]
        request.meta.pop(WARC_SKIP, None)
        if request.meta.get("playwright") and url in self.doms:
            return self._dom(request, url, self.doms[url])
        entry = self.by_key.get((request.method.upper(), url))
        if entry is None:
            if self.resuming:
                return None                      # not archived before the kill: fetch it
            stats.inc_value("replay/missing")
            raise NotInArchive(f"not in the archive: {request.method} {url}")
        rec = record_of(read_member(entry["path"], int(entry["offset"])))
        date = rec.rec_headers.get_header("WARC-Date")
        origin, original = rec, entry
        if rec.rec_type == "revisit":
            original = self._original(rec)
            if original is None:
                stats.inc_value("replay/missing")
                raise NotInArchive(f"revisit of {url} whose original is not in the archive")
            origin = record_of(read_member(original["path"], int(original["offset"])))
        body = origin.raw_stream.read()
        http = rec.http_headers if rec.http_headers else origin.http_headers
        headers = _headers(http)
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        request.meta[WARC] = {"file": _location(self.root, original), "offset": int(original["offset"]),
                                "record_id": origin.rec_headers.get_header("WARC-Record-ID"), "date": date,
                                "payload_digest": origin.rec_headers.get_header("WARC-Payload-Digest")}
        status = int(http.get_statuscode())
        if status == 304 and rec.rec_type == "revisit":       # server-not-modified: the earlier capture
            status, headers = int(origin.http_headers.get_statuscode()), _headers(origin.http_headers)
        response = cls(url=url, status=status, headers=headers, body=body, request=request,
                       protocol=http.protocol or None)
        if self.resuming:
            request.meta[WARC_SKIP] = True     # already in the archive
            self._resumed(request, response, rec)
        else:
            stats.inc_value("replay/served")
        return response

    def _original(self, revisit) -> dict | None:
        """The index entry of the response a revisit record refers to (in the inputs, or for a resumed run,
        the earlier capture the run's revisit pointed at)."""
        uri = revisit.rec_headers.get_header("WARC-Refers-To-Target-URI")
        date = revisit.rec_headers.get_header("WARC-Refers-To-Date")
        found = next((e for (u, _), e in self.by_time.items() if u == uri and _same_time(e["timestamp"], date)
                      and e.get("mime") != "warc/revisit"), None)
        prev = self.run.previous.get(uri) if (found is None and self.run is not None) else None
        if prev is not None and prev.warc_file:
            found = {"path": str(self.run.archive_dir / prev.warc_file), "offset": prev.warc_offset,
                     "filename": prev.warc_file}
        return found

    def _resumed(self, request, response, rec) -> None:
        """A response the killed run archived: the catalog gets its row again, as if fetched now."""
        stats = self.crawler.stats
        stats.inc_value("gikcrawl/resume/served_from_archive")
        warc = request.meta[WARC]
        if rec.rec_type == "revisit":                # meta points at the bytes; keep the revisit's own date
            warc["date"] = rec.rec_headers.get_header("WARC-Date")
        request.meta[CHANGE] = self.run.classify(request.url, response.status, warc.get("payload_digest")) \
            if self.run else None
        self.crawler.signals.send_catch_log(gk_signals.response_archived, request=request, response=response,
                                            spider=self.crawler.spider)

    def _dom(self, request, url, entry):
        """A rendered page: the stored DOM, as the browser handed it to the spider."""
        rec = record_of(read_member(entry["path"], int(entry["offset"])))
        h = rec.rec_headers
        body = rec.raw_stream.read()
        request.meta[WARC] = {"file": _location(self.root, entry), "offset": int(entry["offset"]),
                                "record_id": h.get_header("WARC-Record-ID"), "date": h.get_header("WARC-Date"),
                                "payload_digest": h.get_header("WARC-Payload-Digest")}
        headers = Headers({"Content-Type": h.get_header("Content-Type") or "text/html"})
        response = responsetypes.from_args(headers=headers, url=url, body=body)(
            url=url, status=int(h.get_header("WARC-Gikcrawl-Status") or 200), headers=headers, body=body,
            request=request, flags=["playwright"])
        if self.resuming:
            request.meta[WARC_SKIP] = True     # already in the archive
            self._resumed(request, response, rec)
        else:
            self.crawler.stats.inc_value("replay/served_dom")
        return response

def _headers(http) -> Headers:
    headers = Headers()
    for name, value in http.headers:
        headers.appendlist(name, value.encode("latin-1", "replace") if isinstance(value, str) else value)
    return headers


def _location(root: Path, entry: dict) -> str:
    path = Path(entry["path"])
    return str(path.relative_to(root)) if path.is_relative_to(root) else entry["filename"]


def _same_time(stamp14: str, warc_date: str | None) -> bool:
    digits = "".join(ch for ch in (warc_date or "") if ch.isdigit())[:14]
    return stamp14 == digits
