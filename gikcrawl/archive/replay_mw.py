"""Spider-level replay: `-s REPLAY_FROM=PATH` answers every request from the archive, never the network.

The URL is looked up in the CDXJ indexes beside the WARCs (made on the fly for files without one); the
stored status, headers and body (still content-coded) become the response, so the normal middleware chain
— decompression, redirects, cookies — runs on it as it did live. A URL not in the archive fails with
NotInArchive (counted in stats as replay/missing), never a made-up 404. Archiving is off in this mode.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from .cdxj import index_path, write_index
from .reader import read_member, record_of
from .verify import warc_files


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
            entry = json.loads(data)
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
    def __init__(self, crawler):
        source = crawler.settings.get("REPLAY_FROM")
        if not source:
            raise NotConfigured
        self.crawler = crawler
        self.root = Path(source) if Path(source).is_dir() else Path(source).parent
        self.by_key, self.by_time, self.doms = load_index([source])

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        stats = self.crawler.stats
        url = request.url.split("#")[0]
        if request.meta.get("playwright") and url in self.doms:
            return self._dom(request, url, self.doms[url])
        entry = self.by_key.get((request.method.upper(), url))
        if entry is None:
            stats.inc_value("replay/missing")
            raise NotInArchive(f"not in the archive: {request.method} {url}")
        rec = record_of(read_member(entry["path"], int(entry["offset"])))
        date = rec.rec_headers.get_header("WARC-Date")
        origin, original = rec, entry
        if rec.rec_type == "revisit":
            target = (rec.rec_headers.get_header("WARC-Refers-To-Target-URI"),
                      rec.rec_headers.get_header("WARC-Refers-To-Date"))
            original = next((e for (u, _), e in self.by_time.items() if u == target[0] and
                             _same_time(e["timestamp"], target[1]) and e.get("mime") != "warc/revisit"), None)
            if original is None:
                stats.inc_value("replay/missing")
                raise NotInArchive(f"revisit of {target[0]} whose original is not in the archive")
            origin = record_of(read_member(original["path"], int(original["offset"])))
        body = origin.raw_stream.read()
        http = rec.http_headers if rec.http_headers else origin.http_headers
        headers = Headers()
        for name, value in http.headers:
            headers.appendlist(name, value.encode("latin-1", "replace") if isinstance(value, str) else value)
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        request.meta["warc"] = {"file": _location(self.root, original), "offset": int(original["offset"]),
                                "record_id": origin.rec_headers.get_header("WARC-Record-ID"), "date": date,
                                "payload_digest": origin.rec_headers.get_header("WARC-Payload-Digest")}
        stats.inc_value("replay/served")
        return cls(url=url, status=int(http.get_statuscode()), headers=headers, body=body, request=request,
                   protocol=http.protocol or None)

    def _dom(self, request, url, entry):
        """A rendered page: the stored DOM, as the browser handed it to the spider."""
        rec = record_of(read_member(entry["path"], int(entry["offset"])))
        h = rec.rec_headers
        body = rec.raw_stream.read()
        request.meta["warc"] = {"file": _location(self.root, entry), "offset": int(entry["offset"]),
                                "record_id": h.get_header("WARC-Record-ID"), "date": h.get_header("WARC-Date"),
                                "payload_digest": h.get_header("WARC-Payload-Digest")}
        self.crawler.stats.inc_value("replay/served_dom")
        headers = Headers({"Content-Type": h.get_header("Content-Type") or "text/html"})
        status = h.get_header("WARC-Gikcrawl-Status") or "200"
        return responsetypes.from_args(headers=headers, url=url, body=body)(
            url=url, status=int(status), headers=headers, body=body, request=request, flags=["playwright"])


def _location(root: Path, entry: dict) -> str:
    path = Path(entry["path"])
    return str(path.relative_to(root)) if path.is_relative_to(root) else entry["filename"]


def _same_time(stamp14: str, warc_date: str | None) -> bool:
    digits = "".join(ch for ch in (warc_date or "") if ch.isdigit())[:14]
    return stamp14 == digits
