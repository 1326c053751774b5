"""Top-level sections (一、总体情况 …) in document order, table text left out."""
from __future__ import annotations

import re

from . import templates as T
from .cells import NUM, make_cell
from .normalize import squash
from .tables import _rows_named

_NUMBERED = re.compile(r"^([一二三四五六七八九十]{1,3})、")
_DIGITS = {c: n for n, c in enumerate("一二三四五六七八九", start=1)}


def chinese_number(numeral: str) -> int | None:
    """一 → 1, 十 → 10, 十一 → 11, 二十三 → 23."""
    if numeral == "十":
        return 10
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        value = (_DIGITS.get(tens, 0) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
        return value if (not tens or tens in _DIGITS) and (not ones or ones in _DIGITS) else None
    return _DIGITS.get(numeral) if len(numeral) == 1 else None


def _next_text(lines: list[str], i: int, skip: set[int]) -> str:
    for j in range(i + 1, min(i + 6, len(lines))):
        if j not in skip and lines[j].strip():
            return lines[j].strip()
    return ""


def heading_number(line: str) -> int | None:
    m = _NUMBERED.match(line)
    if not m or "|" in line or len(squash(line)) > 50:
        return None
    if not T.SECTION_WORDS.search(line) or _rows_named(squash(line), -1):
        return None
    return chinese_number(m.group(1))


def split_sections(lines: list[str], skip: set[int]) -> tuple[str, list[dict]]:
    """Returns (preamble text, sections). Lines in skip (tables, chrome, title) are left out."""
    preamble: list[str] = []
    sections: list[dict] = []
    last = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if i in skip or not line:
            continue
        n = heading_number(line)
        if n is not None and n > last and make_cell(_next_text(lines, i, skip), i, False).kind != NUM:
            sections.append({"heading": line, "text": []})
            last = n
            continue
        (sections[-1]["text"] if sections else preamble).append(line)
    for s in sections:
        s["text"] = "\n".join(s["text"])
    return "\n".join(preamble), sections
