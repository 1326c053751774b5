"""Table text → a stream of cells.

Tables reach the parser in several shapes (domain.md §2): one cell per line, pipe rows where runs of "|"
stand for empty cells, rows split over several lines each ending in "|", and lines of whitespace-separated
numbers (PDF text). All become one flat stream of cells, each remembering its line, so that the table
parsers work the same on every shape.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .normalize import squash

NUM, BLANK, TEXT = "num", "blank", "text"

_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]|增加?|减少?)?(?P<int>\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(?P<frac>\.\d{1,8})?"
    r"(?P<unit>件|条|个|次|人次|人|万元|元|项|篇|份|期|场|家|%)?$")
_BLANK_MARKS = {"", "—", "——", "-", "--", "/", "无", "空", "－", "―", "─"}
_ALL_NUMBERS = re.compile(r"^[+\-]?\d+(?:\.\d+)?(?:\s+[+\-]?\d+(?:\.\d+)?)+$")
# A row label and its values on one line, separated by spaces (PDF and flipbook text): "行政许可 12 0 12".
_LABEL_NUMBERS = re.compile(r"^(?P<label>[^|]*?[\u4e00-\u9fff)\]][^\d\s|]*)\s+"
                            r"(?P<numbers>[+\-]?\d+(?:\.\d+)?(?:\s+[+\-]?\d+(?:\.\d+)?)*)$")


class Cell(NamedTuple):
    """One cell of the stream. A tuple: tables hold hundreds of cells, and cells_of builds them with
    tuple.__new__ (C) from a per-line cache."""
    kind: str                 # NUM, BLANK or TEXT
    text: str                 # as printed (whitespace collapsed)
    line: int                 # index of the line it came from
    value: float | int | None = None
    piped: bool = False       # came from a pipe row: an empty cell there is a real (or spanned) cell
    pos: int = 0              # index of the cell within its line
    key: str = ""             # the text with all whitespace removed, for label matching


def parse_number(text: str):
    """'12' → 12, '160.5964万元' → 160.5964, '+3' → 3, '-1' → -1, '1,234' → 1234; None if not a number."""
    return _number(squash(text))


def _number(key: str):
    m = _NUMBER.match(key)
    if not m:
        return None
    digits = m.group("int").replace(",", "") + (m.group("frac") or "")
    value = float(digits) if m.group("frac") else int(digits)
    if m.group("sign") and m.group("sign")[0] in "-−减":
        value = -value
    return value


def _fields(text: str, piped: bool, pos: int) -> tuple:
    """(kind, text, value, piped, pos, key) of a cell printed as text."""
    words = text.split()
    if len(words) == 1:
        text = key = words[0]                   # one string for both: tables hold many cells
    else:
        text, key = " ".join(words), "".join(words)
    if key.isdigit() and key.isascii() and len(key) <= 15:
        return NUM, text, int(key), piped, pos, key       # most cells: a plain count
    if key in _BLANK_MARKS:
        return BLANK, text, None, piped, pos, key
    value = _number(key) if key[:1].isdigit() or key[:1] in "+-−增减" else None
    if value is not None:
        return NUM, text, value, piped, pos, key
    return TEXT, text, None, piped, pos, key


def make_cell(text: str, line: int, piped: bool, pos: int = 0) -> Cell:
    kind, text, value, piped, pos, key = _fields(text, piped, pos)
    return Cell(kind, text, line, value, piped, pos, key)


def split_line(line: str) -> tuple[list[str], bool]:
    """One line → its cell texts, and whether it was a pipe row."""
    if "|" not in line:
        stripped = line.strip()
        if _ALL_NUMBERS.match(stripped):
            return stripped.split(), False
        m = _LABEL_NUMBERS.match(stripped) if len(stripped) <= 90 and stripped[-1:].isdigit() else None
        if m and "。" not in m.group("label"):
            return [m.group("label"), *m.group("numbers").split()], False
        return ([stripped] if stripped else []), False
    parts = line.split("|")
    if parts and not parts[0].strip():
        parts = parts[1:]          # a leading "|" opens the row
    if parts and not parts[-1].strip():
        parts = parts[:-1]         # a trailing "|" closes the last cell
    return parts, True


@lru_cache(maxsize=65536)
def _line_cells(line: str) -> tuple[tuple, ...]:
    """The cells of one line as (kind, text, value, piped, pos, key); lines repeat, so this is cached."""
    texts, piped = split_line(line)
    return tuple(_fields(t, piped, pos) for pos, t in enumerate(texts))


def cells_of(lines: list[str], start: int = 0, end: int | None = None) -> list[Cell]:
    end = len(lines) if end is None else end
    new, cached, uncached = tuple.__new__, _line_cells, _uncached
    return [new(Cell, (kind, text, i, value, piped, pos, key)) for i in range(start, end) if (line := lines[i])
            for kind, text, value, piped, pos, key in (cached(line) if len(line) < 2000 else uncached(line))]


def _uncached(line: str) -> tuple[tuple, ...]:
    return _line_cells.__wrapped__(line)


def row_cells(cells: list[Cell], label: Cell, values: list[Cell], ncols: int,
              positions: list[int] | None = None) -> list[Cell]:
    """The value cells of the row a label starts.

    When the label sits in a pipe row that holds at least ncols more cells, the row is one line of a grid
    (trafilatura's shape: a spanned cell's text in its first grid cell, empty cells after it). The data
    columns are then found by position: at the header cells' positions when the caller knows them, else
    the last ncols cells (a label's span comes before the data).
    """
    if label.piped:
        same_line = [c for c in values if c.line == label.line]
        if len(same_line) >= ncols:
            if positions and len(positions) == ncols:
                at = {c.pos: c for c in same_line}
                if all(p in at for p in positions):
                    return [at[p] for p in positions]
            numbers = [c for c in same_line if c.kind == NUM]
            if len(numbers) == ncols and same_line[-ncols:] != numbers:
                # all the row's numbers are there, and empty cells stand around them (a spanned label
                # before, a row closed by "||" after): the empty cells are not data
                first, last = same_line.index(numbers[0]), same_line.index(numbers[-1])
                if last - first + 1 == ncols:
                    return same_line[first:last + 1]
            return same_line[-ncols:]
    return values


def place_values(cells: list[Cell], ncols: int):
    """Values of one table row from the cells that follow its label.

    Returns (values, problem): values is a list of ncols numbers/None, or None when the placement is
    ambiguous; problem says why. Blank cells count as cells only when they came from pipe rows (in
    one-cell-per-line text a blank cell leaves no trace). Empty cells outside a window of ncols are taken
    as the empty remainder of a spanned cell; the row is placed only if exactly one window fits.
    """
    data = [c for c in cells if c.kind == NUM or (c.kind == BLANK and (c.piped or c.text))]
    numbers = [c for c in data if c.kind == NUM]
    if not numbers:
        return [None] * ncols, None
    if len(numbers) == ncols and len(data) == ncols:
        return [c.value for c in data], None
    placements = set()
    for offset in range(0, len(data) - ncols + 1):
        outside = data[:offset] + data[offset + ncols:]
        if all(c.kind == BLANK for c in outside):
            placements.add(tuple(c.value for c in data[offset:offset + ncols]))
    if len(placements) == 1:
        return list(placements.pop()), None
    if len(numbers) == ncols:
        return [c.value for c in numbers], None
    if not placements:
        return None, f"{len(numbers)} values for {ncols} columns"
    return None, f"{len(data)} cells for {ncols} columns, placement ambiguous"
