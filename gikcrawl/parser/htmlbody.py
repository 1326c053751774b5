"""The report body of a page without a known content container: trafilatura's main text, with each table it
printed replaced by our own span-resolved grid of the same table (matched by its cells)."""
from __future__ import annotations

import re

import trafilatura

from .normalize import squash

_PIPE_ROW = re.compile(r"^\s*\|")


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


# trafilatura builds its own trees of the page (about 100x the page's size in memory); above this size the
# page's own lines are used and the parser's chrome layer removes the navigation.
TRAFILATURA_MAX_CHARS = 1_000_000


def body_by_trafilatura(html: str, tables: list[list[str]]) -> list[str] | None:
    if len(html) > TRAFILATURA_MAX_CHARS:
        return None
    text = trafilatura.extract(html, include_tables=True, include_comments=False, include_links=False,
                               include_images=False, favor_recall=True, deduplicate=False)
    if not text:
        return None
    return with_own_tables(text.split("\n"), tables)
