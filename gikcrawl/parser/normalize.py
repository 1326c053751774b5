"""Text normalisation: Unicode compatibility forms, traditional → simplified script, whitespace."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_CJK = re.compile(r"[\u4e00-\u9fff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2002-\u200b\ufeff]+")
_SQUASH = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation → ASCII; keeps CJK ideographs."""
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str, force: bool = False) -> tuple[str, bool]:
    """Convert traditional characters (and a bad converter's artifacts like 方麵) to simplified.

    Returns the text and whether it was converted. Simplified text passes through unchanged; a few
    scattered conversions in a simplified text (variant characters) do not count as traditional script,
    unless force (a short text, e.g. a title, from a page already found to be traditional).
    """
    converted = _t2s().convert(text)
    if converted == text:
        return text, False
    if force:
        return converted, True
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    cjk = len(_CJK.findall(text)) or 1
    if changed >= 5 and changed / cjk > 0.005:
        return converted, True
    return text, False


def clean_line(line: str) -> str:
    """Collapse runs of horizontal whitespace and strip the line."""
    return _SPACES.sub(" ", line).strip()


def squash(text: str) -> str:
    """All whitespace removed: for matching labels broken by spaces or line breaks."""
    return _SQUASH.sub("", text)


def normalize_text(text: str) -> tuple[str, bool]:
    """NFKC, then simplified script, horizontal whitespace runs collapsed. Returns (text, script_normalized)."""
    text = nfkc(text.replace("\r\n", "\n").replace("\r", "\n"))
    text, converted = to_simplified(text)
    return _SPACES.sub(" ", text), converted
