"""Response bytes → decoded text → the shared parser's record.

`report_record` is how the live spider, WARC replay and `gikcrawl parse FILE` turn a body into a record: it
decodes the bytes by the project's charset policy (encoding.decode) and hands the text to
`gikcrawl.parser.parse`, the one way from text or HTML to a record.
"""
from __future__ import annotations

import re

from .encoding import UndecodableError, decode
from .parser import parse

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)


def header_charset(content_type: str | bytes | None) -> str | None:
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    m = _CHARSET.search(content_type or "")
    return m.group(1) if m else None


def decode_body(body: bytes, content_type: str | bytes | None = None, override: str | None = None) -> str:
    """Trust the HTTP or meta charset only when the bytes decode cleanly under it (encoding.decode)."""
    return decode(body, declared=header_charset(content_type), override=override)[0]


def report_record(body: bytes | str, *, content_type: str | bytes | None = None, encoding: str | None = None,
                  container: str | None = None, **source) -> dict:
    """The parser record for one response body (HTML or plain text); a body that is not text gives a record
    that says so (the bytes stay archived), never an exception."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    source["content_type"] = (content_type or "").split(";")[0].strip() or None
    try:
        text = decode_body(body, content_type, encoding) if isinstance(body, bytes) else body
    except UndecodableError as e:
        record = parse("", **source)
        record["warnings"].insert(0, f"body is not text ({e}); nothing parsed")
        return record
    return parse(text, container=container, **source)
