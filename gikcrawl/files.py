"""Reading report files from disk for `gikcrawl parse`: one clear error per bad input."""
from __future__ import annotations

import os
from pathlib import Path

from .encoding import UndecodableError, decode
from .extract import report_record


class InputError(Exception):
    """An input that cannot be parsed; the message names the file and the reason in one line."""


def read_report_file(path: str | os.PathLike) -> str:
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise InputError(f"{p}: empty file")
    try:
        text, _ = decode(data)
    except UndecodableError as e:
        raise InputError(f"{p}: not a text or HTML file ({e})") from None
    return text


def parse_file(path: str | os.PathLike) -> dict:
    """The record for one file, through the same extraction as crawled pages."""
    text = read_report_file(path)
    suffix = Path(path).suffix.lower()
    content_type = "text/html" if suffix in (".html", ".htm", ".shtml", ".xhtml") else "text/plain"
    return report_record(text, path=str(path), content_type=content_type)
