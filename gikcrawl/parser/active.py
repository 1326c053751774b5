"""Table 2 (第二十条 主动公开): blocks of header cells and rows, placed against the template.

Read in two passes. The first walks the cells into blocks (a 第二十条 marker or a 信息内容 header opens
one) holding the printed header cells and rows (label + value cells). The second decides the template
(2019 or 2021) from everything the table shows — column headers, rows only one template has, the number of
values in the rows — and then places each block's columns: by its headers where they name the template's
columns, else by the template's column order when the headers are truncated, split, glued or misprinted
but the number of headers or values fits the template block exactly. A row whose values cannot be placed
is null with a warning naming the table; a figure is never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import templates as T
from .cells import BLANK, NUM, TEXT, Cell, place_values, row_cells
from .labels import best_match, clean_label, split_digit_run, split_glued

_CLAUSE = re.compile(r"^第二十条第?\(?([一二三四五六七八九十]{1,2})\)?项")
HEADING = re.compile(r"^[一二三四五六七八九十]{1,3}、")      # a section heading (一、总体情况 …): ends a table
_APPS_START = re.compile(r"勾稽关系|申请人情况")
_HEADER_OPEN = "信息内容"

# Row labels as the templates print them, and the clause each row belongs to.
_ITEM_LABELS = tuple(tuple(dict.fromkeys((item[1], item[2]))) for item in T.AD_ITEMS)
_OTHER_ITEM = 8                                     # 其他主动公开文件: a Hubei row no template has
_ITEMS_2019_ONLY = {3, 7}                           # 其他对外管理服务事项, 政府集中采购


def _clause_of_item() -> dict[int, str]:
    out = {}
    for blocks in T.AD_TEMPLATES.values():
        for block in blocks:
            for label in block.items:
                for n, item in enumerate(T.AD_ITEMS):
                    if label in (item[1], item[2]):
                        out[n] = block.clause
    return out


_CLAUSE_OF_ITEM = _clause_of_item()
_COLUMN_LABELS = tuple(dict.fromkeys(clean_label(c) for c in T.AD_COLUMNS.values()))
_COLUMN_CANDIDATES = tuple((c,) for c in _COLUMN_LABELS)
_COLUMN_OF_CLEAN = {clean_label(c): c for c in T.AD_COLUMNS.values()}


@lru_cache(maxsize=65536)
def item_of(key: str) -> int | None:
    """Template row index of a printed row label, or None."""
    cleaned = clean_label(key)
    if not cleaned or len(cleaned) > 40:
        return None
    return best_match(cleaned, _ITEM_LABELS)


@lru_cache(maxsize=65536)
def column_of(key: str) -> str | None:
    """Official column label a printed header stands for, or None when unclear."""
    cleaned = clean_label(key)
    if not cleaned:
        return None
    n = best_match(cleaned, _COLUMN_CANDIDATES, min_score=0.75)
    return None if n is None else _COLUMN_OF_CLEAN[_COLUMN_LABELS[n]]


def segment_columns(joined: str) -> list[str] | None:
    """Header text of one block run together ('本年新制作数量本年新公开数量对外公开总数量') → its columns."""
    out, rest = [], clean_label(joined)
    while rest:
        hits = [c for c in _COLUMN_LABELS if rest.startswith(c)]
        if not hits:
            return None
        longest = max(hits, key=len)
        out.append(_COLUMN_OF_CLEAN[longest])
        rest = rest[len(longest):]
    return out or None


@dataclass
class _Row:
    label: str
    item: int | None
    label_cell: Cell
    values: list[Cell] = field(default_factory=list)
    digits: str | None = None           # values printed against the label without separators


@dataclass
class _Block:
    clause: str | None
    headers: list[Cell] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    glued_header: str = ""              # header text printed after 信息内容 in the same cell


@lru_cache(maxsize=65536)
def _is_prose(key: str) -> bool:
    cleaned = clean_label(key)
    return "。" in cleaned or len(cleaned) > 60 and not cleaned.isdigit()


@lru_cache(maxsize=65536)
def _ends_table(key: str) -> bool:
    return bool(_APPS_START.search(key) or HEADING.match(key) or _is_prose(key))


def find_start(cells: list[Cell]) -> int | None:
    for i, c in enumerate(cells):
        if c.kind != TEXT:
            continue
        if _CLAUSE.match(c.key) and len(c.key) < 30:
            return i
        if c.key.startswith(_HEADER_OPEN) and (
                segment_columns(c.key[len(_HEADER_OPEN):]) or any(
                    x.kind == TEXT and column_of(x.key) for x in cells[i + 1:i + 4])):
            return i
    return None


def _walk(cells: list[Cell], start: int) -> tuple[list[_Block], int]:
    """Pass 1: cells → blocks; returns the blocks and the index just past the table."""
    blocks: list[_Block] = []
    block: _Block | None = None
    in_header = False
    i, end = start, start
    while i < len(cells):
        c = cells[i]
        if c.kind != TEXT:
            i += 1                      # empty grid cells between header rows; stray values are kept out
            continue
        m = _CLAUSE.match(c.key)
        if m and len(c.key) < 30:
            block = _Block(T.clause_label(m.group(1)))
            blocks.append(block)
            in_header = True
            end = i = i + 1
            continue
        if c.key.startswith(_HEADER_OPEN):
            if block is None or block.rows:
                block = _Block(None)
                blocks.append(block)
            block.glued_header += c.key[len(_HEADER_OPEN):]
            in_header = True
            end = i = i + 1
            continue
        if _ends_table(c.key) or block is None:
            break
        # a row label, possibly printed over several cells, possibly with its values glued to it
        j = i
        while j < len(cells) and cells[j].kind == TEXT and not _CLAUSE.match(cells[j].key) \
                and not cells[j].key.startswith(_HEADER_OPEN) and not _ends_table(cells[j].key):
            j += 1
        texts = cells[i:j]
        labels = _group_labels(texts)
        if in_header:
            first_row = next((n for n, (_, item, _) in enumerate(labels) if item is not None), None)
            if first_row is None:
                block.headers += texts
                end = i = j
                continue
            for _, _, label_cells in labels[:first_row]:
                block.headers += label_cells
            labels = labels[first_row:]
            in_header = False
        if len(labels) > 4 and all(item is None for _, item, _ in labels):
            break                       # text, not rows: the table has ended
        k = j
        while k < len(cells) and cells[k].kind in (NUM, BLANK):
            k += 1
        for n, (label, item, label_cells) in enumerate(labels):
            row = _Row(label, item, label_cells[-1])
            glued = split_glued(label)
            if glued and (item_of(glued[0]) is not None):
                row.label, row.item, row.digits = glued[0], item_of(glued[0]), glued[1]
            if n == len(labels) - 1:
                row.values = cells[j:k]
            block.rows.append(row)
        end = i = k
    return blocks, end


def _group_labels(texts: list[Cell]) -> list[tuple[str, int | None, list[Cell]]]:
    """Consecutive text cells → row labels: a cell naming a template row starts a new label; other cells
    continue the label before them (a label broken over lines)."""
    out: list[tuple[str, int | None, list[Cell]]] = []
    for c in texts:
        item = item_of(c.key)
        if item is None and split_glued(c.key):
            item = item_of(split_glued(c.key)[0])
        if item is not None or not out:
            out.append((c.key, item, [c]))
        else:
            label, prev_item, cs = out[-1]
            joined = label + c.key
            out[-1] = (joined, prev_item if prev_item is not None else item_of(joined), cs + [c])
    return out


def _row_count(row: _Row) -> int:
    if row.digits is not None:
        return -1
    return sum(1 for c in row.values if c.kind == NUM or (c.kind == BLANK and (c.piped or c.text)))


def _count_votes() -> dict[tuple[str, int], tuple[str, ...]]:
    """(clause, values in a row) → the layouts whose blocks of that clause have that many columns and the
    other layout's have not."""
    votes: dict[tuple[str, int], tuple[str, ...]] = {}
    for layout, template in T.AD_TEMPLATES.items():
        for clause in {b.clause for b in template}:
            sizes = {len(b.columns) for b in template if b.clause == clause}
            other = {len(b.columns) for lay, tb in T.AD_TEMPLATES.items() if lay != layout for b in tb
                     if b.clause == clause}
            for count in sizes - other:
                votes[(clause, count)] = votes.get((clause, count), ()) + (layout,)
    return votes


_COUNT_VOTES = _count_votes()


def _layout(blocks: list[_Block]) -> str | None:
    """2019 or 2021, from the evidence the whole table gives; None when it gives none."""
    votes = {"2019": 0, "2021": 0}
    for block in blocks:
        columns = [column_of(h.key) for h in block.headers] + (segment_columns(block.glued_header) or [])
        for column in columns:
            if column in T.AD_COLUMNS_2019_ONLY:
                votes["2019"] += 3
            elif column in T.AD_COLUMNS_2021_ONLY:
                votes["2021"] += 3
        for row in block.rows:
            if row.item in _ITEMS_2019_ONLY:
                votes["2019"] += 2
            clause = block.clause or _CLAUSE_OF_ITEM.get(row.item)
            count = _row_count(row)
            if count > 0:
                for layout in _COUNT_VOTES.get((clause, count), ()):
                    votes[layout] += 1
    if votes["2019"] == votes["2021"]:
        return None
    return "2019" if votes["2019"] > votes["2021"] else "2021"


def _block_clause(block: _Block) -> str | None:
    if block.clause:
        return block.clause
    clauses = {_CLAUSE_OF_ITEM.get(r.item) for r in block.rows if r.item is not None} - {None}
    return clauses.pop() if len(clauses) == 1 else None


def _columns(block: _Block, clause: str, layout: str | None, warnings: list[str]) -> tuple[list[str], list[int]]:
    """The block's columns (official labels) and, for one-line grid headers, their cell positions."""
    template = next((b for b in T.AD_TEMPLATES[layout] if b.clause == clause), None) if layout else None
    headers = [h for h in block.headers if clean_label(h.key)]
    named = [column_of(h.key) for h in headers]
    if headers and all(named) and len(set(named)) == len(named) and (
            template is None or set(named) <= set(template.columns)):
        positions = [h.pos if h.piped else -1 for h in headers]
        return list(named), positions
    joined = block.glued_header + "".join(h.key for h in headers)
    segmented = segment_columns(joined) if joined else None
    if segmented and len(set(segmented)) == len(segmented) and (
            template is None or set(segmented) <= set(template.columns)):
        return segmented, []
    if template is None:
        return [], []
    counts = {_row_count(r) for r in block.rows if r.digits is None and _row_count(r) > 0}
    if len(headers) == len(template.columns) or (not headers and counts == {len(template.columns)}):
        if headers:
            printed = " / ".join(h.text for h in headers)
            warnings.append(f"active_disclosure: {clause} headers {printed!r} do not name the {layout} template's "
                            f"columns; placed by the template's column order")
        return list(template.columns), [h.pos if h.piped else -1 for h in headers]
    if counts == {len(template.columns)} and joined:
        warnings.append(f"active_disclosure: {clause} headers {joined!r} unclear; every row shows "
                        f"{len(template.columns)} values, placed by the {layout} template's column order")
        return list(template.columns), []
    return [], []


@dataclass
class ActiveRead:
    data: list = field(default_factory=list)
    first_line: int | None = None
    last_line: int | None = None
    warnings: list[str] = field(default_factory=list)
    layout: str | None = None
    unknown: set = field(default_factory=set)


def read_active_disclosure(cells: list[Cell]) -> ActiveRead:
    out = ActiveRead()
    start = find_start(cells)
    if start is None:
        return out
    blocks, end = _walk(cells, start)
    if end > start:
        out.first_line, out.last_line = cells[start].line, cells[end - 1].line
    layout = _layout(blocks)
    out.layout = layout
    for block in blocks:
        clause = _block_clause(block)
        if clause is None:
            if block.rows:
                out.warnings.append(f"active_disclosure: rows {[r.label for r in block.rows]!r} outside any "
                                    f"第二十条 block; skipped")
            continue
        columns, positions = _columns(block, clause, layout, out.warnings)
        for row in block.rows:
            _add_row(out, clause, row, columns, positions, cells)
    return out


def _add_row(out: ActiveRead, clause: str, row: _Row, columns: list[str], positions: list[int],
             cells: list[Cell]) -> None:
    if row.item == _OTHER_ITEM:
        return                          # no template has it: not a statutory figure
    label = row.label
    if row.item is None:
        out.warnings.append(f"active_disclosure: unrecognised row label {label!r} kept as printed")
    if not columns:
        out.warnings.append(f"active_disclosure: {clause} has no recognised column headers; row {label!r} left out")
        return
    ncols = len(columns)
    if row.digits is not None:
        values = split_digit_run(row.digits, ncols)
        if values is None:
            out.warnings.append(f"active_disclosure: {clause} {label}: digits {row.digits!r} run together for "
                                f"{ncols} columns; values left null")
            values = [None] * ncols
    elif not row.values:
        out.warnings.append(f"active_disclosure: {clause} {label}: row shows no values; left null")
        values = [None] * ncols
    else:
        placed = row_cells(cells, row.label_cell, row.values, ncols, positions or None)
        values, problem = place_values(placed, ncols)
        if problem:
            out.warnings.append(f"active_disclosure: {clause} {label}: {problem}; values left null")
            values = [None] * ncols
        else:
            dashes = [c.text for c in placed if c.kind == BLANK and c.text]
            if dashes:
                out.warnings.append(f"active_disclosure: {clause} {label}: cells printed as {dashes!r} left null")
    for column, value in zip(columns, values):
        out.data.append({"clause": clause, "item": label, "column": column, "value": value, "_item_index": row.item})


def finish_active_disclosure(rows: list[dict], fmt: str) -> list[dict]:
    """Row labels normalised to the official wording of the detected format's template."""
    use_2019 = fmt == "2019"
    for row in rows:
        index = row.pop("_item_index", None)
        if index is not None:
            row["item"] = T.AD_ITEMS[index][2 if use_2019 else 1]
    return rows
