"""OFD (GB/T 33190-2016, the Chinese fixed-layout format) → parser lines, with lxml and zipfile.

An OFD file is a zip package: OFD.xml (DocBody/DocRoot) → Doc_N/Document.xml (CommonData/PageArea, Pages in
document order, TemplatePage) → each page's Content.xml: Layers (and PageBlocks) of TextObjects — a
Boundary "x y w h" in mm and TextCodes placed at X/Y (the baseline) with DeltaX glyph advances ("g n d" =
n times d), optionally through a CTM — and PathObjects whose AbbreviatedData draws the table rulings.

Text codes are placed by their page coordinates (pages then go through the PDF path's `_stitch`: a table
continued on the next page is one table, a repeated header row dropped, a row cut by the break joined); a code whose glyph advances jump by more than a character
is split there (some writers put a whole table row in one TextCode). Horizontal and vertical rulings that
touch form a table: rows are the bands between horizontal rulings, a band's cells the spaces between the
vertical rulings crossing it, and a cell whose top ruling is missing continues the cell above (a row span:
only its first row holds it, as every other carrier's pipe rows do). Unruled text is split into cells at
gaps of two characters or more; such a line is a table row, and a one-line fragment just above or below it
inside one of its cells is that cell's wrapped text.
A page without any text but with images (a scan saved as OFD) is OCRed like an image carrier.
Every failure is a DocumentError naming OFD; signatures and seals are not text and are not read.
"""
from __future__ import annotations

import io
import posixpath
import zipfile

from .documents import (_PAGE_NUMBER, DocumentError, _cluster, _continues, _Ctx, _image, _join, _PageItems, _pipe,
                        _stitch, _Table, _zip_guard)

MAX_PART = 64 << 20           # one XML part, inflated
TOL = 0.8                     # mm: rulings this close are one ruling, text this close to a ruling is on it
MIN_RULING = 2.0              # mm: shorter strokes are glyph-like decoration, not rulings


def _local(el) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(el, name: str) -> str | None:
    return el.attrib.get(name)


def _kids(el, name: str) -> list:
    return [k for k in el if _local(k) == name] if el is not None else []


def _kid(el, *path: str):
    for name in path:
        found = _kids(el, name)
        if not found:
            return None
        el = found[0]
    return el


def _nums(text: str | None) -> list[float]:
    out = []
    for tok in (text or "").split():
        try:
            out.append(float(tok))
        except ValueError:
            pass
    return out


def _deltas(text: str | None, limit: int) -> list[float]:
    """DeltaX/DeltaY: numbers, "g n d" standing for n times d; at most `limit` (the glyphs there are)."""
    toks, out, i = (text or "").split(), [], 0
    while i < len(toks) and len(out) < limit:
        if toks[i] == "g" and i + 2 < len(toks):
            try:
                out += [float(toks[i + 2])] * max(0, min(int(float(toks[i + 1])), limit - len(out)))
            except (ValueError, OverflowError):
                pass
            i += 3
            continue
        try:
            out.append(float(toks[i]))
        except ValueError:
            pass
        i += 1
    return out


class _Package:
    def __init__(self, data: bytes):
        try:
            _zip_guard(data)
        except DocumentError as e:
            raise DocumentError(f"{e} (an OFD file is a zip package)") from None
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = {n.lstrip("/"): n for n in self.zip.namelist()}
        self.encrypted = any("encrypt" in n.lower() for n in self.names)

    def xml(self, path: str):
        from lxml import etree
        name = self.names.get(path.lstrip("/"))
        if name is None:
            raise DocumentError(f"corrupt OFD: part {path} is missing")
        if self.zip.getinfo(name).file_size > MAX_PART:
            raise DocumentError(f"zip bomb: OFD part {path} inflates to "
                                f"{self.zip.getinfo(name).file_size >> 20} MB")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            return etree.fromstring(self.zip.read(name), parser)
        except etree.XMLSyntaxError:
            if self.encrypted:
                raise DocumentError("encrypted OFD: its parts are encrypted (not readable without the key)") from None
            raise DocumentError(f"corrupt OFD: part {path} is not XML") from None

    def read(self, path: str) -> bytes | None:
        name = self.names.get(path.lstrip("/"))
        return self.zip.read(name) if name is not None else None


def _resolve(base: str, loc: str) -> str:
    loc = (loc or "").strip().replace("\\", "/")
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc))


def _ctm(el) -> tuple[float, ...]:
    m = _nums(_attr(el, "CTM"))
    return tuple(m) if len(m) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class _Page:
    """One page's drawn objects in page coordinates (mm, origin top left, y down)."""

    def __init__(self):
        self.text: list[tuple[float, float, float, float, str]] = []   # (x0, x1, baseline, size, text)
        self.h: list[tuple[float, float, float]] = []                  # (y, x0, x1)
        self.v: list[tuple[float, float, float]] = []                  # (x, y0, y1)
        self.images: list[str] = []                                    # resource ids

    def walk(self, el) -> None:
        for child in el:
            name = _local(child)
            if name == "TextObject":
                self._text(child)
            elif name == "PathObject":
                self._path(child)
            elif name == "ImageObject" and child.get("ResourceID"):
                self.images.append(child.get("ResourceID"))
            elif name in ("Layer", "PageBlock", "CompositeObject", "Content"):
                self.walk(child)

    def _text(self, obj) -> None:
        bx, by = (_nums(obj.get("Boundary")) + [0.0, 0.0])[:2]
        a, b, c, d, e, f = _ctm(obj)
        scale = abs(a * d - b * c) ** 0.5 or 1.0
        size = (_nums(obj.get("Size")) or [3.5])[0] * scale
        x = y = 0.0
        for code in _kids(obj, "TextCode"):
            x = _nums(code.get("X"))[0] if code.get("X") else x
            y = _nums(code.get("Y"))[0] if code.get("Y") else y
            text = code.text or ""
            deltas = _deltas(code.get("DeltaX"), len(text))
            run, x0, last = "", None, None
            for i, ch in enumerate(text):
                px, py = bx + a * x + c * y + e, by + b * x + d * y + f
                width = size * (0.5 if ch.isascii() else 1.0)
                if last is not None and px - last > max(2 * size, 3.0):   # a jump: the next cell
                    self._add(x0, last, py, size, run)
                    run, x0 = "", None
                if x0 is None:
                    x0 = px
                run += ch
                last = px + width
                x += deltas[i] if i < len(deltas) else (deltas[-1] if deltas else width / scale)
            if run:
                self._add(x0, last, by + b * x + d * y + f, size, run)

    def _add(self, x0, x1, baseline, size, text) -> None:
        if text.strip():
            self.text.append((x0, x1, baseline, size, text))

    def _path(self, obj) -> None:
        bx, by = (_nums(obj.get("Boundary")) + [0.0, 0.0])[:2]
        a, b, c, d, e, f = _ctm(obj)
        data = _kid(obj, "AbbreviatedData")
        toks = (data.text or "").split() if data is not None else []
        pts, start, cur, i = [], None, None, 0
        arity = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
        while i < len(toks):
            op = toks[i]
            n = arity.get(op)
            if n is None:
                i += 1
                continue
            args = _nums(" ".join(toks[i + 1:i + 1 + n]))
            i += 1 + n
            if len(args) < n:
                break
            if op in ("M", "S"):
                cur = start = (args[0], args[1])
            elif op == "C" and cur is not None and start is not None:
                pts.append((cur, start))
                cur = start
            elif op in ("L", "Q", "B", "A"):
                end = (args[-2], args[-1])
                if op == "L" and cur is not None:
                    pts.append((cur, end))
                cur = end
        for (x1, y1), (x2, y2) in pts:
            p1 = (bx + a * x1 + c * y1 + e, by + b * x1 + d * y1 + f)
            p2 = (bx + a * x2 + c * y2 + e, by + b * x2 + d * y2 + f)
            if abs(p1[1] - p2[1]) <= 0.3 and abs(p1[0] - p2[0]) >= MIN_RULING:
                self.h.append(((p1[1] + p2[1]) / 2, min(p1[0], p2[0]), max(p1[0], p2[0])))
            elif abs(p1[0] - p2[0]) <= 0.3 and abs(p1[1] - p2[1]) >= MIN_RULING:
                self.v.append(((p1[0] + p2[0]) / 2, min(p1[1], p2[1]), max(p1[1], p2[1])))


def _near(value: float, targets: list[float]) -> float | None:
    best = min(targets, key=lambda t: abs(t - value), default=None)
    return best if best is not None and abs(best - value) <= TOL else None


class _Grid:
    """A ruled table: bands between horizontal rulings, cells between the verticals crossing each band."""

    def __init__(self, h, v):
        self.ys = _cluster((y for y, _, _ in h), TOL)
        self.box = (min(x0 for _, x0, _ in h), self.ys[0], max(x1 for _, _, x1 in h), self.ys[-1])
        self.cells: list[list[list]] = []     # per band: [x0, x1, owner (band, index)]
        for i in range(len(self.ys) - 1):
            top, bottom = self.ys[i], self.ys[i + 1]
            xs = _cluster((x for x, y0, y1 in v if y0 <= top + TOL and y1 >= bottom - TOL), TOL)
            band = []
            for j, (x0, x1) in enumerate(zip(xs, xs[1:])):
                owner = (i, j)
                if i and not self._ruled(h, top, x0, x1):
                    above = next((k for k, cell in enumerate(self.cells[i - 1])
                                  if abs(cell[0] - x0) <= TOL and abs(cell[1] - x1) <= TOL), None)
                    if above is not None:
                        owner = self.cells[i - 1][above][2]
                band.append([x0, x1, owner])
            self.cells.append(band)
        self.text: dict[tuple[int, int], list] = {}

    @staticmethod
    def _ruled(h, y: float, x0: float, x1: float) -> bool:
        covered = sum(max(0.0, min(b, x1) - max(a, x0)) for yy, a, b in h if abs(yy - y) <= TOL)
        return covered >= 0.5 * (x1 - x0)

    def usable(self) -> bool:
        return max((len(b) for b in self.cells), default=0) >= 2

    def place(self, piece) -> bool:
        x0, x1, base, size, _ = piece
        cx, cy = (x0 + x1) / 2, base - size * 0.35
        left, top, right, bottom = self.box
        if not (left - TOL <= cx <= right + TOL and top - TOL <= cy <= bottom + TOL):
            return False
        for i in range(len(self.cells)):
            if self.ys[i] - TOL <= cy <= self.ys[i + 1] + TOL:
                for x_0, x_1, owner in self.cells[i]:
                    if x_0 <= cx <= x_1:
                        self.text.setdefault(owner, []).append(piece)
                        return True
        return True                  # inside the table but in no cell (a ruling's label): dropped

    def table(self) -> _Table:
        """As the PDF path's tables: rows over the table's column boundaries, None where a span covers."""
        xs = _cluster([c[k] for band in self.cells for c in band for k in (0, 1)], TOL)
        rows = []
        for i, band in enumerate(self.cells):
            row = []
            for x0, x1 in zip(xs, xs[1:]):
                cell = next((c for c in band if c[0] - TOL <= (x0 + x1) / 2 <= c[1] + TOL), None)
                if cell is None or cell[2][0] != i or abs(cell[0] - x0) > TOL:
                    row.append(None)        # covered by a span from the left or from above
                else:
                    pieces = sorted(self.text.get(cell[2], []), key=lambda t: (round(t[2], 0), t[0]))
                    row.append(_join(t[4] for t in pieces))
            if any(x is not None for x in row):
                rows.append(row)
        return _Table(self.box, xs, rows)


def _tables(page: _Page) -> list[_Grid]:
    """Rulings that touch form one table (union-find over horizontal and vertical strokes)."""
    segs = [("h", s) for s in page.h] + [("v", s) for s in page.v]
    parent = list(range(len(segs)))

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    hs = [k for k, (t, _) in enumerate(segs) if t == "h"]
    vs = [k for k, (t, _) in enumerate(segs) if t == "v"]
    for i in hs:
        y, x0, x1 = segs[i][1]
        for j in vs:
            x, y0, y1 = segs[j][1]
            if x0 - TOL <= x <= x1 + TOL and y0 - TOL <= y <= y1 + TOL:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for k in range(len(segs)):
        groups.setdefault(find(k), []).append(k)
    grids = []
    for members in groups.values():
        h = [segs[k][1] for k in members if segs[k][0] == "h"]
        v = [segs[k][1] for k in members if segs[k][0] == "v"]
        if len(h) >= 2 and len(v) >= 2:
            grid = _Grid(h, v)
            if grid.usable():
                grids.append(grid)
    return grids


def _lines(pieces) -> list[list]:
    """Text pieces → lines (same baseline within a third of the size), each in x order."""
    lines: list[list] = []
    for p in sorted(pieces, key=lambda p: (p[2], p[0])):
        if lines and abs(lines[-1][0][2] - p[2]) <= max(lines[-1][0][3], p[3]) / 3:
            lines[-1].append(p)
        else:
            lines.append([p])
    return [sorted(line, key=lambda p: p[0]) for line in lines]


def _cells(line) -> list[list]:
    """A line's pieces grouped into cells at gaps of two characters or more."""
    size = max(p[3] for p in line)
    cells, prev = [[line[0]]], line[0]
    for p in line[1:]:
        if p[0] - prev[1] >= 2 * size:
            cells.append([p])
        else:
            cells[-1].append(p)
        prev = p
    return cells


def _unruled(lines) -> list[tuple]:
    """Lines outside ruled tables → _flow items. A line split by gaps into ≥ 2 cells is a table row; a
    one-cell line just above or below a row (within 1.6 of its size) that sits inside exactly one of its cells,
    or left of all of them, is that cell's wrapped text (a label on two lines, centred on its row)."""
    rows, rest = [], []
    for line in lines:
        cells = _cells(line)
        if len(cells) >= 2:
            rows.append({"base": line[0][2], "size": max(p[3] for p in line), "lead": [],
                         "cells": [[min(p[0] for p in c), max(p[1] for p in c), list(c)] for c in cells]})
        else:
            rest.append(line)
    items = []
    for line in rest:
        x0, x1, base = line[0][0], line[-1][1], line[0][2]
        near = min(rows, key=lambda r: abs(r["base"] - base), default=None)
        if near is not None and abs(near["base"] - base) <= 1.6 * near["size"]:
            inside = [c for c in near["cells"] if x0 < c[1] and x1 > c[0]]
            if len(inside) == 1:
                inside[0][2] += line
                continue
            if not inside and x1 <= near["cells"][0][0]:
                near["lead"] += line
                continue
        items.append((min(p[2] - p[3] for p in line), _join(p[4] for p in line), x0, x1, max(p[3] for p in line)))
    for r in rows:
        parts = ([r["lead"]] if r["lead"] else []) + [c[2] for c in r["cells"]]
        texts = [_join(p[4] for p in sorted(part, key=lambda p: (round(p[2], 1), p[0]))) for part in parts]
        items.append((min(p[2] - p[3] for part in parts for p in part), _pipe(texts), None, None, 0))
    return items


def _page_items(page: _Page, width: float, prev: _Table | None) -> _PageItems:
    """One page's prose lines and tables. A one-row table is a table only at the top of a page, continuing
    the previous page's last table (the row a page break cut off); elsewhere a box around text is text."""
    grids = _tables(page)
    first = min((p[2] - p[3] for p in page.text), default=0.0)
    grids = [g for g in grids if len(g.cells) >= 2 or (
        prev is not None and g.box[1] <= first + TOL and _continues(prev, g.table(), width * 0.006))]
    prose = [p for p in page.text if not any(g.place(p) for g in grids)]
    items = [(g.box[1], g.table(), None, None, 0) for g in grids]
    items += [it for it in _unruled(_lines(prose)) if not (it[2] is not None and _PAGE_NUMBER.match(it[1].strip()))]
    return _PageItems(items, width)


def _media(pkg: _Package, doc, base: str) -> dict[str, str]:
    """Resource id → package path of the document's images (PublicRes / DocumentRes MultiMedia)."""
    out = {}
    common = _kid(doc, "CommonData")
    for kind in ("PublicRes", "DocumentRes"):
        for loc in _kids(common, kind):
            path = _resolve(base, loc.text or "")
            try:
                res = pkg.xml(path)
            except DocumentError:
                continue
            res_base = _resolve(posixpath.dirname(path), res.get("BaseLoc") or "")
            for mm in res.iter():
                if _local(mm) == "MultiMedia" and _attr(mm, "ID"):
                    f = _kid(mm, "MediaFile")
                    if f is not None and f.text:
                        out[_attr(mm, "ID")] = _resolve(res_base, f.text)
    return out


def extract(data: bytes, c: _Ctx, carrier: str = "ofd"):
    pkg = _Package(data)
    root = pkg.xml("OFD.xml")
    bodies = _kids(root, "DocBody")
    roots = [(_kid(b, "DocRoot").text or "").strip() for b in bodies if _kid(b, "DocRoot") is not None]
    if not roots or not all(roots):
        raise DocumentError("corrupt OFD: OFD.xml names no DocRoot (Document.xml)")
    signed = any(_kid(b, "Signatures") is not None for b in bodies)
    pages_read: list[_PageItems] = []
    n_pages = read = ocred = 0
    errors: list[str] = []
    for doc_root in roots:
        doc_path = _resolve("", doc_root)
        doc = pkg.xml(doc_path)
        base = posixpath.dirname(doc_path)
        pages = _kids(_kid(doc, "Pages"), "Page")
        templates = {_attr(t, "ID"): t.get("BaseLoc") for t in _kids(_kid(doc, "CommonData"), "TemplatePage")}
        media = prev = None
        box = _kid(doc, "CommonData", "PageArea", "PhysicalBox")
        width = (_nums(box.text if box is not None else "") + [0, 0, 210])[2]
        n_pages += len(pages)
        for entry in pages:
            if read >= c.max_pages:
                break
            c.remaining()
            read += 1
            page = _Page()
            try:
                content = pkg.xml(_resolve(base, entry.get("BaseLoc") or ""))
                for tpl in _kids(content, "Template"):
                    loc = templates.get(tpl.get("TemplateID"))
                    body = _kid(pkg.xml(_resolve(base, loc)), "Content") if loc else None
                    if body is not None:
                        page.walk(body)
            except DocumentError as e:            # one bad page: the others are still read
                errors.append(f"page {read}: {e}")
                prev = None
                continue
            body = _kid(content, "Content")
            if body is not None:
                page.walk(body)
            if not page.text and page.images and c.ocr:      # a scan saved as OFD
                media = _media(pkg, doc, base) if media is None else media
                lines = []
                for rid in page.images:
                    c.remaining()
                    img = pkg.read(media.get(rid, ""))
                    if img:
                        lines += _image(img, c, "image")[0]
                        ocred += 1
                pages_read.append(_PageItems([(k, x, None, None, 0) for k, x in enumerate(lines)], width))
                prev = None
                continue
            pages_read.append(_page_items(page, width, prev))
            tables = sorted((it for it in pages_read[-1].items if isinstance(it[1], _Table)), key=lambda it: it[0])
            prev = tables[-1][1] if tables else None
    lines = _stitch(pages_read)
    c.warnings += errors
    if n_pages > read:
        c.warnings.append(f"OFD has {n_pages} pages; only the first {read} were read")
    if not lines:
        if pkg.encrypted:
            raise DocumentError("encrypted OFD: no readable text (not readable without the key)")
        if errors:
            raise DocumentError(errors[0] + (f" (and {len(errors) - 1} more pages)" if len(errors) > 1 else ""))
        if signed:
            raise DocumentError("signed OFD with no text layer: only its seals/signatures, nothing to parse")
        raise DocumentError(f"OFD has no text on its {read} page(s) (scanned, and OCR found nothing or is off)")
    if ocred:
        c.warnings.append(f"{ocred} OFD page image(s) without a text layer were OCRed")
    return lines, "ofd-ocr" if ocred else carrier, n_pages
