"""The statistics tables: located in the cell stream, read row by row, never guessed.

Each reader starts at its table's marker cell, consumes cells until the table ends, and returns the data,
the line span it covered (left out of section text) and warnings. A row whose values cannot be placed
unambiguously becomes nulls plus a warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import templates as T
from .active import HEADING as _HEADING
from .cells import BLANK, NUM, TEXT, Cell, place_values, row_cells
from .labels import split_digit_run, split_glued

_APPS_START = re.compile(r"勾稽关系|^申请人情况$")
_APP_GROUPS = re.compile(r"办理结果|不予公开|无法提供|不予处理|其他处理|申请人情况|法人或其他组织")
_REVIEW_WORDS = re.compile(r"^(?:行政复议|行政诉讼|结果|维持|纠正|其他|其他结果|尚未|审结|尚未审结|总计|合计|"
                           r"结果维持|结果纠正|未经复议直接起诉|复议后起诉|[结果维持纠正其他尚未审总计])+$")


@dataclass
class TableRead:
    data: object = None
    first_line: int | None = None
    last_line: int | None = None
    warnings: list[str] = field(default_factory=list)
    layout: str | None = None          # "2021" / "2019" where the table tells
    unknown: set = field(default_factory=set)   # rows left null because their values could not be read

    def span(self, cells: list[Cell], start: int, end: int) -> None:
        """Record the line span of cells[start:end]."""
        if end > start:
            self.first_line = cells[start].line
            self.last_line = cells[end - 1].line


def is_prose(cell: Cell) -> bool:
    return _is_prose_key(cell.key)


def _is_prose_key(key: str) -> bool:
    return "。" in key or len(key) > 60 and not key.isdigit()


def _run(cells: list[Cell], i: int, kinds) -> int:
    """Index just past the run of cells of the given kinds starting at i."""
    while i < len(cells) and cells[i].kind in kinds:
        i += 1
    return i


def find_key(cells: list[Cell], start: int, keys: set[str]) -> int | None:
    """The first text cell at or after start whose key is one of keys."""
    for i in range(start, len(cells)):
        if cells[i].key in keys and cells[i].kind == TEXT:
            return i
    return None


# --- 收到和处理政府信息公开申请情况 applications ------------------------------------------------------

# All row definitions of both layouts in table order; 2019's single 其他处理 row sits where 2021's group is.
_APP_ORDER = T.APPLICATION_ROWS["2021"][:20] + T.APPLICATION_ROWS["2019"][20:21] + T.APPLICATION_ROWS["2021"][20:]
_APP_INDEX = {row.key: n for n, row in enumerate(_APP_ORDER)}


_ROW_NAMES = re.compile("|".join(f"(?P<{row.key}>{row.pattern.pattern})" for row in _APP_ORDER))


def _rows_named(text: str, after: int) -> list[str]:
    """Row keys named in a label text, in order, each later in the table than the one before."""
    return list(_named(text, after))


@lru_cache(maxsize=16384)
def _named(text: str, after: int) -> tuple[str, ...]:
    keys, last = [], after
    for m in _ROW_NAMES.finditer(text):
        index = _APP_INDEX[m.lastgroup]
        if index > last:
            keys.append(m.lastgroup)
            last = index
    return tuple(keys)


def _integer_row(values, key, warnings):
    if all(type(v) is int and v >= 0 for v in values):        # the usual row: nothing to check
        return dict(zip(T.APPLICANT_COLUMNS, values))
    clean = []
    for col, v in zip(T.APPLICANT_COLUMNS, values):
        if v is not None and (not float(v).is_integer() or v < 0):
            warnings.append(f"applications.{key}.{col}: {v} is not a count; left null")
            v = None
        clean.append(None if v is None else int(v))
    return dict(zip(T.APPLICANT_COLUMNS, clean))


@lru_cache(maxsize=65536)
def _opens_applications(key: str) -> bool:
    return bool(_APPS_START.search(key)) or (len(key) <= 45 and "本年新收" in key and not _is_prose_key(key))


def read_applications(cells: list[Cell], start_at: int = 0) -> TableRead:
    out = TableRead()
    start = next((i for i in range(start_at, len(cells)) if cells[i].kind == TEXT and _opens_applications(cells[i].key)),
                 None)
    if start is None:
        return out
    found: dict[str, dict | None] = {}
    last, i, end, buffer = -1, start, start, []
    ncols = len(T.APPLICANT_COLUMNS)
    while i < len(cells):
        c = cells[i]
        glued = None
        if c.kind == TEXT:
            if is_prose(c) or c.key == "行政复议" or (
                    _HEADING.match(c.key) and not _rows_named(c.key, -1) and not _APP_GROUPS.search(c.key)):
                break
            glued = split_glued(c.key)
            if not glued or not _rows_named(glued[0], -1):
                buffer.append(c.key)
                i += 1
                continue
            buffer.append(glued[0])
            j = i + 1
        else:
            j = _run(cells, i, (NUM, BLANK))
        keys = _rows_named("".join(buffer), last)
        buffer = []
        if not keys:
            if last >= 0 and any(x.kind == NUM for x in cells[i:j]):
                out.warnings.append(f"applications: values {[x.text for x in cells[i:j]]} follow no row label; "
                                    f"ignored")
            end = i = j
            continue
        for key in keys[:-1]:
            found[key] = None
        if glued:
            values = split_digit_run(glued[1], ncols, total_last=True)
            problem = None if values else f"digits {glued[1]!r} run together, no single reading"
        else:
            values, problem = place_values(row_cells(cells, cells[i - 1], cells[i:j], ncols), ncols)
        if problem:
            out.warnings.append(f"applications.{keys[-1]}: {problem}; row left null")
            out.unknown.add(keys[-1])
            values = [None] * len(T.APPLICANT_COLUMNS)
        found[keys[-1]] = _integer_row(values, keys[-1], out.warnings)
        last = _APP_INDEX[keys[-1]]
        end = i = j
        if keys[-1] == "carried_forward":
            break
    for key in _rows_named("".join(buffer), last):   # labels after the last values
        found[key] = None
    if not found:
        return out
    out.span(cells, start, end)
    has_2019_row = found.get("other") is not None
    has_2021_rows = any(found.get(k) is not None for k in ("other_no_correction", "other_unpaid_fee",
                                                           "other_other"))
    if has_2019_row and has_2021_rows:
        out.warnings.append("applications: both the 2019 其他处理 row and the 2021 sub-rows carry values")
    out.layout = "2019" if has_2019_row and not has_2021_rows else "2021"
    table = {}
    for row in T.APPLICATION_ROWS[out.layout]:
        if row.key not in found:
            out.warnings.append(f"applications.{row.key}: row not found; left null")
            out.unknown.add(row.key)
        elif found[row.key] is None:
            out.warnings.append(f"applications.{row.key}: row shows no values; left null")
            out.unknown.add(row.key)
        table[row.key] = found.get(row.key) or dict.fromkeys(T.APPLICANT_COLUMNS)
    out.data = table
    return out


# --- 行政复议、行政诉讼 review and litigation ---------------------------------------------------------

def read_review(cells: list[Cell], start_at: int = 0) -> TableRead:
    out = TableRead()

    start_keys = {"行政复议"}
    i = find_key(cells, start_at, start_keys)
    while i is not None:
        window = [x.key for x in cells[i + 1:i + 14] if x.kind == TEXT]
        if any(k in ("行政诉讼", "结果维持", "维持") for k in window):
            break
        i = find_key(cells, i + 1, start_keys)
    if i is None:
        return out
    start, values = i, []
    while i < len(cells):
        c = cells[i]
        if c.kind == TEXT:
            if values or is_prose(c) or not _REVIEW_WORDS.match(c.key):
                break
            i += 1
            continue
        j = _run(cells, i, (NUM, BLANK))
        header_follows = j < len(cells) and cells[j].kind == TEXT and bool(_REVIEW_WORDS.match(cells[j].key))
        if any(x.kind == NUM for x in cells[i:j]) or not header_follows:
            values = cells[i:j]                # the data row (a run of blanks between headers is span filler)
        i = j
    out.span(cells, start, i)
    ncols = len(T.REVIEW_GROUPS) * len(T.OUTCOME_COLUMNS)
    placed, problem = place_values(values, ncols)
    if problem or not values:
        out.warnings.append(f"review_litigation: {problem or 'no values'}; table left null")
        out.unknown.update(T.REVIEW_GROUPS)
        placed = [None] * ncols
    table = {}
    for g, group in enumerate(T.REVIEW_GROUPS):
        row = {}
        for k, col in enumerate(T.OUTCOME_COLUMNS):
            v = placed[g * 5 + k]
            if v is not None and (not float(v).is_integer() or v < 0):
                out.warnings.append(f"review_litigation.{group}.{col}: {v} is not a count; left null")
                v = None
            row[col] = None if v is None else int(v)
        table[group] = row
    out.data = table
    return out


# --- 2008-2018 统计表 legacy --------------------------------------------------------------------------

_LEGACY_LABEL_HEAD = {"指标", "统计指标", "指标名称", "项目", "统计项目", "项目名称", "统计内容", "内容", "类别"}
_LEGACY_UNIT_HEAD = {"单位", "计量单位"}
_LEGACY_VALUE_HEAD = re.compile(r"^(?:数量|统计数|数值|统计数量|数据|数目|本年|本年度|本年数|本期|"
                                r"(?:19|20)\d{2}年度?(?:数量|数据|统计数)?|历年累计|累计|累计数|总计|合计)$")
_CUMULATIVE = re.compile(r"累计|历年|总计|合计")


def _legacy_columns(heads: list[str]) -> tuple[int, int | None]:
    """(number of value columns, index of the one holding the report year's figure) from the header cells
    after the unit column: the year (or 本年/数量) column, never the cumulative one."""
    if not heads:
        return 1, 0
    wanted = [n for n, h in enumerate(heads) if not _CUMULATIVE.search(h)]
    return len(heads), (wanted[0] if len(wanted) == 1 else None)


def read_legacy(cells: list[Cell]) -> TableRead:
    out = TableRead(data=[])

    i = find_key(cells, 0, _LEGACY_LABEL_HEAD)
    while i is not None and not any(x.key in _LEGACY_UNIT_HEAD for x in cells[i + 1:i + 4]):
        i = find_key(cells, i + 1, _LEGACY_LABEL_HEAD)
    if i is None:
        return out
    start = i
    heads: list[str] = []
    while i < len(cells) and cells[i].kind != NUM and (
            cells[i].key in _LEGACY_LABEL_HEAD | _LEGACY_UNIT_HEAD or _LEGACY_VALUE_HEAD.match(cells[i].key)
            or cells[i].kind == BLANK):
        if _LEGACY_VALUE_HEAD.match(cells[i].key):
            heads.append(cells[i].key)
        i += 1
    ncols, chosen = _legacy_columns(heads)
    if chosen is None:
        out.warnings.append(f"legacy: value columns {heads!r}: none is the report year's alone; values left null")
    section, end, pending = None, i, []
    while i < len(cells):
        c = cells[i]
        if c.kind != TEXT:
            i += 1
            continue
        if is_prose(c) or c.key in T.LEGACY_UNITS:
            break
        label, i = c.key, i + 1
        after_label = i
        unit = None
        if i < len(cells) and cells[i].kind == TEXT and cells[i].key in T.LEGACY_UNITS:
            unit, i = cells[i].key, i + 1
        elif i < len(cells) and cells[i].kind == BLANK and cells[i].text:      # "—": no unit
            i += 1
        run = i
        while run < len(cells) and run - i < ncols and cells[run].kind in (NUM, BLANK) and \
                (cells[run].kind == NUM or cells[run].piped or cells[run].text):
            run += 1
        values = cells[i:run]
        value = None
        if values and any(v.kind == NUM for v in values):
            if chosen is None:
                pass
            elif len(values) == ncols:
                value = values[chosen].value
            elif ncols > 1:
                out.warnings.append(f"legacy: {label}: {len(values)} values for {ncols} value columns; left null")
            else:
                value = values[0].value
        i = run
        if i == after_label:                         # no unit and no value: a row with blank cells, or
            if len(pending) >= 2:                    # past the end of the table
                break
            pending.append((label, i))
            continue
        for blank_label, _ in pending:
            out.data.append({"section": section, "indicator": blank_label, "unit": None, "value": None})
        pending = []
        end = i
        if _HEADING.match(label) and unit is None and value is None:
            section = label
            continue
        out.data.append({"section": None if _HEADING.match(label) else section, "indicator": label,
                         "unit": unit, "value": value})
        if _HEADING.match(label):
            section = label
    out.span(cells, start, end)
    if not out.data:
        out.warnings.append("legacy: a 统计表 header is printed but no row could be read")
    return out
