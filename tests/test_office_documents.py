"""Documents built the way offices build them (tests/office_corpus.py): the HTML report exported by
LibreOffice (PDF, DOCX) and printed by Chromium (PDF), and scans of those PDFs. Truth: the report generator's.
Chromium splits the applications table over pages with rows that lose a ruling at the break; LibreOffice
wraps long titles onto two lines."""
from __future__ import annotations

import shutil

import office_corpus as oc
import pytest

from gikcrawl import documents as D
from gikfixtures import docgen as g
from gikcrawl.parser import parse_document

needs_office = pytest.mark.skipif(not oc.soffice(), reason="LibreOffice (libreoffice-writer-nogui) not installed")
needs_chromium = pytest.mark.skipif(not oc.chromium(), reason="chromium not installed")
needs_ocr = pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract-ocr not installed")


def _record(data: bytes) -> tuple[D.Extracted, dict]:
    ex = D.extract(data)
    return ex, parse_document(ex.lines, ex.lines, [])


@needs_office
@pytest.mark.parametrize("seed", oc.SEEDS)
@pytest.mark.parametrize("target", ["pdf", "docx"])
def test_libreoffice_exports_read_completely(seed, target):
    t = oc.truth(seed)
    ex, rec = _record(oc.office(seed, target))
    assert ex.carrier == target and not ex.ocr_confidence
    assert rec["tables"] == t.tables and rec["title"] == t.title and rec["year"] == t.year
    assert g.field_accuracy(t, rec) == (200, 200)


@needs_chromium
@pytest.mark.parametrize("seed", oc.SEEDS)
@pytest.mark.parametrize("grey", [False, True])
def test_chromium_prints_read_completely(seed, grey):
    t = oc.truth(seed)
    ex, rec = _record(oc.printed(seed, grey))
    assert ex.carrier == "pdf" and ex.pages >= 2
    assert rec["tables"] == t.tables and rec["title"] == t.title
    assert not [w for w in rec["warnings"] if "left null" in w or "not found" in w]


@needs_chromium
def test_table_rows_at_a_page_break_stay_in_their_table():
    """Seed 502: the last row (结转下年度继续办理) falls alone on page 3 as a one-row table, and the row above
    it (总计) lost its top ruling; seed 503: a row lost its bottom ruling at the foot of page 2."""
    for seed, label in ((502, "四、结转下年度继续办理"), (502, "（七）总计"), (503, "2.申请人逾期未按收费通知要求缴纳费用")):
        lines = D.extract(oc.printed(seed)).lines
        rows = [x for x in lines if label in x]
        assert rows and all(x.startswith("| ") for x in rows), (seed, label, rows)


@needs_office
def test_title_wrapped_onto_two_lines_is_one_line():
    """LibreOffice wraps 503's h1 title: 「…政府信息公开工」/「作年度报告」 at 24 pt."""
    t = oc.truth(503)
    lines = D.extract(oc.office(503, "pdf")).lines
    assert t.title in [x.replace(" ", "") for x in lines]


def test_title_run_into_the_first_paragraph_is_cut_out():
    items = [(50.0, "青山县2023年政府信息公开工作年度报告本报告依据《条例》编制，", 57.0, 540.0, 12.0),
             (68.0, "报告所列数据统计期限为2023年1月1日至12月31日。", 57.0, 400.0, 12.0)]
    out = D._title_block(items, 595.0)
    texts = [it[1] for it in sorted(out)]
    assert texts[0] == "青山县2023年政府信息公开工作年度报告" and texts[1].startswith("本报告依据")
    assert D._flow(out)[0] == "青山县2023年政府信息公开工作年度报告"


def test_lone_row_without_a_table_above_is_not_a_table():
    one = D._Table((0, 0, 100, 20), [0, 50, 100], [["合计", "3"]])
    assert D._stitch([D._PageItems([(10.0, one, None, None, 0)], 595)]) == []


def test_split_row_is_joined_cell_by_cell():
    a = D._Table((30, 700, 570, 780), [30, 200, 570], [["信息内容", "本年新制发件数"], ["规章", ""]])
    b = D._Table((30, 40, 570, 60), [30, 200, 570], [["", "5"], ["规范性文件", "7"]])
    lines = D._stitch([D._PageItems([(700.0, a, None, None, 0)], 595), D._PageItems([(40.0, b, None, None, 0)], 595)])
    assert lines == ["| 信息内容 | 本年新制发件数 |", "| 规章 | 5 |", "| 规范性文件 | 7 |"]


# --- scans ---------------------------------------------------------------------------------------

def _figure_rows(lines: list[str]) -> list[tuple[str, ...]]:
    """The figures of each table row (the cells that read as numbers, blanks kept in their place)."""
    rows = []
    for x in lines:
        if x.startswith("| "):
            cells = [c.strip() for c in x[2:-2].split(" | ")]
            figures = tuple(c for c in cells if not c or D._CLEAN_NUMBER.match(c))
            if any(figures):
                rows.append(figures)
    return rows


def _scored(t, data: bytes) -> tuple[D.Extracted, int, int]:
    """Extract a scan; → (extraction, cells right, cells wrong) against the truth's 200 table cells."""
    ex = D.extract(data, timeout=900)
    rec = parse_document(ex.lines, ex.lines, [])
    want, got = g.table_cells(t.tables), g.table_cells(rec["tables"])
    wrong = sum(1 for k, v in got.items() if v is not None and k in want and v != want[k])
    return ex, g.field_accuracy(t, rec)[0], wrong


def _warned(ex: D.Extracted) -> bool:
    """Every OCR figure carries the record's warning with the confidence."""
    return ex.ocr_confidence is not None and any(w.startswith(f"OCR: mean word confidence {ex.ocr_confidence:.0f}%")
                                                 for w in ex.warnings)


@needs_office
@needs_ocr
@pytest.mark.parametrize("kind,opts,least", [
    ("clean 300 dpi", dict(dpi=300), 0.95),
    ("noisy 150 dpi", dict(dpi=150, noise=18, angle=0.6, shift=(8, -6)), 0.95),
])
def test_scanned_office_pdf_read_by_ocr(kind, opts, least):
    """The LibreOffice export of report 501 (3 pages), printed and scanned: the clean 300-dpi scan and a
    grainy 150-dpi one turned by 0.6° and shifted. Measured when written: 200/200 for both (the 150-dpi scan
    read 164/200 with 7 wrong figures before faint rulings were found: `_lone` on both sides, vertical runs
    cut at their last ruling, the thin-line filter on horizontal borders, faint strokes kept in a cell's
    crop, a third digits pass and lone reads of the cells left open; NOTES.md, issue 18). Fourteen reports'
    150-dpi scans read 96-100 %."""
    t = oc.truth(501)
    ex, right, wrong = _scored(t, oc.scan(oc.office(501, "pdf"), seed=501, **opts))
    assert ex.carrier == "pdf-ocr" and ex.pages == 3
    assert right >= least * 200, (kind, right, wrong)
    assert _warned(ex), ex.warnings        # no silent figure: each comes with the confidence warning


def _grainy_grid(seed: int):
    """A 150-dpi table scanned the way office_corpus.scan scans (blur 0.6, seeded grain of std 18): 0.5-pt
    rulings split over two pixel rows (columns) as a scanner puts them, the text of each narrow cell starting
    2 px right of its ruling (strokes 2 px wide, 60 grey)."""
    import numpy as np
    from PIL import Image, ImageChops, ImageDraw, ImageFilter
    xs, ys = [40, 200, 276, 352, 560], [40, 74, 108, 142, 176]
    img = Image.new("L", (600, 220), 255)
    d = ImageDraw.Draw(img)
    for y in ys:
        d.line((xs[0], y, xs[-1], y), fill=200)
        d.line((xs[0], y + 1, xs[-1], y + 1), fill=200)
    for x in xs:
        d.line((x, ys[0], x, ys[-1]), fill=150)
        d.line((x + 1, ys[0], x + 1, ys[-1]), fill=215)
    for x0 in xs[1:3]:
        for y0 in ys[:-1]:
            for k in range(4):
                d.rectangle((x0 + 4 + 6 * k, y0 + 8, x0 + 5 + 6 * k, y0 + 26), fill=60)
                d.rectangle((x0 + 4, y0 + 8 + 6 * k, x0 + 24, y0 + 9 + 6 * k), fill=60)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    grain = Image.fromarray(np.clip(np.random.default_rng(seed).normal(128, 18, (img.height, img.width)), 0, 255)
                            .astype(np.uint8))
    return ImageChops.add(img, grain, scale=1.0, offset=-128)


def test_faint_rulings_of_a_grainy_150_dpi_table_are_found():
    """Rulings of a grainy 150-dpi scan are ink in fewer than 80 % of their pixels, and a narrow cell's text
    sits 2 px past its left ruling. The old detector found 2-3 of the 5 columns (or no table) for each of
    these 8 grain patterns: it took a ruling with text beside it for glyph strokes and lost faint borders."""
    merged = 0
    for seed in range(8):
        tables = D._tables(_grainy_grid(seed))[0]
        assert [(len(xs), len(ys)) for xs, ys, _ in tables] == [(5, 5)], seed
        merged += sum(1 for k, v in tables[0][2].items() if k != v)
    assert merged <= 2          # measured: 2 cells of 128 merged with a neighbour (a broken vertical end)


def test_thin_line_filter_tells_a_faint_ruling_from_text_across_a_merged_cell():
    import numpy as np
    from PIL import Image, ImageDraw
    img = Image.new("L", (400, 120), 255)
    d = ImageDraw.Draw(img)
    d.line((20, 30, 380, 30), fill=205)                         # a faint ruling
    for k in range(12):                                          # a text line across y=80: glyph strokes
        x = 30 + 28 * k
        d.rectangle((x, 70, x + 2, 92), fill=40)
        d.rectangle((x + 8, 70, x + 10, 92), fill=40)
        d.rectangle((x, 80, x + 18, 81), fill=40)
    grain = np.random.default_rng(1).normal(0, 12, (120, 400))
    img = Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))
    darker = np.asarray(D._darkness(img))
    assert D._thin_line(darker, 30, 20, 380, 6)
    assert not D._thin_line(darker, 80, 20, 380, 6)
    assert not D._thin_line(darker, 55, 20, 380, 6)            # blank paper


@needs_office
@needs_ocr
def test_scan_shift_and_rotation_give_the_same_figures():
    """The applications page (page 2) of a LibreOffice export scanned at 200 dpi straight, shifted by
    ±10 px, and shifted and turned by ±1°: shifts give exactly the same figures in the same rows. A turned
    scan (resampled twice: by the scanner and by the deskew) gives the same rows but NOT yet the same
    figures: 171 of 178 at +1° when this was written (digits lost in doubled digits or thin 1s); this
    asserts ≥ 95 % so that it does not get worse, the gap is open (NOTES.md, issue 18)."""
    import io

    import pypdfium2
    src = pypdfium2.PdfDocument(oc.office(501, "pdf"))
    one = pypdfium2.PdfDocument.new()
    one.import_pages(src, [1])
    buf = io.BytesIO()
    one.save(buf)
    rows = {}
    for shift, angle in (((0, 0), 0.0), ((10, -10), 0.0), ((-10, 10), 0.0), ((10, -10), 1.0), ((-10, 10), -1.0)):
        ex = D.extract(oc.scan(buf.getvalue(), 200, angle=angle, shift=shift), timeout=900)
        assert ex.carrier == "pdf-ocr" and any("confidence" in w for w in ex.warnings)
        rows[shift, angle] = _figure_rows(ex.lines)
    straight = rows[(0, 0), 0.0]
    assert len(straight) >= 28
    for (shift, angle), got in rows.items():
        if angle == 0:
            assert got == straight, (shift, [(a, b) for a, b in zip(straight, got) if a != b])
        else:
            assert len(got) == len(straight), (shift, angle)
            cells = [(x, y) for a, b in zip(straight, got) for x, y in zip(a, b)]
            same = sum(x == y for x, y in cells) - sum(abs(len(a) - len(b)) for a, b in zip(straight, got))
            assert same >= 0.95 * sum(len(a) for a in straight), (shift, angle, same)


@pytest.mark.parametrize("row,index,want", [
    (["结果维持", "结果纠正", "其他结果", "尚未审结", "总证"], 4, "总计"),       # one candidate
    (["结果维持", "结果纠正", "其他结果", "尚未审结", "阁计"], 4, "总计"),       # 总计/合计 tie, broken by 尚未审结
    (["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其化", "总计"], 4, "其他"),
    (["阁计", "5"], 0, None),                                                    # a tie without context
    (["结果维持", "结果纪止", "其他结果", "尚未审结", "总计"], 1, "结果纠正"),   # two characters off, both sides agree
    (["总计", "结果维持", "结果纠正", "其他结果", "尚未审续"], 4, "尚未审结"),   # the review row's repeat
    (["行政处罚", "结果纪止"], 1, None),                                        # two off without support
    (["3其他", "7", "10"], 0, None),                                              # a numbered row label
    (["结果维持", "结果纠正", "其他结果", "尚未审结", "说明"], 4, None),        # nothing one character away
])
def test_short_labels_snapped_by_their_place_in_the_row(row, index, want):
    c = D._Ctx(1, True, 1e18, 1)
    got = D._snap_row(row, c)
    assert got[index] == (want or row[index])
    assert [k for k in range(len(row)) if got[k] != row[k]] == ([index] if want else [])
    assert bool(c.warnings) == bool(want)
