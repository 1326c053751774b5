"""A report (a :class:`reportgen.ReportTruth`) as an OFD file (GB/T 33190-2016), laid out the way OFD writers
(Suwell, Foxit OFD, WPS's OFD export) lay pages out: OFD.xml DocBody (DocInfo, DocRoot) → Doc_0/Document.xml
(CommonData: MaxUnitID, PageArea, PublicRes; Pages) → Doc_0/Pages/Page_N/Content.xml with one Body Layer of
TextObjects (Boundary in mm, Font, Size; TextCode X/Y baseline and DeltaX advances, "g n d" abbreviated)
and PathObjects (AbbreviatedData) ruling every table cell. Each table cell is its own TextObject (one per
wrapped line), centred in its cell box, as a grid.

Also the bad inputs: not a zip, a DocRoot pointing at a missing part, a zip bomb, an encrypted package, a
signed file whose pages hold only its seal, and a scan saved as OFD (page images, no text).
``seed_truth`` turns a real seed's expected record (shared/seeds/expected) into a truth to render.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .docgen import _col_widths, blocks, layout
from .reportgen import ReportTruth, make_report

NS = "http://www.ofdspec.org/2016"
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 20.0
BODY, TITLE, CELL = 3.7, 5.6, 2.6          # font sizes in mm (10.5 pt, 16 pt, 7.5 pt)
LEADING, CELL_LEADING, MIN_ROW = 6.4, 3.4, 5.6
HEADER_ROWS = {"active_disclosure": 2, "applications": 3, "review_litigation": 3, "legacy": 1}


def seed_truth(expected: str | Path) -> ReportTruth:
    """The truth of a real report from its expected record (title, agency, year, published, tables)."""
    d = json.loads(Path(expected).read_text(encoding="utf-8"))
    agency = d["agency"]["any_of"][0] if isinstance(d.get("agency"), dict) else d.get("agency")
    region = d.get("region")
    region = region["any_of"][0] if isinstance(region, dict) else region
    base = make_report(1, d["format"])
    variants = {k: (False if isinstance(v, bool) else v) for k, v in base.variants.items()}
    return ReportTruth(d["title"], agency, region, d["year"], d["published"], d.get("index_no"), d["format"],
                       d["tables"], base.sections, 1, None, variants)


def _width(text: str, size: float) -> float:
    return sum(size * (0.5 if ch.isascii() else 1.0) for ch in text)


def _wrap(text: str, size: float, width: float, indent: float = 0.0) -> list[str]:
    lines, cur, used = [], "", indent
    for ch in text:
        w = size * (0.5 if ch.isascii() else 1.0)
        if cur and used + w > width:
            lines.append(cur)
            cur, used = "", 0.0
        cur += ch
        used += w
    return lines + [cur] if cur else lines


class _Writer:
    def __init__(self, *, ruled: bool = True, one_code_rows: bool = False, repeat_header: bool = False):
        self.ruled, self.one_code_rows, self.repeat_header = ruled, one_code_rows, repeat_header
        self.pages: list[list[str]] = [[]]
        self.y = MARGIN
        self.id = 10
        self.broken = 0                        # tables broken over a page
        self.repeated = 0                      # header rows drawn again on a following page

    def next_id(self) -> int:
        self.id += 1
        return self.id

    def new_page(self) -> None:
        self.pages.append([])
        self.y = MARGIN

    def room(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN and self.pages[-1]:
            self.new_page()

    def text(self, x: float, baseline: float, text: str, size: float, page: int = -1) -> None:
        """One TextObject: its Boundary is the line's box, the TextCode placed relative to it."""
        top = baseline - size
        adv = [size * (0.5 if ch.isascii() else 1.0) for ch in text]
        if len(set(adv)) == 1:
            delta = f"g {len(text) - 1} {adv[0]:g}" if len(text) > 1 else ""
        else:
            delta = " ".join(f"{a:g}" for a in adv[:-1])
        delta_attr = f' DeltaX="{delta}"' if delta else ""
        self.pages[page].append(
            f'<ofd:TextObject ID="{self.next_id()}" Boundary="{x:.2f} {top:.2f} {sum(adv) + 1:.2f} {size * 1.3:.2f}" '
            f'Font="3" Size="{size:g}"><ofd:FillColor Value="0 0 0"/>'
            f'<ofd:TextCode X="0" Y="{size:.2f}"{delta_attr}>{escape(text)}</ofd:TextCode></ofd:TextObject>')

    def row_code(self, pieces: list[tuple[float, str]], baseline: float, size: float, page: int = -1) -> None:
        """A whole row as ONE TextCode whose DeltaX jumps from cell to cell (how some writers emit tables)."""
        x0 = pieces[0][0]
        text, adv = "", []
        for k, (x, t) in enumerate(pieces):
            nxt = pieces[k + 1][0] if k + 1 < len(pieces) else None
            for n, ch in enumerate(t):
                text += ch
                last = n == len(t) - 1
                adv.append((nxt - (x + _width(t[:n], size))) if last and nxt is not None else
                           size * (0.5 if ch.isascii() else 1.0))
        self.pages[page].append(
            f'<ofd:TextObject ID="{self.next_id()}" Boundary="{x0:.2f} {baseline - size:.2f} '
            f'{PAGE_W - MARGIN - x0:.2f} {size * 1.3:.2f}" Font="3" Size="{size:g}">'
            f'<ofd:TextCode X="0" Y="{size:.2f}" DeltaX="{" ".join(f"{a:.2f}" for a in adv[:-1])}">'
            f'{escape(text)}</ofd:TextCode></ofd:TextObject>')

    def box(self, x: float, y: float, w: float, h: float, page: int = -1) -> None:
        self.pages[page].append(
            f'<ofd:PathObject ID="{self.next_id()}" Boundary="{x:.2f} {y:.2f} {w:.2f} {h:.2f}" LineWidth="0.25">'
            f'<ofd:AbbreviatedData>M 0 0 L {w:.2f} 0 L {w:.2f} {h:.2f} L 0 {h:.2f} C</ofd:AbbreviatedData>'
            f'</ofd:PathObject>')

    def _cell(self, x0: float, x1: float, y0: float, y1: float, lines: list[str], page: int) -> None:
        if self.ruled:
            self.box(x0, y0, x1 - x0, y1 - y0, page=page)
        top = (y0 + y1) / 2 - len(lines) * CELL_LEADING / 2
        for n, line in enumerate(lines):
            self.text((x0 + x1 - _width(line, CELL)) / 2, top + (n + 1) * CELL_LEADING - 0.6, line, CELL, page=page)

    def paragraph(self, text: str, size: float = BODY, *, indent: bool = True, align: str = "left") -> None:
        width = PAGE_W - 2 * MARGIN
        first = 2 * size if indent else 0.0
        for n, line in enumerate(_wrap(text, size, width, first)):
            self.room(LEADING)
            self.y += LEADING
            w = _width(line, size)
            x = {"left": MARGIN + (first if n == 0 else 0), "centre": (PAGE_W - w) / 2,
                 "right": PAGE_W - MARGIN - w}[align]
            self.text(x, self.y, line, size)

    def table(self, name: str, rows) -> None:
        """Rows placed down the page and on to the next ones, as word processors break tables: a cell whose
        rows fall on two pages is drawn as a box on each, its text in the first."""
        cells, ncols = layout(rows)
        total = PAGE_W - 2 * MARGIN
        widths = _col_widths(name, ncols, total)
        xs = [MARGIN + sum(widths[:k]) for k in range(ncols + 1)]
        heights = [MIN_ROW] * len(rows)
        wrapped = {}
        for r, c, rs, cs, text in cells:
            lines = _wrap(text, CELL, xs[c + cs] - xs[c] - 1.2) if text else []
            wrapped[r, c] = lines
            if rs == 1:
                heights[r] = max(heights[r], len(lines) * CELL_LEADING + 2.2)
        self.room(sum(heights[:2]) + 4)
        self.y += 3
        head = HEADER_ROWS.get(name, 0)          # Word's "repeat as header row" marks these
        pos = []                                  # (page, top) of every row
        repeats = []                              # (page, top) where the header rows are drawn again
        for r, h in enumerate(heights):
            if r and self.y + h > PAGE_H - MARGIN:
                self.new_page()
                if self.repeat_header and 0 < head < r:
                    repeats.append((len(self.pages) - 1, self.y))
                    self.repeated += 1
                    self.y += sum(heights[:head])
            pos.append((len(self.pages) - 1, self.y))
            self.y += h
        self.broken += pos[0][0] != pos[-1][0]
        header = [x for x in cells if x[0] + x[2] <= head]
        for page, top in repeats:
            shift = top - pos[0][1]
            for r, c, rs, cs, _text in header:
                y0, y1 = pos[r][1] + shift, pos[r + rs - 1][1] + heights[r + rs - 1] + shift
                self._cell(xs[c], xs[c + cs], y0, y1, wrapped[r, c], page)
        rows_text: dict[tuple[int, int], list] = {}
        for r, c, rs, cs, _text in cells:
            x0, x1 = xs[c], xs[c + cs]
            parts: dict[int, list[float]] = {}
            for k in range(r, r + rs):
                page, top = pos[k]
                y0, y1 = parts.get(page, [top, top])[0], top + heights[k]
                parts[page] = [y0, y1]
            for page, (y0, y1) in parts.items():
                if self.ruled:
                    self.box(x0, y0, x1 - x0, y1 - y0, page=page)
            page, (y0, y1) = next(iter(parts.items()))
            lines = wrapped[r, c]
            top = (y0 + y1) / 2 - len(lines) * CELL_LEADING / 2
            for n, line in enumerate(lines):
                x = (x0 + x1 - _width(line, CELL)) / 2
                baseline = top + (n + 1) * CELL_LEADING - 0.6
                if self.one_code_rows and len(lines) == 1 and rs == 1:
                    rows_text.setdefault((page, r), []).append((x, line, baseline))
                else:
                    self.text(x, baseline, line, CELL, page=page)
        for (page, _r), pieces in rows_text.items():
            pieces.sort()
            self.row_code([(x, t) for x, t, _ in pieces], max(b for _, _, b in pieces), CELL, page=page)
        self.y += 3


def _page_xml(objects: list[str], number: int, height: float | None) -> str:
    area = f"<ofd:Area><ofd:PhysicalBox>0 0 {PAGE_W:g} {height:g}</ofd:PhysicalBox></ofd:Area>" if height else ""
    foot = (f'<ofd:TextObject ID="{9000 + number}" Boundary="100 {((height or PAGE_H) - 12):.2f} 20 5" Font="3" '
            f'Size="3.2"><ofd:TextCode X="0" Y="3.2" DeltaX="g 4 1.6">- {number} -</ofd:TextCode></ofd:TextObject>')
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">{area}<ofd:Content>'
            f'<ofd:Layer ID="{8000 + number}" Type="Body">{"".join(objects)}{foot}</ofd:Layer>'
            f'</ofd:Content></ofd:Page>')


def package(pages: list[str], *, title: str = "", signatures: bool = False, extra: dict | None = None,
            doc_root: str = "Doc_0/Document.xml", res: str = "") -> bytes:
    """An OFD package from page Content.xml texts."""
    sig = "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" if signatures else ""
    ofd = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
           f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>6f2d1c5e8a9b4c7d</ofd:DocID><ofd:Title>{escape(title)}</ofd:Title>'
           f'<ofd:Creator>gikfixtures</ofd:Creator><ofd:CreatorVersion>1.0</ofd:CreatorVersion></ofd:DocInfo>'
           f'<ofd:DocRoot>{doc_root}</ofd:DocRoot>{sig}</ofd:DocBody></ofd:OFD>')
    page_list = "".join(f'<ofd:Page ID="{100 + n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages)))
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
           f'<ofd:MaxUnitID>9999</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}'
           f'</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{res}</ofd:CommonData>'
           f'<ofd:Pages>{page_list}</ofd:Pages></ofd:Document>')
    public = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
              f'<ofd:Font ID="3" FontName="宋体" FamilyName="宋体" Charset="GB18030"/></ofd:Fonts></ofd:Res>')
    parts = {"OFD.xml": ofd, "Doc_0/Document.xml": doc, "Doc_0/PublicRes.xml": public,
             **{f"Doc_0/Pages/Page_{n}/Content.xml": page for n, page in enumerate(pages)}, **(extra or {})}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():        # fixed dates: the same report gives the same bytes
            z.writestr(zipfile.ZipInfo(name, (2022, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def render_ofd(t: ReportTruth, **options) -> bytes:
    """The report as an OFD: title, body paragraphs, headings, the statistics tables, the signature.
    Options: ruled (cell boxes drawn), one_code_rows (a row as one TextCode), repeat_header (a table broken
    over a page repeats its header rows there)."""
    return render(t, **options)[0]


def render(t: ReportTruth, **options) -> tuple[bytes, dict]:
    """The OFD, and how many of its tables were broken over a page and had their header repeated."""
    w = _Writer(**options)
    w.paragraph(t.title, TITLE, indent=False, align="centre")
    w.y += 2
    for kind, x in blocks(t):
        if kind == "p":
            w.paragraph(x)
        elif kind == "h":
            w.paragraph(x, indent=False)
        elif kind == "sig":
            for line in x:
                w.paragraph(line, indent=False, align="right")
        else:
            w.table(*x)
    pages = [_page_xml(objs, n + 1, None) for n, objs in enumerate(w.pages)]
    return package(pages, title=t.title), {"broken": w.broken, "repeated": w.repeated}


# --- bad inputs ------------------------------------------------------------------------------------

def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 40 + "不是OFD文件".encode("utf-8") * 50


def missing_document(t: ReportTruth) -> bytes:
    """OFD.xml whose DocRoot names a part the package does not hold."""
    return package([_page_xml([], 1, None)], title=t.title, doc_root="Doc_9/Document.xml")


def zip_bomb(size: int = 256 << 20) -> bytes:
    """One page part that inflates to `size` bytes (zeros compress ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<ofd:OFD xmlns:ofd="{NS}"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml'
                              f'</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        with z.open("Doc_0/Pages/Page_0/Content.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    return buf.getvalue()


def encrypted(t: ReportTruth) -> bytes:
    """GM/T 0099-style: an Encryptions.xml entry and page parts that are ciphertext, not XML."""
    import random
    rnd = random.Random(7)
    noise = bytes(rnd.randrange(256) for _ in range(4096))
    data = render_ofd(t)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            z.writestr(name, noise if "/Pages/" in name else src.read(name))
        z.writestr("Encryptions.xml", f'<ofd:Encryptions xmlns:ofd="{NS}"><ofd:Encryption ID="1">'
                                      f'<ofd:Provider Name="SM4"/></ofd:Encryption></ofd:Encryptions>')
    return buf.getvalue()


def signed_only(t: ReportTruth) -> bytes:
    """A signed package whose page holds nothing but a ruling: the seal lives in the signature, no text."""
    w = _Writer()
    w.box(MARGIN, 40, 60, 0.3)
    sign = (f'<ofd:Signatures xmlns:ofd="{NS}"><ofd:Signature ID="1" Type="Seal" '
            f'BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>')
    seal = (f'<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo><ofd:StampAnnot ID="1" PageRef="100" '
            f'Boundary="120 200 40 40"/></ofd:SignedInfo><ofd:SignedValue>Sign_0/SignedValue.dat</ofd:SignedValue>'
            f'</ofd:Signature>')
    return package([_page_xml(w.pages[0], 1, None).replace("- 1 -", "")], title=t.title, signatures=True,
                   extra={"Doc_0/Signs/Signatures.xml": sign, "Doc_0/Signs/Sign_0/Signature.xml": seal,
                          "Doc_0/Signs/Sign_0/SignedValue.dat": b"\x30\x82\x01\x00" + b"\x00" * 256})


def scanned(image: bytes) -> bytes:
    """A scan saved as OFD: one page whose only object is an ImageObject (a MultiMedia resource)."""
    page = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="2">'
            f'<ofd:ImageObject ID="5" Boundary="0 0 {PAGE_W:g} {PAGE_H:g}" CTM="{PAGE_W:g} 0 0 {PAGE_H:g} 0 0" '
            f'ResourceID="4"/></ofd:Layer></ofd:Content></ofd:Page>')
    res = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:MultiMedias>'
           f'<ofd:MultiMedia ID="4" Type="Image"><ofd:MediaFile>page1.png</ofd:MediaFile></ofd:MultiMedia>'
           f'</ofd:MultiMedias></ofd:Res>')
    return package([page], res="<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>",
                   extra={"Doc_0/DocumentRes.xml": res, "Doc_0/Res/page1.png": image})
