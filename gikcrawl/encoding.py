"""Bytes → text, trusting a declared charset only when the bytes decode cleanly under it."""
from __future__ import annotations

import codecs
import re

import chardet

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# GB2312 and GBK declarations routinely cover GB18030-only characters; GB18030 is their superset.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
              "latin-1": "cp1252", "ascii": "utf-8", "us-ascii": "utf-8"}


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can identify (binary input)."""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def decode(data: bytes, *, declared: str | None = None, override: str | None = None) -> tuple[str, str]:
    """Decode bytes; returns (text, encoding used).

    Order: an explicit override; a BOM; UTF-8 if the bytes decode strictly; the declared charset (HTTP
    header, then meta tag) if they decode strictly under it; otherwise chardet's guess. A GBK page whose
    meta tag says utf-8 therefore comes out right, and so does a UTF-8 page served as gbk.
    """
    if override:
        return data.decode(_codec(override) or override, errors="replace"), override
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:4096]:
        raise UndecodableError("binary data (NUL bytes), not text")
    tried = []
    # UTF-8 first: bytes of another encoding almost never decode as UTF-8, while UTF-8 bytes often
    # decode "cleanly" as GB18030 mojibake.
    for name in ("utf-8", declared, declared_charset(data)):
        codec = _codec(name)
        if not codec or codec in tried:
            continue
        tried.append(codec)
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    guess = chardet.detect(data[:65536])          # right on Chinese pages, though with low confidence
    codec = _codec(guess.get("encoding"))
    if not codec:
        raise UndecodableError("no text encoding fits these bytes")
    text = data.decode(codec, errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    if bad > max(8, len(text) // 100):
        raise UndecodableError(f"not text: {bad} undecodable or control characters as {codec}")
    return text, codec
