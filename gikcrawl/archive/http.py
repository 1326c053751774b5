"""HTTP message blocks for WARC request and response records, built from Scrapy's objects.

The blocks keep header bytes as Scrapy holds them (multi-valued headers repeated, non-ASCII values
untouched); warcio would otherwise re-serialise them (percent-encoding non-ASCII values). What Scrapy
cannot give back is noted in every warcinfo record (see NOTES).
"""
from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

NOTES = ("request records are reconstructed from Scrapy's Request after every downloader middleware: "
         "header order is not kept, header names are in Scrapy's canonical case, Host is restored from "
         "the URL and connection-level headers added by the HTTP client are not recorded. Response status lines carry the standard reason phrase (Scrapy does not "
         "keep the server's). Response bodies are stored as received, before content decoding; chunked "
         "transfer coding is removed by the HTTP client, so Transfer-Encoding is dropped and Content-Length "
         "gives the stored length.")

_HOP_BY_HOP = {b"transfer-encoding", b"content-length"}


class RawHeaders(StatusAndHeaders):
    """StatusAndHeaders whose serialised form is exactly the given bytes."""

    def __init__(self, raw: bytes, statusline: str, headers: list, protocol: str, is_request: bool = False):
        super().__init__(statusline, headers, protocol=protocol, is_http_request=is_request)
        self.raw = raw

    def compute_headers_buffer(self, header_filter=None):
        self.headers_buff = self.raw


def _header_lines(headers) -> list[tuple[bytes, bytes]]:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append((name, value))
    return out


def _as_str_pairs(pairs):
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs]


def request_block(request) -> tuple[RawHeaders, bytes]:
    """(headers, body) of the request as sent: request line with the full target, Host first."""
    parts = urlsplit(request.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host = parts.netloc.encode("idna") if not parts.netloc.isascii() else parts.netloc.encode("ascii")
    pairs = [(b"Host", host)] + [p for p in _header_lines(request.headers) if p[0].lower() != b"host"]
    body = request.body or b""
    if body and not request.headers.get(b"Content-Length"):
        pairs.append((b"Content-Length", str(len(body)).encode()))
    line = f"{request.method} {target} HTTP/1.1"
    raw = line.encode("latin-1") + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in pairs) + b"\r\n"
    return RawHeaders(raw, line, _as_str_pairs(pairs), "HTTP/1.1", is_request=True), body


def response_block(response) -> tuple[RawHeaders, bytes]:
    """(headers, body) of the response as received: body before content decoding, Content-Length true."""
    body = response.body
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    statusline = f"{response.status} {phrase}".rstrip()
    pairs = [p for p in _header_lines(response.headers) if p[0].lower() not in _HOP_BY_HOP]
    pairs.append((b"Content-Length", str(len(body)).encode()))
    raw = (f"{protocol} {statusline}".encode("latin-1") + b"\r\n"
           + b"".join(k + b": " + v + b"\r\n" for k, v in pairs) + b"\r\n")
    return RawHeaders(raw, statusline, _as_str_pairs(pairs), protocol), body


def _raw_block(first_line: str, pairs: list[tuple[bytes, bytes]], protocol: str, statusline: str,
               is_request: bool = False) -> RawHeaders:
    raw = first_line.encode("latin-1") + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in pairs) + b"\r\n"
    return RawHeaders(raw, statusline, _as_str_pairs(pairs), protocol, is_request=is_request)


def browser_response_block(doc: dict) -> tuple[RawHeaders, bytes, bool]:
    """(headers, body, decoded) of a browser's main-document response (Playwright's raw header list).
    Browsers give bodies after content decoding: then Content-Encoding is dropped and decoded is True."""
    body = doc["body"] or b""
    pairs, decoded = [], False
    for h in doc["headers"]:
        name = h["name"].encode("latin-1", "replace")
        if name.lower() == b"content-encoding" and h["value"].strip().lower() not in ("", "identity"):
            decoded = True
            continue
        if name.lower() in _HOP_BY_HOP:
            continue
        pairs.append((name, h["value"].encode("utf-8")))
    pairs.append((b"Content-Length", str(len(body)).encode()))
    statusline = f"{doc['status']} {doc.get('reason') or ''}".rstrip()
    return _raw_block(f"HTTP/1.1 {statusline}", pairs, "HTTP/1.1", statusline), body, decoded


def browser_request_block(doc: dict) -> tuple[RawHeaders, bytes]:
    parts = urlsplit(doc["url"])
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pairs = [(h["name"].encode("latin-1", "replace"), h["value"].encode("utf-8")) for h in doc["request_headers"]]
    if not any(k.lower() == b"host" for k, _ in pairs):
        pairs.insert(0, (b"Host", parts.netloc.encode("idna")))
    line = f"{doc.get('method', 'GET')} {target} HTTP/1.1"
    return _raw_block(line, pairs, "HTTP/1.1", line, is_request=True), b""
