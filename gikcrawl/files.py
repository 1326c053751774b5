"""Reading report files from disk for `gikcrawl parse`: one clear error per bad input."""
from __future__ import annotations

import os
from pathlib import Path

from .encoding import UndecodableError, decode
from .extract import report_record


class InputError(Exception):
    """An input that cannot be parsed; the message names the file and the reason in one line."""


def read_bytes(path: str | os.PathLike) -> bytes:
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise InputError(f"{p}: empty file")
    return data


def read_report_file(path: str | os.PathLike, data: bytes | None = None) -> str:
    p = Path(path)
    data = read_bytes(p) if data is None else data
    try:
        text, _ = decode(data)
    except UndecodableError as e:
        raise InputError(f"{p}: not a text or HTML file ({e})") from None
    return text


def parse_file(path: str | os.PathLike) -> dict:
    """The record for one file, through the same extraction as crawled pages and attachments: .txt and
    .html, and documents (every carrier of gikcrawl.carriers) as the crawl reads attachments."""
    data = read_bytes(path)
    from .carriers import sniff
    if sniff(data[:8192], Path(path).name) is not None:
        from .attachments import attachment_record
        from .report import Carrier, build_report
        record = build_report(None, [Carrier(str(path), attachment_record(
            data, url=None, site_key=None, content_type=None, warc=None,
            disposition=f'attachment; filename="{Path(path).name}"'))])
        record["source"]["path"] = str(path)
        return record
    text = read_report_file(path, data)
    suffix = Path(path).suffix.lower()
    content_type = "text/html" if suffix in (".html", ".htm", ".shtml", ".xhtml") else "text/plain"
    return report_record(text, path=str(path), content_type=content_type)
