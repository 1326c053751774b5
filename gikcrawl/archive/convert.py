"""Stored WARC records back into Scrapy responses: the one place a capture becomes a Response.

Resume and spider-level replay (through gikcrawl/archive/storage.py), the 304 answer of an incremental run,
a `--refresh new` run's known attachments, `gikcrawl replay` and `gikcrawl wacz` all come here.

What a record can be: a response; a revisit, which stands for the response it refers to (passed as
`original`: its bytes, and for a 304 its status and headers); a rendered page's DOM (a resource record marked
`WARC-Gikcrawl-Rendered: DOM`, its status in `WARC-Gikcrawl-Status`), flagged "playwright" as the browser
handler flags it. The class follows the headers, URL and body (scrapy.responsetypes), as Scrapy's own
download handlers choose it.

HTTP headers are taken from the stored header bytes, not from warcio's parse (which decodes each line as
UTF-8, else Latin-1, and cannot be turned back into the bytes the server sent).
"""
from __future__ import annotations

import io
from pathlib import Path

from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.recordloader import ArcWarcRecord

from ..meta import WARC
from .reader import record_bytes

_END = b"\r\n\r\n"


class Stored:
    """One stored record: warcio's parse of its WARC headers, and its stored bytes (for the HTTP headers)."""

    def __init__(self, data: bytes):
        self.data = data
        self.record: ArcWarcRecord = next(iter(ArchiveIterator(io.BytesIO(data), arc2warc=False)))

    @classmethod
    def at(cls, path: str | Path, offset: int) -> "Stored":
        return cls(record_bytes(path, offset))

    def field(self, name: str) -> str | None:
        return self.record.rec_headers.get_header(name)

    @property
    def rendered_dom(self) -> bool:
        return self.record.rec_type == "resource" and self.field("WARC-Gikcrawl-Rendered") == "DOM"

    def status(self) -> int | None:
        if self.rendered_dom:
            value = self.field("WARC-Gikcrawl-Status") or "200"
            return int(value) if value.isdigit() else None
        try:
            return int(self.record.http_headers.get_statuscode()) if self.record.http_headers else None
        except (TypeError, ValueError):
            return None

    def headers(self) -> Headers:
        """The HTTP headers as stored (a DOM: its Content-Type); empty for records without any."""
        if self.rendered_dom:
            return Headers({"Content-Type": self.field("Content-Type") or "text/html"})
        if not self.record.http_headers:
            return Headers()
        start = self.data.find(_END)
        end = self.data.find(_END, start + 4) if start >= 0 else -1
        if end < 0:                # bare-LF line ends (other tools): warcio's parse, as it decoded it
            return _from_parsed(self.record.http_headers)
        pairs: list[list[bytes]] = []
        for line in self.data[start + 4:end].split(b"\r\n")[1:]:
            if line[:1] in (b" ", b"\t") and pairs:          # obsolete line folding
                pairs[-1][1] += b" " + line.strip()
                continue
            name, sep, value = line.partition(b":")
            if sep and name.strip():
                pairs.append([name.strip(), value.strip()])
        headers = Headers()
        for name, value in pairs:
            headers.appendlist(name, value)
        return headers

    def payload(self, decode: bool) -> bytes:
        """The body as stored (content-coded), or with its Content-Encoding decoded (as a spider sees it)."""
        stream = self.record.content_stream() if decode else self.record.raw_stream
        return stream.read()


def _from_parsed(http) -> Headers:
    headers = Headers()
    for name, value in http.headers:
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raw = value.encode("utf-8")
        headers.appendlist(name, raw)
    return headers


def _decoded_by_warcio(headers: Headers) -> bool:
    coding = (headers.get(b"Content-Encoding") or b"").decode("latin-1").strip().lower()
    return bool(coding) and coding in BufferedReader.get_supported_decompressors()


def warc_location(found: Stored, source: Stored, file: str, offset: int) -> dict:
    """request.meta[WARC] of a capture: where its bytes are (source: the response a revisit refers to, else
    the record found itself), dated by the record found."""
    return {"file": file, "offset": offset, "record_id": source.field("WARC-Record-ID"),
            "date": found.field("WARC-Date"), "payload_digest": source.field("WARC-Payload-Digest")}


def to_response(found: Stored, original: Stored | None = None, *, url: str | None = None,
                request: Request | None = None, location: tuple[str, int] | None = None,
                flags: list[str] | tuple = (), decode: bool = False) -> Response:
    """The Response a stored capture stands for.

    found: the record looked up (response, revisit or rendered DOM); original: for a revisit, the response it
    refers to. decode=False keeps the body content-coded, for the downloader middleware chain to decode as it
    did live; decode=True gives the body a spider callback sees (Content-Encoding decoded and dropped).
    location (file, offset of the bytes): sets request.meta[WARC], as the archive writer sets it live."""
    if found.record.rec_type == "revisit" and original is None:
        raise ValueError(f"a revisit of {found.field('WARC-Target-URI')} needs the record it refers to")
    source = original if found.record.rec_type == "revisit" else found
    url = url or found.field("WARC-Target-URI")
    headers, status = found.headers(), found.status()
    if source is not found and (status == 304 or not found.record.http_headers):
        headers, status = source.headers(), source.status()       # server-not-modified: the earlier capture
    if status is None:
        raise ValueError(f"{url}: the stored record has no HTTP status")
    body = source.payload(decode)
    if decode and not source.rendered_dom and _decoded_by_warcio(source.headers()):
        del headers[b"Content-Encoding"]
    flags = list(flags) + (["playwright"] if found.rendered_dom else [])
    http = found.record.http_headers or source.record.http_headers
    protocol = (http.protocol or None) if http is not None and not found.rendered_dom else None
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    if request is not None and location is not None:
        request.meta[WARC] = warc_location(found, source, *location)
    return cls(url=url, status=status, headers=headers, body=body, request=request,
               flags=flags, protocol=protocol)
