"""Printed table labels → template labels, by a scored match with a minimum margin.

Real tables print the template's labels with local additions: bracketed explanations (Hubei's
"规章(设区的市、自治州人民政府应提供相关数据)"), truncated or split headers ("本年新", "本年增/"),
converter variants of Traditional text (檔案 for 文件) and dropped prefixes. A list of literals cannot
follow them; a similarity score can, provided a label is only taken when it beats the runner-up by a
margin (otherwise the caller falls back on the table's position rules or leaves the cells null).
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

_NUMBERING = re.compile(r"^(?:\d+[.、]|\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+、)+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_OPEN_BRACKET = re.compile(r"\([^()]*$")          # an explanation cut off by the line or the excerpt
_GLUED_DIGITS = re.compile(r"^(?P<label>.*?[^\d.,+\-−])(?P<digits>\d+)$")

MIN_SCORE = 0.6
MIN_MARGIN = 0.1


@lru_cache(maxsize=4096)
def clean_label(key: str) -> str:
    """A squashed label without its numbering and bracketed explanations."""
    text = _NUMBERING.sub("", key)
    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub("", text)
    text = _OPEN_BRACKET.sub("", text)
    return text.strip("“”\"'|:")


def similarity(printed: str, official: str) -> float:
    """1.0 when the printed label starts with the official one (the rest is a local addition); else the
    share of characters the two have in common, in order."""
    if not printed or not official:
        return 0.0
    if printed.startswith(official):
        return 1.0
    return SequenceMatcher(None, printed, official, autojunk=False).ratio()


Candidates = tuple[tuple[str, ...], ...]      # per candidate, its accepted spellings


@lru_cache(maxsize=8192)
def _best(printed: str, candidates: Candidates, min_score: float, margin: float) -> int | None:
    scored = sorted(((max(similarity(printed, s) for s in spellings), max(len(s) for s in spellings), n)
                     for n, spellings in enumerate(candidates)), reverse=True)
    if not scored or scored[0][0] < min_score:
        return None
    best, best_len, index = scored[0]
    if len(scored) > 1:
        score, length, _ = scored[1]
        if best == 1.0 and score == 1.0:
            # both are prefixes of the printed label: the longer one is the more specific
            return index if best_len > length else None
        if best - score < margin - 1e-9:
            return None
    return index


def best_match(printed: str, candidates: Candidates, min_score: float = MIN_SCORE,
               margin: float = MIN_MARGIN) -> int | None:
    """Index of the candidate the printed label stands for, or None when none is close enough or two are
    about as close."""
    return _best(printed, candidates, min_score, margin)


@lru_cache(maxsize=65536)
def split_glued(key: str) -> tuple[str, str] | None:
    """'规章000' → ('规章', '000'): a label whose value cells were printed against it without a separator."""
    m = _GLUED_DIGITS.match(key)
    if not m or not re.search(r"[\u4e00-\u9fff]", m.group("label")):
        return None
    return m.group("label"), m.group("digits")


def split_digit_run(digits: str, ncols: int, total_last: bool = False) -> list[int] | None:
    """The values of a row printed as one run of digits, when only one reading is possible.

    With as many digits as columns each digit is a cell. With more digits, every split into ncols
    numbers without leading zeros is a reading; when the last column is the row total, readings whose
    total is not the sum of the others are dropped. None when no single reading remains.
    """
    if ncols <= 0 or len(digits) < ncols or len(digits) > 24:
        return None
    if len(digits) == ncols:
        return [int(d) for d in digits]
    if ncols == 1:
        return [int(digits)] if digits == "0" or not digits.startswith("0") else None
    readings: list[list[int]] = []

    def walk(rest: str, parts: list[int]) -> None:
        if len(readings) > 1 and not total_last:
            return
        left = ncols - len(parts)
        if left == 1:
            if rest == "0" or not rest.startswith("0"):
                readings.append(parts + [int(rest)])
            return
        for cut in range(1, len(rest) - left + 2):
            head = rest[:cut]
            if head.startswith("0") and head != "0":
                break
            walk(rest[cut:], parts + [int(head)])

    walk(digits, [])
    if total_last:
        readings = [r for r in readings if sum(r[:-1]) == r[-1]]
    return readings[0] if len(readings) == 1 else None
