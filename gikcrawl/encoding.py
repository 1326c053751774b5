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
    """The codec a declared charset names, or None when it names none or one that is not a text encoding
    (hex, base64, rot13 …: a page cannot be in them)."""
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: NUL bytes mostly at odd (LE) or even (BE) offsets, and
    the decoded text is printable."""
    sample = data[:8192]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if even == odd:
        return None
    codec = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = data[:len(data) - len(data) % 2].decode(codec)
    except UnicodeDecodeError:
        return None
    bad = sum(1 for ch in text[:20000] if ch < " " and ch not in "\t\n\r\f" or "\ud800" <= ch <= "\udfff")
    return text if bad <= max(2, len(text[:20000]) // 200) else None


def declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def decode(data: bytes, *, declared: str | None = None, override: str | None = None) -> tuple[str, str]:
    """Decode bytes; returns (text, encoding used).

    Order: an explicit override; a BOM; UTF-8 if the bytes decode strictly; the declared charset (HTTP
    header, then meta tag) if they decode strictly under it; otherwise chardet's guess. A GBK page whose
    meta tag says utf-8 therefore comes out right, and so does a UTF-8 page served as gbk.
    """
    if override and _codec(override):
        return data.decode(_codec(override), errors="replace"), override
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:4096]:
        text = _utf16_without_bom(data)
        if text is None:
            raise UndecodableError("binary data (NUL bytes), not text")
        return text, "utf-16"
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
