"""Report attachments (PDF, DOCX, XLSX/XLS, DOC/WPS/RTF, images; OFD in gikcrawl.ofd) → parser input lines.

``extract(data)`` returns :class:`Extracted`; its ``lines`` feed ``parser.parse_document(lines, lines, [])``
like the HTML path's: prose as text lines, each table row as one pipe row "| a | b | c |" holding the row's
OWN cells (cells covered by a row/column span are dropped, a blank cell stays ""), in reading order.

- PDF: pdfplumber; ruled tables from ``find_tables()`` (None = covered cell); prose from the words outside
  the table boxes, wrapped lines re-joined. Pages without a text layer, or whose text is mostly (cid:N)
  glyph codes without a Unicode map, are OCRed (carrier "pdf-ocr").
- DOCX: body order (w:p, w:tbl); merges resolved from w:gridSpan / w:vMerge / w:hMerge.
- XLSX (openpyxl), XLS (xlrd 2, formatting_info for merged ranges): a row runs from its first to its last
  existing (valued or styled) cell; merged ranges keep their top-left cell; one-cell rows are text lines.
- DOC / WPS / RTF: LibreOffice headless → DOCX → the DOCX path; catdoc plain text if LibreOffice is missing.
- Images: tesseract (chi_sim). Ruled tables are rebuilt from their ruling lines (grid and spans); every
  cell's ink is cropped and all crops are read in one tesseract call as a stacked column; cells read as digit
  look-alikes are read again as digits (what neither read settles a third time 1.5x larger, then alone; a cell
  still in doubt is left unread: its row null); a label within 1-2 characters of exactly one template label is
  snapped to it. Text outside tables goes by tesseract's lines; unruled rows are split into cells at wide
  gaps. OCR output always carries a warning and the mean word confidence.

Which carrier a file is, and which function here reads it, is gikcrawl.carriers' table.
Every failure is a :class:`DocumentError` with a one-line reason; no library exception escapes.
"""
from __future__ import annotations

import atexit
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
import warnings
import zipfile
from bisect import bisect_right
from dataclasses import dataclass, field

MAX_BYTES = 150 << 20          # input size
ZIP_MAX_TOTAL = 200 << 20      # declared uncompressed size of an OOXML package (zipfile never inflates more)
ZIP_MAX_RATIO = 100            # ... and its compression ratio, above ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 20 << 20
ZIP_MAX_MEMBERS = 10000
MAX_PIXELS = 80_000_000        # per image or OCR page
MAX_CELLS = 500_000            # spreadsheet cells read
OCR_LANG = "chi_sim+eng"       # text outside tables
OCR_CELL_LANG = "chi_sim"      # table cells (chi_sim alone reads （二） and 禁止 better than +eng)
OCR_CELL_PX = 30               # table cells are scaled so that digits are ~30 px tall before OCR
OCR_CONFIG = "--psm 6"
OCR_DIGITS = "-c tessedit_char_whitelist=0123456789.+-%"
OCR_DPI = 200
OCR_AGAIN_SCALE = 1.5          # figure cells the first two reads leave open: read again this much larger ...
OCR_AGAIN_CONF = 80            # ... and taken at this confidence
OCR_ALONE_MAX = 8              # cells still open after that, read alone (two calls each), at most this many a page
ADAPT_C = 22                   # ink: this much darker than the local mean ...
INK_ABS = 110                  # ... or darker than this
OVERSHOOT = 1.0                # a vertical run may go on past the last ruling it crosses by this many minimum runs
THIN_LINE_AT = 0.72            # a horizontal cell border is ruled where a thin line lies along this much of it
INK_FAINT = 200                # a cell's ink: its strokes' pixels lighter than this, where they have dark ones
MERGE_BELOW = 0.3              # two grid cells are one where rulings cover less than this of their border
                               # (a faint ruling of a grainy scan is found in pieces; a merged cell has none)
APT_OCR = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
APT_OFFICE = "apt-get install libreoffice-writer-nogui"


@dataclass
class Extracted:
    lines: list[str]          # text lines; tables as pipe rows of each row's own cells
    carrier: str              # "pdf" | "docx" | "xlsx" | "xls" | "doc" | "wps" | "rtf" | "image" | "pdf-ocr" | "ofd"
    warnings: list[str]
    ocr_confidence: float | None = None   # 0-100 mean word confidence when OCR was used
    pages: int | None = None


class DocumentError(Exception):
    """One-line reason: encrypted, password-protected, corrupt, too large, zip bomb, unsupported, timeout."""


# --- sniffing: gikcrawl.carriers (re-exported: callers and tests read them here) ---------------------

from .carriers import OLE as _OLE, sniff  # noqa: E402,F401


# --- entry point -----------------------------------------------------------------------------------

@dataclass
class _Ctx:
    max_pages: int
    ocr: bool
    deadline: float
    timeout: float
    warnings: list = field(default_factory=list)
    confs: list = field(default_factory=list)
    disputed: int = 0         # OCR figures the text and digits-only passes read differently

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DocumentError(f"timeout: extraction took longer than {self.timeout:g} s")
        return left


def extract(data: bytes, carrier: str | None = None, *, filename: str = "", max_pages: int = 200,
            ocr: bool = True, timeout: float = 300) -> Extracted:
    carrier = carrier or sniff(data, filename)
    if carrier is None:
        raise DocumentError("unsupported: not a PDF, Office, RTF, OFD or image file")
    if len(data) > MAX_BYTES:
        raise DocumentError(f"too large: {len(data) >> 20} MB (limit {MAX_BYTES >> 20} MB)")
    from .carriers import get
    handler = getattr(get(carrier), "extractor", None)
    if handler is None:
        raise DocumentError(f"unsupported: carrier {carrier!r}")
    ctx = _Ctx(max_pages, ocr, time.monotonic() + timeout, timeout)
    try:
        lines, carrier, pages = handler(data, ctx, carrier)
    except DocumentError:
        raise
    except Exception as e:          # noqa: BLE001 - every library error becomes a one-line reason
        detail = (str(e).strip().splitlines() or [""])[0][:160]
        raise DocumentError(f"corrupt {carrier.upper()}: {type(e).__name__}{': ' + detail if detail else ''}") \
            from None
    conf = round(sum(ctx.confs) / len(ctx.confs), 1) if ctx.confs else None
    if ctx.disputed:
        ctx.warnings.append(f"OCR: {ctx.disputed} table figures read differently by the text and the digits-only "
                            f"pass; kept the read that fits the ink's width, else the more confident")
    if get(carrier).image or ctx.confs:
        ctx.warnings.append(f"OCR: mean word confidence {conf or 0:.0f}%; figures from OCR need checking")
    lines = [x if x.startswith("| ") and x.endswith(" |") else _clean(x) for x in lines]   # pipe rows: clean cells
    return Extracted([x for x in lines if x], carrier, ctx.warnings, conf, pages)


_WS = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])")


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _join(parts) -> str:
    """Pieces of one cell or paragraph: CJK and digits join directly, Latin words with a space."""
    out = ""
    for p in map(_clean, parts):
        if p:
            latin = out and out[-1].isascii() and p[0].isascii() and (out[-1].isalpha() or p[0].isalpha())
            out += (" " if latin else "") + p
    return out


def _pipe(cells) -> str:
    return "| " + " | ".join(_clean(c).replace("|", "/") for c in cells) + " |"


def _rows_to_lines(rows) -> list[str]:
    return [_pipe(r) for r in rows if any(_clean(c) for c in r)]


def _flow(items) -> list:
    """items: (top, text, x0, x1, size) prose lines or (top, pipe row, None, None, 0), in any order →
    lines in reading order, a prose line that ran to the right margin joined with the next unless that
    one is indented or a heading."""
    prose = [it for it in items if it[2] is not None]
    left, right = min((it[2] for it in prose), default=0), max((it[3] for it in prose), default=0)
    out, full = [], False
    for _top, text, x0, x1, size in sorted(items, key=lambda it: (it[0], it[2] is not None)):
        if x0 is not None and full and x0 < left + 1.5 * size and not _HEADING.match(text.strip()):
            out[-1] = _join([out[-1], text])
        else:
            out.append(text)
        full = x0 is not None and x1 >= right - 1.5 * size
    return out


# --- PDF -------------------------------------------------------------------------------------------

def _pdf(data: bytes, c: _Ctx, carrier: str):
    import logging

    import pdfplumber
    logging.getLogger("pdfminer").setLevel(logging.ERROR)     # per-glyph font warnings of office PDFs
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        n = len(pdf.pages)
    except Exception as e:       # noqa: BLE001
        while e is not None:
            if isinstance(e, (PDFPasswordIncorrect, PDFEncryptionError)):
                raise DocumentError("encrypted PDF (password-protected)") from None
            e = e.__cause__ or e.__context__
        raise
    pages, ocred = [], 0
    with pdf:
        if n > c.max_pages:
            c.warnings.append(f"PDF has {n} pages; only the first {c.max_pages} were read")
        for i in range(min(n, c.max_pages)):
            c.remaining()
            page = pdf.pages[i]
            cids = sum(ch["text"].startswith("(cid:") for ch in page.chars)
            if cids > len(page.chars) / 3:      # glyph codes without a Unicode map: as good as no text
                c.warnings.append(f"page {i + 1}: text layer unreadable ({cids} glyphs without Unicode)")
            if (len(page.chars) < 5 and page.images) or cids > len(page.chars) / 3:
                if c.ocr:
                    img, dpi = _page_image(page)
                    items, width = _ocr_items(img, c, dpi)
                    pages.append(_PageItems(items, width))
                    ocred += 1
                else:
                    c.warnings.append(f"page {i + 1}: no readable text layer (scanned?) and OCR is off")
            else:
                pages.append(_pdf_page(page, first=not pages))
            page.close()
    if ocred:
        c.warnings.append(f"{ocred} of {min(n, c.max_pages)} PDF pages have no readable text layer and were OCRed")
    return _stitch(pages), "pdf-ocr" if ocred else "pdf", n


@dataclass
class _Table:
    """A ruled table on one page: its box, column boundaries and rows of cells (None: covered by a span)."""
    bbox: tuple
    xs: list[float]
    rows: list[list]


@dataclass
class _PageItems:
    items: list                 # (top, text, x0, x1, size) prose lines; (top, _Table, None, None, 0) tables
    width: float


_PAGE_NUMBER = re.compile(r"^(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[，,/]?\s*共\s*\d{1,3}\s*页)?|"
                          r"\d{1,3}\s*/\s*\d{1,3}|\d{1,3}|Page \d+(?: of \d+)?)$", re.IGNORECASE)
_TITLE_WORDS = re.compile(r"年度报告|年报")
_TITLE_YEAR = re.compile(r"(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4}")


def _pdf_page(page, first: bool = False) -> _PageItems:
    tables = [t for t in page.find_tables() if max(len(r.cells) for r in t.rows) >= 2]
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    prose = page.filter(outside) if boxes else page
    items = [(tl["top"], tl["text"], tl["x0"], tl["x1"], max(tl["bottom"] - tl["top"], 4))
             for tl in prose.extract_text_lines(return_chars=False) if tl["text"].strip()]
    items = [it for it in items if not _PAGE_NUMBER.match(it[1].strip())]    # page numbers are no text
    for t in tables:
        xs = sorted({round(x, 0) for cell in t.cells for x in (cell[0], cell[2])})
        rows = [[None if cell is None else _join(cell.split("\n")) for cell in row] for row in t.extract()]
        items.append((t.bbox[1], _Table(t.bbox, xs, rows), None, None, 0))
    if tables:
        items = _open_row(page, items, last=True)
    if first:
        items = _title_block(items, page.width)
    elif tables:
        items = _open_row(page, items, last=False)
    return _PageItems(items, page.width)


def _open_row(page, items: list, last: bool) -> list:
    """A table cut by a page break whose row at the cut lost its ruling (Chromium draws a collapsed border
    once, on one of the two pages): the text right below the page's last table (last=True) or right above
    its first one, within its columns and with nothing beyond it, is that row, cut into cells at the
    table's column boundaries."""
    tabs = [it for it in items if it[2] is None and isinstance(it[1], _Table)]
    edge = (max if last else min)(tabs, key=lambda it: it[0])
    t: _Table = edge[1]
    y0, y1 = (t.bbox[3], page.height) if last else (0, t.bbox[1])
    near = [it for it in items if it[2] is not None and y0 <= it[0] + (0 if last else it[4]) <= y1 + 0.5]
    if not near or len(near) > 4 or any(it[2] < t.xs[0] - 2 or it[3] > t.xs[-1] + 2 for it in near):
        return items
    gap = (min(it[0] for it in near) - y0) if last else (y1 - max(it[0] + it[4] for it in near))
    if gap > 2.5 * max(it[4] for it in near):
        return items
    top, bottom = (y0 - 0.5, max(it[0] + it[4] for it in near) + 1) if last else (min(it[0] for it in near) - 1, y1 + 0.5)
    words = page.crop((t.xs[0], top, t.xs[-1], bottom)).extract_words()
    cells = [[] for _ in t.xs[:-1]]
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        j = bisect_right(t.xs, (w["x0"] + w["x1"]) / 2) - 1
        cells[min(max(j, 0), len(cells) - 1)].append(w["text"])
    row = [_join(c) for c in cells]
    if sum(bool(c) for c in row) < 2 or not any(_CLEAN_NUMBER.match(c) for c in row):
        return items
    if last:
        t.rows.append(row)
    else:
        t.rows.insert(0, row)
    return [it for it in items if not any(it is x for x in near)]


def _title_block(items: list, width: float) -> list:
    """The title among the first lines of the first page: the line with 年度报告/年报 and a year, with the
    lines it was wrapped onto (same size, same alignment, close together) joined to it, and cut from a
    paragraph it was run into. It stands as its own line, never joined with what follows."""
    prose = sorted((it for it in items if it[2] is not None), key=lambda it: it[0])[:8]
    tables_top = min((it[0] for it in items if it[2] is None), default=float("inf"))
    prose = [it for it in prose if it[0] < tables_top]
    if not prose:
        return items
    body = sorted(it[4] for it in prose)[len(prose) // 2]

    def centred(it) -> bool:
        return abs((it[2] + it[3]) / 2 - width / 2) < 2 * it[4] and it[2] > width * 0.15

    def alike(a, b) -> bool:
        return (abs(a[4] - b[4]) <= 0.15 * max(a[4], b[4]) and centred(a) == centred(b)
                and b[0] - a[0] <= 2.2 * max(a[4], b[4]))

    def holds(k: int) -> bool:        # the title words, or the words cut by a wrap onto the next line
        nxt = prose[k + 1][1] if k + 1 < len(prose) else ""
        return bool(_TITLE_WORDS.search(prose[k][1]) or (not _TITLE_WORDS.search(nxt)
                                                         and _TITLE_WORDS.search(prose[k][1] + nxt)))

    found = [k for k in range(len(prose)) if holds(k)]
    for k in sorted(found, key=lambda k: -prose[k][4])[:1]:     # the largest type among them
        it = prose[k]
        lo = k
        while lo > 0 and k - lo < 2 and alike(prose[lo - 1], prose[lo]) and (centred(it) or it[4] > body * 1.15):
            lo -= 1
        hi = k
        while hi + 1 < len(prose) and hi - lo < 2 and alike(prose[hi], prose[hi + 1]) and \
                not _TITLE_WORDS.search(" ".join(x[1] for x in prose[lo:hi + 1])):
            hi += 1
        block = prose[lo:hi + 1]
        text = _join(x[1] for x in block)
        m = _TITLE_WORDS.search(text)
        if not m or not _TITLE_YEAR.search(text[:m.end()]):
            return items
        rest = ""
        if not (centred(it) or it[4] > body * 1.15):          # run into a paragraph: cut after 年度报告
            paren = re.match(r"[（(][^）)]{1,12}[）)]", text[m.end():])
            cut = m.end() + (paren.end() if paren else 0)
            text, rest = text[:cut], text[cut:]
        top, last = block[0][0], block[-1]
        out = [x for x in items if x not in block]
        out.append((top, text, block[0][2], block[0][2], last[4]))       # x1 = x0: never joined onto
        if rest.strip():
            out.append((last[0] + 1e-3, rest, last[2], last[3], last[4]))
        return out
    return items


def _stitch(pages: list[_PageItems]) -> list[str]:
    """Pages → lines. A table that ends a page and a table that starts the next one with the same outer
    columns are one table: a header row repeated on the new page is dropped, a row split by the break is
    joined cell by cell, and a lone row (one-row table) on the next page belongs to the table above."""
    out: list[str] = []
    prev: _Table | None = None          # the table that ended the previous page
    for page in pages:
        tol = page.width * 0.006
        items = sorted(page.items, key=lambda it: (it[0], it[2] is not None))
        flowed: list = []
        for n, it in enumerate(items):
            t = it[1]
            if isinstance(t, _Table):
                if n == 0 and prev is not None and _continues(prev, t, tol):
                    rows = t.rows
                    if rows and prev.rows and rows[0] == prev.rows[0] and len(prev.rows) > 1:
                        rows = rows[1:]                        # a repeated header row
                    if rows and prev.rows and _split_row(prev.rows[-1], rows[0]):
                        prev.rows[-1] = [None if a is None else _join([a, b]) for a, b in zip(prev.rows[-1], rows[0])]
                        rows = rows[1:]
                    prev.rows += rows
                    continue
                if len(t.rows) < 2:
                    continue                 # a one-row box that continues nothing: decoration, not a table
            flowed.append(it)
        last = items[-1][1] if items else None
        out += _flow(flowed)
        if not isinstance(last, _Table):
            prev = None
        elif any(it[1] is last for it in flowed):
            prev = last
        # else: the page's last table was merged into prev (a table over three pages), which goes on
    return [line for x in out for line in (_rows_to_lines(_own(x.rows)) if isinstance(x, _Table) else [x])]


def _own(rows) -> list[list[str]]:
    return [[cell for cell in row if cell is not None] for row in rows]


def _continues(prev: _Table, t: _Table, tol: float = 3) -> bool:
    """Same outer edges, and each column boundary of the one is a boundary of the other."""
    if abs(prev.xs[0] - t.xs[0]) > tol or abs(prev.xs[-1] - t.xs[-1]) > tol:
        return False
    small, big = sorted((prev.xs, t.xs), key=len)
    return all(any(abs(x - y) <= tol for y in big) for x in small)


def _split_row(a: list, b: list) -> bool:
    """b is the rest of row a cut by a page break: same cells, and b has nothing where a row of its own
    would start (its first own cell is empty) while no column holds a figure in both parts."""
    if len(a) != len(b) or [x is None for x in a] != [x is None for x in b]:
        return False
    own = [(x, y) for x, y in zip(a, b) if x is not None]
    if not own or own[0][1]:
        return False
    return not any(x and y and _CLEAN_NUMBER.match(x) and _CLEAN_NUMBER.match(y) for x, y in own)


# --- OOXML -----------------------------------------------------------------------------------------

def _zip_guard(data: bytes) -> None:
    if data[:8] == _OLE:
        raise DocumentError("encrypted Office document (password-protected)")
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise DocumentError(f"corrupt: not a valid zip package ({e})") from None
    total, packed = sum(i.file_size for i in infos), max(1, sum(i.compress_size for i in infos))
    if len(infos) > ZIP_MAX_MEMBERS:
        raise DocumentError(f"zip bomb: {len(infos)} members (limit {ZIP_MAX_MEMBERS})")
    if total > ZIP_MAX_TOTAL or (total > ZIP_RATIO_FROM and total / packed > ZIP_MAX_RATIO):
        raise DocumentError(f"zip bomb: {total >> 20} MB uncompressed from {packed >> 10} KB "
                            f"(ratio {total // packed}:1)")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _para_lines(p) -> list[str]:
    parts = [""]
    for el in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if el.tag == W + "t":
            parts[-1] += el.text or ""
        elif el.tag == W + "tab":
            parts[-1] += " "
        else:
            parts.append("")
    return parts


def _docx_body(el, out: list[str]) -> None:
    for child in el.iterchildren():
        if child.tag == W + "p":
            out += _para_lines(child)
        elif child.tag == W + "tbl":
            rows = []
            for tr in child.iterchildren(W + "tr"):
                own = []
                for tc in tr.iter(W + "tc"):
                    if tc.getparent() is not tr and tc.getparent().tag != W + "sdtContent":
                        continue                       # a nested table's cell
                    pr = tc.find(W + "tcPr")
                    merges = [pr.find(W + "vMerge"), pr.find(W + "hMerge")] if pr is not None else []
                    if any(m is not None and m.get(W + "val", "continue") != "restart" for m in merges):
                        continue                       # covered by the cell above / to the left
                    own.append(_join("".join(_para_lines(p)) for p in tc.iter(W + "p")))
                rows.append(own)
            out += _rows_to_lines(rows)
        elif child.tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag"):
            _docx_body(child, out)


def _docx(data: bytes, c: _Ctx, carrier: str = "docx"):
    _zip_guard(data)
    import docx

    from .carriers import by_extension, is_image
    lines: list[str] = []
    _docx_body(docx.Document(io.BytesIO(data)).element.body, lines)
    if sum(len(x.strip()) for x in lines) < 50 and c.ocr:     # a scan pasted into Word
        z = zipfile.ZipFile(io.BytesIO(data))
        for name in sorted(n for n in z.namelist() if n.startswith("word/media/") and
                           is_image(getattr(by_extension(n), "name", None)))[:c.max_pages]:
            lines += _image(z.read(name), c, "image")[0]
    return lines, carrier, None


# --- spreadsheets ----------------------------------------------------------------------------------

def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else ("%.10f" % v).rstrip("0").rstrip(".")
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("T00:00:00", "")
    return str(v)


def _sheet_lines(cells: dict, merged) -> list[str]:
    """cells: {(row, col): text} of the existing cells; merged: inclusive (r0, c0, r1, c1) ranges."""
    covered = {(r, col) for r0, c0, r1, c1 in merged if (r1 - r0 + 1) * (c1 - c0 + 1) < MAX_CELLS
               for r in range(r0, r1 + 1) for col in range(c0, c1 + 1) if (r, col) != (r0, c0)}
    rows: dict[int, list[int]] = {}
    for r, col in cells:
        rows.setdefault(r, []).append(col)
    out = []
    for r in sorted(rows):
        own = [cells.get((r, col), "") for col in range(min(rows[r]), max(rows[r]) + 1) if (r, col) not in covered]
        out += [own[0]] if len(own) == 1 else _rows_to_lines([own])
    return out


def _xlsx(data: bytes, c: _Ctx, carrier: str):
    _zip_guard(data)
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    lines, seen = [], 0
    for ws in wb.worksheets[:c.max_pages]:
        c.remaining()
        cells = {k: _fmt(cell.value) for k, cell in ws._cells.items()      # the cells with a value or a style
                 if type(cell).__name__ != "MergedCell" and (cell.value is not None or cell.has_style)}
        seen += len(cells)
        if seen > MAX_CELLS:
            raise DocumentError(f"too large: more than {MAX_CELLS} spreadsheet cells")
        lines += _sheet_lines(cells, [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges])
    return lines, carrier, len(wb.worksheets)


def _xls(data: bytes, c: _Ctx, carrier: str):
    import xlrd
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    lines, seen = [], 0
    for i in range(min(book.nsheets, c.max_pages)):
        c.remaining()
        sh, cells = book.sheet_by_index(i), {}
        seen += sum(sh.row_len(r) for r in range(sh.nrows))
        if seen > MAX_CELLS:
            raise DocumentError(f"too large: more than {MAX_CELLS} spreadsheet cells")
        for r in range(sh.nrows):
            for col, cell in enumerate(sh.row(r)):
                if cell.ctype != xlrd.XL_CELL_EMPTY:         # XL_CELL_BLANK: styled, exists
                    v = {xlrd.XL_CELL_DATE: lambda x: xlrd.xldate.xldate_as_datetime(x, book.datemode),
                         xlrd.XL_CELL_ERROR: lambda x: None, xlrd.XL_CELL_BOOLEAN: bool}.get(cell.ctype, None)
                    cells[r, col] = _fmt(v(cell.value) if v else cell.value)
        lines += _sheet_lines(cells, [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sh.merged_cells])
        book.unload_sheet(i)
    return lines, carrier, book.nsheets


# --- DOC / WPS / RTF -------------------------------------------------------------------------------

_LO_LOCK = threading.Lock()
_LO_PROFILE: list[str] = []


def _office(data: bytes, c: _Ctx, carrier: str):
    """LibreOffice headless → DOCX, one conversion at a time per process, with a private profile that is
    built by the first conversion (~2.5 s) and reused (~1.2 s a document)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        return _catdoc(data, c, carrier)
    with _LO_LOCK, tempfile.TemporaryDirectory(prefix="gikcrawl-doc-") as tmp:
        if not _LO_PROFILE:
            _LO_PROFILE.append(tempfile.mkdtemp(prefix="gikcrawl-lo-"))
            atexit.register(shutil.rmtree, _LO_PROFILE[0], True)
        src = os.path.join(tmp, "in." + ("rtf" if carrier == "rtf" else "doc"))
        with open(src, "wb") as f:
            f.write(data)
        proc = subprocess.Popen([exe, f"-env:UserInstallation=file://{_LO_PROFILE[0]}", "--headless", "--norestore",
                                 "--nologo", "--nolockcheck", "--convert-to", "docx:MS Word 2007 XML",
                                 "--outdir", tmp, src], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=c.remaining())
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise DocumentError(f"timeout: LibreOffice conversion took longer than {c.timeout:g} s") from None
        out = os.path.join(tmp, "in.docx")
        if not os.path.exists(out):
            raise DocumentError(f"corrupt {carrier.upper()}: LibreOffice could not convert it "
                                f"(damaged or password-protected)")
        with open(out, "rb") as f:
            converted = f.read()
    return _docx(converted, c, carrier)


def _catdoc(data: bytes, c: _Ctx, carrier: str):
    exe = shutil.which("catdoc")
    if not exe:
        raise DocumentError(f"unsupported: {carrier.upper()} needs LibreOffice ({APT_OFFICE}) or catdoc")
    try:
        res = subprocess.run([exe, "-w", "-d", "utf-8", "-"], input=data, capture_output=True, timeout=c.remaining())
    except subprocess.TimeoutExpired:
        raise DocumentError(f"timeout: catdoc took longer than {c.timeout:g} s") from None
    text = res.stdout.decode("utf-8", "replace")
    if res.returncode or not text.strip():
        raise DocumentError(f"corrupt {carrier.upper()}: catdoc could not read it")
    c.warnings.append(f"{carrier.upper()} read with catdoc, LibreOffice missing ({APT_OFFICE}): table layout "
                      f"approximate, blank cells lost")
    return [_pipe([x for x in line.split("\t") if x.strip()]) if "\t" in line else line
            for line in text.splitlines()], carrier, None


# --- images: ruled-table geometry ------------------------------------------------------------------

def _image(data: bytes, c: _Ctx, carrier: str):
    if not c.ocr:
        raise DocumentError("unsupported: an image report needs OCR (ocr=False)")
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise DocumentError(f"decompression bomb: {e}") from None
    frames = getattr(img, "n_frames", 1)
    if frames > c.max_pages:
        c.warnings.append(f"image has {frames} frames; only the first {c.max_pages} were read")
    lines = []
    for i in range(min(frames, c.max_pages)):
        img.seek(i)
        lines += _ocr(img, c)
    return lines, carrier, frames


def _runs(bw: bytes, w: int, h: int, minlen: int, gap: int = 3) -> list[tuple[int, int, int, int]]:
    """Dark horizontal runs ≥ minlen, merged over adjacent pixel rows: (y, x0, x1, thickness). A run may
    have gaps of up to `gap` px (noise eats pixels of thin rulings) but must be 80 % ink."""
    pat, segs = re.compile(rb"\x01+(?:\x00{1,%d}\x01+)*" % gap), []          # segs: [y0, y1, x0, x1]
    for y in range(h):
        for m in pat.finditer(bw, y * w, (y + 1) * w):
            if m.end() - m.start() < minlen or m.group().count(1) < 0.8 * (m.end() - m.start()):
                continue
            x0, x1 = m.start() - y * w, m.end() - y * w
            s = next((s for s in reversed(segs[-40:]) if y - s[1] <= 1 and x0 < s[3] and x1 > s[2]), None)
            if s:
                s[1], s[2], s[3] = y, min(s[2], x0), max(s[3], x1)
            else:
                segs.append([y, y, x0, x1])
    return [((s[0] + s[1]) // 2, s[2], s[3], s[1] - s[0] + 1) for s in segs if s[1] - s[0] < 12]


def _lone(segs: list, bw, vertical: bool, off: int = 2, most: float = 0.2, both: bool = False) -> list:
    """Runs that stand alone: a ruling has ink beside it (`off` px past its edge) only where another
    ruling crosses it or text touches it; a run of glyph strokes bridged into a line has the glyphs' other
    strokes beside it along much of its length. `both`: only ink on both sides at once counts (a cell's
    text may start right past a vertical ruling, on one side of it)."""
    import numpy as np
    ink = np.asarray(bw).T if vertical else np.asarray(bw)
    n = ink.shape[0]
    out = []
    for p, a, b, th in segs:
        above, below = p - th // 2 - off, p + (th + 1) // 2 + off
        if above < 0 or below >= n:
            out.append((p, a, b, th))
            continue
        beside = (ink[above, a:b] > 0) & (ink[below, a:b] > 0) if both else (ink[above, a:b] > 0) | (ink[below, a:b] > 0)
        if beside.mean() <= most:
            out.append((p, a, b, th))
    return out


def _cluster(values, tol) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _covered(segs, pos, lo, hi, tol, frac: float = 0.6) -> bool:
    """Do the segments at `pos` cover most (frac) of [lo, hi]?"""
    got, end = 0.0, lo
    for a, b in sorted((max(a, lo), min(b, hi)) for p, a, b in segs if abs(p - pos) <= tol and b > lo and a < hi):
        if b > end:
            got, end = got + b - max(a, end), b
    return got >= frac * (hi - lo)


def _thin_line(darker, y: float, x0: float, x1: float, tol: int, off: int = 3) -> bool:
    """A matched filter along a horizontal cell border at y from x0 to x1 (past the crossing rulings): is
    there a thin line? A faint ruling of a grainy low-dpi scan is ink in fewer than 80 % of its pixels, so
    `_runs` finds it in pieces or not at all, and its cell would merge with the next; here every pixel of
    the border only needs to be ADAPT_C darker than around it on the best row within 2 px (and its two
    neighbours), with at least one side `off` px away not (the text of a merged cell crossing the border
    is dark on both sides), and that along THIN_LINE_AT of the border, after a 5-px running median."""
    import numpy as np
    p, a, b = int(round(y)), int(x0) + tol, int(x1) - tol
    if b - a < 8 or p - 2 - off < 0 or p + 2 + off >= darker.shape[0]:
        return False
    band = darker[p - 2 - off:p + 3 + off, a:b].astype(np.int16)          # rows p-2-off .. p+2+off
    r = off + int(np.argmax(band[off:off + 5].mean(axis=1)))           # the best row, within 2 px of y
    line = band[r - 1:r + 2].max(axis=0) > ADAPT_C
    side = np.minimum(band[r - off], band[r + off]) <= ADAPT_C
    thin = (line & side).astype(np.uint8)
    smooth = np.median(np.stack([thin[k:len(thin) - 4 + k] for k in range(5)]), axis=0)
    return bool(smooth.mean() >= THIN_LINE_AT)


def _find(parent: dict, k):
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _tables(gray, tol: int = 6):
    """Ruled tables: [(xs, ys, {(i, j): origin cell of its span})], the rulings, how many are horizontal."""
    from PIL import Image, ImageChops
    import numpy as np
    w, h = gray.size
    darkness = _darkness(gray)                # for the ink, and for _thin_line along cell borders
    bw = _dark(gray, 1, darkness=darkness)
    # each ruling's pixels are spread across the line it belongs to (1 px each way, across the line only:
    # along it would bridge the gaps between characters), which closes the gaps noise and a residual
    # slant cut into thin rulings
    across_h = ImageChops.lighter(ImageChops.offset(bw, 0, 1), ImageChops.offset(bw, 0, -1))
    across_v = ImageChops.lighter(ImageChops.offset(bw, 1, 0), ImageChops.offset(bw, -1, 0))
    hmin, vmin = max(40, w // 30), max(30, h // 90)
    darker = np.asarray(darkness)
    hs = _lone(_runs(ImageChops.lighter(bw, across_h).tobytes(), w, h, hmin), bw, False)
    # a vertical run is a run of glyph strokes only with ink on both sides at once: the text of a narrow
    # cell starts 1-3 px right of its ruling at 150 dpi, along much of the ruling
    vs = _lone(_runs(ImageChops.lighter(bw, across_v).transpose(Image.Transpose.TRANSPOSE).tobytes(), h, w, vmin),
               bw, True, both=True)
    # a cell border starts and ends on horizontal rulings; glyph strokes do not (along the ruling, up to one
    # minimum run: a noisy ruling's end piece may be too short to be a run). Past the last ruling it
    # crosses, a vertical run may go on by up to OVERSHOOT minimum runs (grain bridged by the run's gaps,
    # or the glyph of a merged cell touching its end): it is cut there
    def ends(x, y0, y1):
        cross = [hy for hy, hx0, hx1, _ in hs if hx0 - hmin <= x <= hx1 + hmin and y0 - tol <= hy <= y1 + tol]
        if not cross or min(cross) - y0 > tol + OVERSHOOT * vmin or y1 - max(cross) > tol + OVERSHOOT * vmin:
            return None
        return max(y0, min(cross) - tol), min(y1, max(cross) + tol)
    vs = [(v[0], *e, v[3]) for v in vs if (e := ends(*v[:3])) and e[1] - e[0] >= vmin]
    parent = {k: k for k in range(len(hs) + len(vs))}
    for i, (y, x0, x1, _) in enumerate(hs):
        for j, (x, y0, y1, _) in enumerate(vs):
            if x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol:
                parent[_find(parent, len(hs) + j)] = _find(parent, i)
    groups: dict = {}
    for k in parent:
        groups.setdefault(_find(parent, k), []).append(k)
    out, kept_h, kept_v = [], [], []
    for keys in groups.values():
        gh = [hs[k][:3] for k in keys if k < len(hs)]
        gv = [vs[k - len(hs)][:3] for k in keys if k >= len(hs)]
        ys, xs = _cluster([s[0] for s in gh], tol), _cluster([s[0] for s in gv], tol)
        # a ruling runs from one cell border to another; a glyph stroke (or strokes bridged by the gap
        # tolerance of _runs) starts and ends inside a cell
        ys = [y for y in ys if any(_covered(gh, y, a, b, tol, 0.9) for a, b in zip(xs, xs[1:]))]
        xs = [x for x in xs if any(_covered(gv, x, a, b, tol, 0.9) for a, b in zip(ys, ys[1:]))]
        if len(ys) < 2 or len(xs) < 2:
            continue
        cell = {(i, j): (i, j) for i in range(len(ys) - 1) for j in range(len(xs) - 1)}
        for i, j in list(cell):      # no ruling between two grid cells: one merged cell
            if j + 2 < len(xs) and not _covered(gv, xs[j + 1], ys[i], ys[i + 1], tol, MERGE_BELOW):
                a, b = _find(cell, (i, j)), _find(cell, (i, j + 1))
                cell[max(a, b)] = min(a, b)
            if i + 2 < len(ys) and not _covered(gh, ys[i + 1], xs[j], xs[j + 1], tol, MERGE_BELOW) and not \
                    _thin_line(darker, ys[i + 1], xs[j], xs[j + 1], tol):
                a, b = _find(cell, (i, j)), _find(cell, (i + 1, j))
                cell[max(a, b)] = min(a, b)
        out.append((xs, ys, {k: _find(cell, k) for k in cell}))
        # only the table's own rulings are erased before OCR (a run of bridged glyph strokes is text)
        kept_h += [hs[k] for k in keys if k < len(hs) and any(abs(hs[k][0] - y) <= tol for y in ys)]
        kept_v += [vs[k - len(hs)] for k in keys if k >= len(hs) and any(abs(vs[k - len(hs)][0] - x) <= tol for x in xs)]
    return out, kept_h + kept_v, len(kept_h)


# --- images: OCR -----------------------------------------------------------------------------------

_QUOTES = "\u201c\u201d\"'\u2018\u2019\u00ab\u00bb`"
_NUMBERISH = re.compile(rf"^[{_QUOTES}]*([+\-]?[\dlIO|丨oO][\dlIO|丨oO,.]*(?:万元|件|%)?)[{_QUOTES}.,]*$")
_DIGITLIKE = re.compile(rf"^[\dA-Za-z了丨|工〇口一.,+\-%{_QUOTES}]{{0,6}}$")      # empty, 了 for 7, 工 for 1, 5D22
_CLEAN_NUMBER = re.compile(r"^[+\-]?\d+(\.\d+)?%?$")
_DIGITS = str.maketrans({"l": "1", "I": "1", "|": "1", "丨": "1", "o": "0", "O": "0"})


def _tess(img, c: _Ctx, lang: str = OCR_LANG, config: str = OCR_CONFIG) -> list[tuple]:
    """tesseract words: (text, left, top, width, height, line key, confidence); confidences also to c.confs."""
    import pytesseract
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")    # tesseract's default OpenMP threads oversubscribe: 3x slower
    try:
        d = pytesseract.image_to_data(img, lang=lang, config=config, timeout=c.remaining(),
                                      output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise DocumentError(f"unsupported: OCR needs tesseract ({APT_OCR})") from None
    except (pytesseract.TesseractError, RuntimeError) as e:
        if "language" in str(e).lower():
            raise DocumentError(f"unsupported: OCR needs the chi_sim data ({APT_OCR})") from None
        if "timeout" in str(e).lower():
            raise DocumentError(f"timeout: OCR took longer than {c.timeout:g} s") from None
        raise
    words = [(t.strip(), d["left"][i], d["top"][i], d["width"][i], d["height"][i],
              (d["block_num"][i], d["par_num"][i], d["line_num"][i]), float(d["conf"][i]))
             for i, t in enumerate(d["text"]) if (t or "").strip() and float(d["conf"][i]) >= 0]
    c.confs += [wd[6] for wd in words]
    return words


def _darkness(gray, radius: int = 0):
    """How much darker each pixel is than the mean of its neighbourhood (an image of the same size)."""
    from PIL import ImageChops, ImageFilter
    radius = radius or max(8, min(gray.size) // 120)
    return ImageChops.subtract(gray.filter(ImageFilter.BoxBlur(radius)), gray)


def _dark(gray, on: int = 255, radius: int = 0, darkness=None):
    """Adaptive (local mean) binarisation: a pixel is ink when it is darker than the mean of its
    neighbourhood by ADAPT_C, or darker than INK_ABS outright. Grey rulings (160-200 on white) and
    faint scans pass where a fixed threshold misses them; isolated noise stays too short to be a ruling.
    darkness: `_darkness(gray, radius)` when the caller has it already."""
    from PIL import ImageChops
    diff = _darkness(gray, radius) if darkness is None else darkness
    local = diff.point(lambda v: on if v > ADAPT_C else 0)
    absolute = gray.point(lambda p: on if p < INK_ABS else 0)
    return ImageChops.lighter(local, absolute)


def _deskew(gray, c: _Ctx, max_angle: float = 3.0, step: float = 0.1):
    """A scan put on the glass at a slight angle, turned straight: the angle whose horizontal projection
    of the ink is the sharpest (rulings and text lines each fall on few pixel rows). Rulings drift by
    ~10 px across a page per degree at 150 dpi, which breaks them into pieces too short to be rulings."""
    from PIL import Image, ImageStat
    small = gray.resize((max(1, gray.width // 3), max(1, gray.height // 3)), Image.BOX)
    ink = _dark(small, 255, max(4, min(small.size) // 60))

    def sharpness(angle: float) -> float:
        rows = ink.rotate(angle, resample=Image.NEAREST, fillcolor=0).resize((1, ink.height), Image.BOX)
        return ImageStat.Stat(rows).var[0]

    steps = int(max_angle / step)
    best = max((k * step for k in range(-steps, steps + 1)), key=sharpness)
    if abs(best) < step / 2 or sharpness(best) < sharpness(0.0) * 1.02:
        return gray
    c.warnings.append(f"OCR: page turned {best:+.1f}° to straighten the scan") if not any(
        w.startswith("OCR: page turned") for w in c.warnings) else None
    return gray.rotate(best, resample=Image.BICUBIC, fillcolor=255)


def _ink(img, pad: int = 0, faint: int = 0):
    """Bounding box of the dark pixels (None if blank), grown by pad. `faint`: also the lighter pixels
    (< faint) of each stroke that has dark ones (a denoised 150-dpi 7 has a dark bar and a grey stem)."""
    box = img.point(lambda p: 255 if p < 140 else 0).getbbox()
    if box and faint:
        import cv2
        import numpy as np
        a = np.asarray(img)
        n, labels, stats, _ = cv2.connectedComponentsWithStats((a < faint).astype(np.uint8), connectivity=8)
        keep = np.unique(labels[(a < 140) & (labels > 0)])
        if len(keep):
            s = stats[keep]
            box = (int(s[:, 0].min()), int(s[:, 1].min()), int((s[:, 0] + s[:, 2]).max()), int((s[:, 1] + s[:, 3]).max()))
    return box and (max(0, box[0] - pad), max(0, box[1] - pad), min(img.width, box[2] + pad),
                    min(img.height, box[3] + pad))


def _read_crops(crops, c: _Ctx, lang: str, config: str, scale: float) -> dict:
    """OCR many crops in few calls, stacked one under another: tesseract reads clean single-column lines;
    each word goes to the crop under its centre. → {key: (text, lowest word confidence)}."""
    from PIL import Image
    gap, found, batch = max(20, max(im.height for _, im in crops) // 4), {}, []
    for n, (key, im) in enumerate(crops):
        batch.append((key, im))
        if n + 1 < len(crops) and (sum(b.height + gap for _, b in batch) + crops[n + 1][1].height) * scale < 16000:
            continue
        sheet = Image.new("L", (max(b.width for _, b in batch) + 2 * gap, sum(b.height + gap for _, b in batch) + gap),
                          255)
        starts, y = [], gap
        for _, b in batch:
            sheet.paste(b, (gap, y))
            starts.append(y - gap // 2)
            y += b.height + gap
        if scale != 1:
            sheet = sheet.resize((int(sheet.width * scale), int(sheet.height * scale)), Image.LANCZOS)
        for text, x, top, _, h, line, conf in _tess(sheet, c, lang, config):
            k = batch[max(0, bisect_right(starts, (top + h / 2) / scale) - 1)][0]
            found.setdefault(k, []).append((line, x, text, conf))
        batch = []
    return {k: (_join(wd[2] for wd in sorted(words)), min(wd[3] for wd in words)) for k, words in found.items()}


def _ocr_cells(gray, tables, c: _Ctx, faint: int = 0) -> dict:
    """Every table cell's ink read in one pass (chi_sim); cells read as figures, as nothing, as digit
    look-alikes ("了" for 7) or as one or two unsure characters are read again as digits, and what those
    two reads leave open a third time (see below; "?" where the cell stays in doubt). `faint`: crop each
    cell with the lighter pixels of its strokes (a denoised page). → {(table, origin): text}."""
    from PIL import Image
    crops = []
    for t, (xs, ys, region) in enumerate(tables):
        rects: dict = {}
        for (i, j), origin in region.items():
            r = rects.setdefault(origin, [i, j, i, j])
            r[2], r[3] = max(r[2], i), max(r[3], j)
        for origin, (i0, j0, i1, j1) in rects.items():
            crop = gray.crop((int(xs[j0]) + 4, int(ys[i0]) + 4, int(xs[j1 + 1]) - 4, int(ys[i1 + 1]) - 4))
            box = _ink(crop, 6, faint) if crop.width > 8 and crop.height > 8 else None
            if box:
                crops.append(((t, origin), crop.crop(box)))
    if not crops:
        return {}
    ink = sorted(im.height - 12 for _, im in crops)[len(crops) // 2]       # median glyph height, px
    read = _read_crops(crops, c, OCR_CELL_LANG, OCR_CONFIG, min(4.0, max(1.0, OCR_CELL_PX / max(ink, 1))))

    def digits(k, im) -> int:          # how many digits the ink is wide: a digit is ~0.65 of its height
        return round((im.width - 12) / max(1, 0.65 * (im.height - 12)))

    columns: dict = {}                 # (table, column) → [cells, cells read as figures]
    for k, _ in crops:
        n = columns.setdefault((k[0], k[1][1]), [0, 0])
        n[0], n[1] = n[0] + 1, n[1] + bool(_CLEAN_NUMBER.match(read.get(k, ("", 0))[0]))

    def figures_column(k) -> bool:     # most cells of its column read as figures: it is one (区 for 7)
        total, figures = columns[k[0], k[1][1]]
        return figures * 2 > total and len(read.get(k, ("", 0))[0]) <= 3

    def valueish(k, im) -> bool:       # a figure, or what may be one
        text, conf = read.get(k, ("", 0))
        return (bool(_CLEAN_NUMBER.match(text) or _DIGITLIKE.match(text)) or (len(text) <= 2 and conf < 80)
                or figures_column(k))

    # every figure is read a second time by a digits-only pass, which cannot take a 3 for a 了 or a 5 for a
    # 3 of a Chinese glyph; where the passes disagree, the read whose digit count fits the ink's width wins,
    # else the more confident one
    redo = [(k, im) for k, im in crops if valueish(k, im)]
    disagree, check = 0, {}            # check: key → the reads a third pass may confirm (first, digits)
    for k, v in (_read_crops(redo, c, "eng", f"{OCR_CONFIG} {OCR_DIGITS}", 1).items() if redo else ()):
        text, conf = read.get(k, ("", 0))
        if not _CLEAN_NUMBER.match(v[0]) or v[0] == text:
            continue
        count = digits(k, dict(redo)[k])
        if _CLEAN_NUMBER.match(text):
            disagree += 1
            check[k] = (text, v[0])
            fits, fits_first = len(v[0]) == count, len(text) == count
            if fits_first and not fits or (fits == fits_first and conf >= v[1]):
                continue
        elif _snap(text, c) != text or _key(text) in _LEXICON:
            continue                               # a header label (其他, 总计) in a column of figures
        else:
            first = re.sub(r"\D", "", text.translate(_DIGITS))
            if first and v[0].isdigit() and len(v[0]) != count and len(first) == count:
                v = (first, v[1])
            elif len(v[0]) != count and v[1] < OCR_AGAIN_CONF:
                v = ("?", 0)               # unsure, and too few or too many digits for the ink: unread
            check[k] = (v[0],)
        read[k] = v
    # a third read, digits only and 1.5x larger, of the figures only the digits pass read (the text pass
    # read a glyph: 吕 for 7) and of the cells neither pass read as a figure. A figure it reads otherwise,
    # as sure of it and with as many digits, leaves the cell unread (a wrong figure is worse than none;
    # 1.5x larger it drops a digit of 11 or 33, so a shorter read proves nothing); an unread cell takes its
    # read where the digit count fits the ink's width and tesseract is sure of it (a 7 it reads as 4 or 5
    # comes with confidence 0)
    def open_(k) -> bool:              # read as a glyph: neither a figure nor a label
        text = read.get(k, ("", 0))[0]
        return not _CLEAN_NUMBER.match(text) and _snap(text, c) == text and _key(text) not in _LEXICON

    for k, _ in redo:
        if k not in check and open_(k):
            check[k] = ()
    again = [(k, im) for k, im in redo if k in check and len(check[k]) < 2]
    third = _read_crops(again, c, "eng", f"{OCR_CONFIG} {OCR_DIGITS}", OCR_AGAIN_SCALE) if again else {}
    for k, im in again:
        v = third.get(k, ("", 0))
        sure = _CLEAN_NUMBER.match(v[0]) and v[1] >= OCR_AGAIN_CONF
        if check[k]:
            if sure and v[0] != check[k][0] and len(v[0]) == len(check[k][0]):
                read[k] = ("?", 0)
                disagree += 1
        elif sure and len(v[0]) == digits(k, im):
            read[k] = v
            disagree += 1
    # a cell still open (read as a glyph or as "?" by all of them) is read alone, twice: tesseract reads a
    # digit among the stacked crops by its neighbours' layout, alone as a word (psm 8) and as a raw line
    # (psm 13); both must give the same figure, with as many digits as the ink is wide. At most
    # OCR_ALONE_MAX cells a page (~0.1 s a call)
    alone = [(k, im) for k, im in redo if read.get(k, ("", 0))[0] == "?" or open_(k)]
    for k, im in alone[:OCR_ALONE_MAX]:
        pad = Image.new("L", (im.width + 40, im.height + 40), 255)
        pad.paste(im, (20, 20))
        reads = {"".join(w[0] for w in _tess(pad, c, "eng", f"--psm {psm} {OCR_DIGITS}")) for psm in (8, 13)}
        v = reads.pop() if len(reads) == 1 else ""
        if _CLEAN_NUMBER.match(v) and len(v) == digits(k, im):
            read[k] = (v, 0)
            disagree += 1
    c.disputed += disagree
    out = {}
    for k, (text, _) in read.items():
        m = _NUMBERISH.match(text)
        out[k] = m.group(1).translate(_DIGITS) if m and any(ch.isdigit() for ch in text) else _snap(text, c)
    return out


_LEXICON: dict[str, str] = {}


def _key(text: str) -> str:
    return re.sub(r"[\s\u201c\u201d\"'\u2018\u2019]", "", unicodedata.normalize("NFKC", text))


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _snap(text: str, c: _Ctx) -> str:
    """An OCRed table label one or two characters away (an eighth of a long one) from exactly one template
    label (结果纪正, 茶止公开, (=)部分公开) becomes that label; counted in a warning."""
    if not _LEXICON:
        from .parser import templates as T
        labels = [r.label for rows in T.APPLICATION_ROWS.values() for r in rows]
        labels += [*T.APPLICATION_GROUPS, *T.AD_COLUMNS, *T.APPLICANT_COLUMN_LABELS, *T.OUTCOME_COLUMN_LABELS,
                   *T.REVIEW_GROUP_LABELS, "行政诉讼", "信息内容", "申请人情况", "法人或其他组织",
                   *(T.clause_label(n) for n in T.CLAUSES), *(i[1] for i in T.AD_ITEMS)]
        _LEXICON.update((_key(x), x) for x in labels)
    key = _key(text)
    if len(key) < 4 or key in _LEXICON or not re.search(r"[\u4e00-\u9fff]", key):
        return text
    limit = 1 if len(key) < 7 else max(2, len(key) // 8)       # long labels: 4 misread of 37 characters
    near = sorted((_distance(key, k), k) for k in _LEXICON if abs(len(k) - len(key)) <= limit)
    if not near or near[0][0] > limit or (len(near) > 1 and near[1][0] == near[0][0]):
        return text
    if not any(w.startswith("OCR: table labels") for w in c.warnings):
        c.warnings.append("OCR: table labels within 1-2 characters of a template label were snapped to it")
    return _LEXICON[near[0][1]]


_SEQUENCES: list[tuple[tuple[str, ...], bool]] = []       # header sequences, and whether they repeat


def _neighbours(cand: str) -> list[tuple[str, str]]:
    """The labels printed before and after `cand` in the template's header rows ("" at an end)."""
    out = []
    for seq, cyclic in _SEQUENCES:
        for i, x in enumerate(seq):
            if x == cand:
                before = seq[i - 1] if i or cyclic else ""
                after = seq[(i + 1) % len(seq)] if i + 1 < len(seq) or cyclic else ""
                out.append((before, after))
    return out


def _snap_row(row: list, c: _Ctx) -> list:
    """Header labels misread (总证, 阁计, 其化, 结果纪止) are snapped by a scored matcher: the template's
    header labels of about the same length within one character (short labels) or half their length,
    scored by the row's position — the label before it in a header sequence (尚未审结 → 总计; the review
    table repeats 结果维持…总计 three times) ending the cell to its left, or its label after it starting the
    cell to its right. A misread of more than one character needs that support. A unique best is taken
    (counted in a warning); a tie leaves the text as read, and the parser then leaves what depends on it
    null with a warning."""
    if not _SEQUENCES:
        from .parser import templates as T
        _SEQUENCES.extend([(tuple(T.APPLICANT_COLUMN_LABELS), False), (tuple(T.OUTCOME_COLUMN_LABELS), True),
                           (("合计",), False)])
    labels = {x for seq, _ in _SEQUENCES for x in seq}
    own = [k for k, x in enumerate(row) if x is not None]
    out = list(row)
    for n, k in enumerate(own):
        key = _key(row[k] or "")
        if len(key) < 2 or key in labels or not re.search(r"[\u4e00-\u9fff]", key) or re.search(r"\d", key):
            continue                   # numbered row labels (3.其他) are the parser's
        left = _key(out[own[n - 1]] or "") if n else ""
        right = _key(row[own[n + 1]] or "") if n + 1 < len(own) else ""
        scored = []
        for cand in labels:
            d = _distance(cand, key)
            if abs(len(cand) - len(key)) > (len(cand) > 3) or d > max(1, len(cand) // 2) or (len(cand) <= 3 and d > 1):
                continue
            support = max((2 * (bool(b) and left == b) + 2 * (bool(a) and right == a) for b, a in _neighbours(cand)),
                          default=0)
            if d > 1 and not support:
                continue
            scored.append((support + (d <= 1), -d, cand))
        scored.sort(reverse=True)
        if scored and (len(scored) == 1 or scored[0][:2] > scored[1][:2]):
            out[k] = scored[0][2]
            if not any(w.startswith("OCR: table labels misread") for w in c.warnings):
                c.warnings.append("OCR: table labels misread (总证 → 总计, 结果纪止 → 结果纠正) were snapped to the "
                                  "template by their place in the header row")
    return out


def _ocr(img, c: _Ctx) -> list[str]:
    """One page image → lines: ruled tables as pipe rows of own cells, other text by tesseract's lines."""
    return _stitch([_PageItems(*_ocr_items(img, c, None))])


def _page_image(page) -> tuple:
    """A scanned PDF page as an image at the scan's own resolution (a 300-dpi scan is not resampled down to
    200 dpi, a 150-dpi one not blown up), from the page's largest image; OCR_DPI when none says."""
    dpi = OCR_DPI
    images = [im for im in page.images if im.get("srcsize") and im["x1"] > im["x0"]]
    if images:
        im = max(images, key=lambda im: (im["x1"] - im["x0"]) * (im["bottom"] - im["top"]))
        dpi = im["srcsize"][0] / ((im["x1"] - im["x0"]) / 72)
    dpi = min(max(dpi, 100), 600)
    while page.width * page.height * (dpi / 72) ** 2 > MAX_PIXELS:
        dpi *= 0.8
    return page.to_image(resolution=round(dpi)).original, round(dpi)


def _ocr_items(img, c: _Ctx, dpi: float | None) -> tuple[list, int]:
    """A page image → (items, width of the image they are measured on). Rulings are found on the page as
    scanned (straightened): denoising erases faint 1-px rulings of a low-dpi scan. Text is read on the
    page denoised and upscaled (scanimage.prepare), the table grid scaled to it."""
    import numpy as np
    from PIL import Image, ImageDraw

    from . import scanimage
    if img.width * img.height > MAX_PIXELS:
        raise DocumentError(f"decompression bomb: {img.width}x{img.height} pixels (limit {MAX_PIXELS})")
    native = _deskew(img.convert("L"), c)
    tables, rulings, nh = _tables(native)
    page, scale, sigma = scanimage.prepare(np.asarray(native), dpi)
    if sigma > scanimage.NOISY_SIGMA and not any(w.startswith("OCR: grainy scan") for w in c.warnings):
        c.warnings.append(f"OCR: grainy scan (noise {sigma:.0f} grey levels) denoised before reading")
    if scale > 1 and not any(w.startswith("OCR: scan of") for w in c.warnings):
        c.warnings.append(f"OCR: scan of {dpi:.0f} dpi upscaled to {scanimage.TARGET_DPI} dpi before reading")
    gray = Image.fromarray(page)
    if scale != 1:
        tables = [([x * scale for x in xs], [y * scale for y in ys], region) for xs, ys, region in tables]
        rulings = [tuple(round(v * scale) for v in r) for r in rulings]
    draw = ImageDraw.Draw(gray)
    for k, (p, a, b, th) in enumerate(rulings):          # erase rulings: tesseract would read them as "|"
        draw.rectangle((a, p - th // 2 - 2, b, p + th // 2 + 2) if k < nh else (p - th // 2 - 2, a, p + th // 2 + 2, b),
                       fill=255)
    items = []
    if tables:
        texts = _ocr_cells(gray, tables, c, INK_FAINT if sigma > scanimage.NOISY_SIGMA else 0)
        for t, (xs, ys, region) in enumerate(tables):
            rows = [_snap_row([texts.get((t, (i, j)), "") if region[i, j] == (i, j) else None
                               for j in range(len(xs) - 1)], c) for i in range(len(ys) - 1)]
            items.append((ys[0], _Table((xs[0], ys[0], xs[-1], ys[-1]), list(xs), rows), None, None, 0))
            draw.rectangle((xs[0] - 4, ys[0] - 4, xs[-1] + 4, ys[-1] + 4), fill=255)
    lines: dict = {}
    for text, x, top, w, h, key, _ in (_tess(gray, c) if _ink(gray) else []):
        lines.setdefault(key, []).append((x, top, h, text, x + w))
    for words in lines.values():         # unruled rows: cells at gaps wider than two character heights
        words.sort()
        size = sorted(wd[2] for wd in words)[len(words) // 2]
        pieces = [[words[0]]]
        for prev, word in zip(words, words[1:]):
            if word[0] - prev[4] > 2.0 * size:
                pieces.append([])
            pieces[-1].append(word)
        texts = [_join(wd[3] for wd in piece) for piece in pieces]
        top = min(wd[1] for wd in words)
        if len(texts) >= 3:
            items.append((top, _pipe(texts), None, None, 0))
        elif not _PAGE_NUMBER.match(" ".join(texts)):
            items.append((top, " ".join(texts), words[0][0], max(wd[4] for wd in words), size))
    return items, gray.width
