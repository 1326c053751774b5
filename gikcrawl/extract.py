"""Response bytes → decoded HTML → report text → the shared parser's record.

One function, `report_record`, used by the live spider, WARC replay and `gikcrawl parse FILE.html`, so the
three give the same record for the same bytes. The report body is the page's content container (a site's
`content` selector or the known CMS containers); when a page has none, trafilatura strips the page chrome
and its table text is replaced by our own span-resolved grids of the same tables. Injected spam and
footers left in the body are removed (and reported) by the parser's chrome layer.
"""
from __future__ import annotations

import re

import trafilatura

from .encoding import decode
from .parser import parse, parse_document
from .parser.htmldoc import looks_like_html, parse_html
from .parser.normalize import squash

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_PIPE_ROW = re.compile(r"^\s*\|")


def header_charset(content_type: str | bytes | None) -> str | None:
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    m = _CHARSET.search(content_type or "")
    return m.group(1) if m else None


def decode_body(body: bytes, content_type: str | bytes | None = None, override: str | None = None) -> str:
    """Trust the HTTP or meta charset only when the bytes decode cleanly under it (encoding.decode)."""
    return decode(body, declared=header_charset(content_type), override=override)[0]


def _tokens(lines: list[str]) -> set[str]:
    return {squash(cell) for line in lines for cell in line.split("|") if squash(cell)}


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of pipe rows in trafilatura's text."""
    out, start = [], None
    for i, line in enumerate(lines + [""]):
        if _PIPE_ROW.match(line) and start is None:
            start = i
        elif not _PIPE_ROW.match(line) and start is not None:
            out.append((start, i))
            start = None
    return out


def with_own_tables(text_lines: list[str], tables: list[list[str]]) -> list[str]:
    """Replace each table trafilatura printed by our grid of the same table (matched by its cells)."""
    out, last = [], 0
    own = [(t, _tokens(t)) for t in tables]
    for start, end in _blocks(text_lines):
        theirs = _tokens(text_lines[start:end])
        best, score = None, 0.0
        for table, tokens in own:
            overlap = len(theirs & tokens) / max(1, len(theirs | tokens))
            if overlap > score:
                best, score = table, overlap
        out += text_lines[last:start]
        out += best if best is not None and score >= 0.5 else text_lines[start:end]
        last = end
    return out + text_lines[last:]


def body_by_trafilatura(html: str, tables: list[list[str]]) -> list[str] | None:
    text = trafilatura.extract(html, include_tables=True, include_comments=False, include_links=False,
                               include_images=False, favor_recall=True, deduplicate=False)
    if not text:
        return None
    return with_own_tables(text.split("\n"), tables)


def report_record(body: bytes | str, *, content_type: str | bytes | None = None, encoding: str | None = None,
                  container: str | None = None, **source) -> dict:
    """The parser record for one response body (HTML or plain text)."""
    text = decode_body(body, content_type, encoding) if isinstance(body, bytes) else body
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    source["content_type"] = (content_type or "").split(";")[0].strip() or None
    if not looks_like_html(text):
        return parse(text, **source)
    doc = parse_html(text, container)
    body_lines = doc.body
    if body_lines is None:
        body_lines = body_by_trafilatura(text, doc.tables)
    return parse_document(doc.lines, body_lines, doc.titles, images=doc.images, **source)
