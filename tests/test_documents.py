"""Attachments as parser input: every carrier of one synthetic report parses to the report's truth.

The OCR tests need tesseract + chi_sim, the DOC/WPS/RTF tests LibreOffice, the image fixture a CJK font
(Debian packages in debian-documents.txt); each skips when its tool is missing.
"""
from __future__ import annotations

import io
import random
import shutil

import pytest

from gikcrawl import documents as D
from gikfixtures import docgen as g
from gikfixtures.reportgen import make_report, render_html
from gikcrawl.parser import parse_document
from gikcrawl.parser.htmldoc import parse_html

TABLES = ("active_disclosure", "applications", "review_litigation")
OCR_FIELD_THRESHOLD = 0.95     # measured 99.7 % (applications table image, 8 reports) — bench/documents.py
SCAN_FIELD_THRESHOLD = 0.90    # measured 98.4 % (3-page report scanned at 200 dpi, 7.5 pt table text, 8 reports)


def _has_ocr() -> bool:
    if not shutil.which("tesseract"):
        return False
    import pytesseract
    return "chi_sim" in pytesseract.get_languages(config="")


needs_ocr = pytest.mark.skipif(not _has_ocr(), reason="tesseract-ocr + tesseract-ocr-chi-sim not installed")
needs_office = pytest.mark.skipif(not g.soffice(), reason="LibreOffice (libreoffice-writer-nogui) not installed")
needs_font = pytest.mark.skipif(not g.cjk_font_path(), reason="no CJK font (fonts-wqy-zenhei)")


@pytest.fixture(scope="module")
def truth():
    return make_report(11, "2021")


@pytest.fixture(scope="module")
def office_files(truth):
    if not g.soffice():
        pytest.skip("LibreOffice not installed")
    return {"doc": g.render_doc(truth), "rtf": g.render_rtf(truth)}


def parse(ex: D.Extracted) -> dict:
    return parse_document(ex.lines, ex.lines, [])


def check_record(rec: dict, t, valid) -> None:
    valid(rec)
    assert {k: rec["tables"].get(k) for k in TABLES} == {k: t.tables[k] for k in TABLES}
    assert (rec["title"], rec["agency"], rec["year"], rec["format"]) == (t.title, t.agency, t.year, "2021")


# --- carriers with a text layer: exact -------------------------------------------------------------

@pytest.mark.parametrize("carrier", ["docx", "xlsx", "xls", "pdf"])
def test_carrier_tables_equal_truth(carrier, truth, valid):
    data = getattr(g, f"render_{carrier}")(truth)
    assert D.sniff(data) == carrier
    ex = D.extract(data)
    assert ex.carrier == carrier and ex.warnings == [] and ex.ocr_confidence is None
    check_record(parse(ex), truth, valid)


@pytest.mark.parametrize("seed,fmt,blanks", [(3, "2021", True), (4, "2019", False), (5, "2019", True),
                                             (6, "legacy", False)])
@pytest.mark.parametrize("carrier", ["docx", "xlsx", "pdf"])
def test_other_layouts_and_blank_cells(carrier, seed, fmt, blanks):
    t = make_report(seed, fmt, blanks=blanks)
    rec = parse(D.extract(getattr(g, f"render_{carrier}")(t)))
    assert rec["tables"] == t.tables and rec["format"] == t.format


@pytest.mark.parametrize("carrier", ["docx", "pdf", "xlsx"])
def test_table_rows_hold_own_cells_like_the_html_path(carrier):
    """Pipe rows equal htmldoc's for the same report: spans resolved, covered cells dropped, blanks kept."""
    t = make_report(2, "2021", blanks=True)
    html = [row for table in parse_html(render_html(t)).tables if len(table) > 3 for row in table]
    rows = [x for x in D.extract(getattr(g, f"render_{carrier}")(t)).lines if x.startswith("|")]
    if carrier == "xlsx":      # a sheet row with one cell is a text line
        html = [row for row in html if row.count(" | ") > 0]
    assert rows == html
    assert "| 规章 |  |  |  |" in rows or any("|  |" in row for row in rows)


def test_docx_body_order_and_merges(truth):
    lines = D.extract(g.render_docx(truth)).lines
    heading = lines.index("三、收到和处理政府信息公开申请情况")
    first_row = next(i for i, x in enumerate(lines) if "勾稽" in x)
    assert heading < first_row < lines.index("四、政府信息公开行政复议、行政诉讼情况")
    granted = next(x for x in lines if "予以公开" in x and x.startswith("|"))
    assert granted.startswith("| 三、本年度办理结果 | （一）予以公开 | ")
    assert granted.count(" | ") == 8     # 9 own cells: 2 labels + 7 numbers
    follow = lines[lines.index(granted) + 1]
    assert follow.startswith("| （二）部分公开") and follow.count(" | ") == 7


def test_pdf_prose_lines_are_rejoined(truth):
    lines = D.extract(g.render_pdf(truth)).lines
    assert lines[0] == truth.title
    assert any(x.startswith("本报告根据") and x.endswith("。") and len(x) > 150 for x in lines)


def test_restricted_pdf_opens_without_password(truth):
    """Encrypted with an empty user password (no printing/copying): readable, as browsers read it."""
    assert parse(D.extract(g.restricted_pdf(truth)))["tables"]["applications"] == truth.tables["applications"]


# --- DOC / WPS / RTF through LibreOffice -----------------------------------------------------------

@needs_office
@pytest.mark.parametrize("carrier", ["doc", "wps", "rtf"])
def test_office_carriers(carrier, office_files, truth, valid):
    data = office_files["rtf" if carrier == "rtf" else "doc"]   # Kingsoft .wps files are OLE2 Word files
    assert D.sniff(data, f"report.{carrier}") == carrier
    ex = D.extract(data, filename=f"report.{carrier}")
    assert ex.carrier == carrier
    check_record(parse(ex), truth, valid)


@pytest.mark.skipif(not shutil.which("catdoc"), reason="catdoc not installed")
def test_doc_without_libreoffice_falls_back_to_catdoc(monkeypatch, truth, office_files):
    data = office_files["doc"]
    which = shutil.which
    monkeypatch.setattr(D.shutil, "which", lambda n: None if n in ("soffice", "libreoffice") else which(n))
    ex = D.extract(data, filename="report.doc")
    assert any("catdoc" in w and "libreoffice-writer-nogui" in w for w in ex.warnings)
    assert truth.title in ex.lines and any(x.startswith("|") for x in ex.lines)


def test_doc_without_any_converter_names_the_package(monkeypatch):
    monkeypatch.setattr(D.shutil, "which", lambda n: None)
    with pytest.raises(D.DocumentError, match="libreoffice-writer-nogui"):
        D.extract(D._OLE + "WordDocument".encode("utf-16-le") + b"\0" * 600)


# --- OCR -------------------------------------------------------------------------------------------

@needs_ocr
@needs_font
def test_image_applications_table_by_ocr(truth, valid):
    png = g.render_image(truth, "applications")
    assert D.sniff(png) == "image"
    ex = D.extract(png)
    assert ex.carrier == "image" and 50 < ex.ocr_confidence <= 100
    assert any(w.startswith("OCR: mean word confidence") for w in ex.warnings)
    rec = valid(parse(ex))
    ok, total = g.field_accuracy(truth, rec, ("applications",))
    assert total == 175 and ok / total >= OCR_FIELD_THRESHOLD, (ok, total)


@needs_ocr
def test_scanned_pdf_is_ocred(truth):
    ex = D.extract(g.scanned_pdf(truth))
    assert ex.carrier == "pdf-ocr" and ex.pages == 3 and ex.ocr_confidence
    assert any("no readable text layer" in w for w in ex.warnings) and any(w.startswith("OCR:") for w in ex.warnings)
    rec = parse(ex)
    ok, total = g.field_accuracy(truth, rec)
    assert ok / total >= SCAN_FIELD_THRESHOLD, (ok, total)
    assert rec["year"] == truth.year


def test_scanned_pdf_without_ocr_warns(truth):
    pytest.importorskip("pypdfium2")
    ex = D.extract(g.scanned_pdf(truth), ocr=False)
    assert ex.carrier == "pdf" and ex.lines == [] and any("OCR is off" in w for w in ex.warnings)


def test_missing_tesseract_names_the_package(monkeypatch):
    import pytesseract
    from PIL import Image, ImageDraw
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    img = Image.new("L", (200, 100), 255)
    ImageDraw.Draw(img).text((20, 40), "2021", fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    with pytest.raises(D.DocumentError, match="tesseract-ocr-chi-sim"):
        D.extract(buf.getvalue())


# --- bad inputs ------------------------------------------------------------------------------------

def _png(w, h) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("1", (w, h)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("make,filename,reason", [
    (lambda t: g.encrypted_pdf(t), "", "encrypted PDF (password-protected)"),
    (lambda t: g.corrupt_pdf(), "", "corrupt PDF"),
    (lambda t: g.zip_bomb_docx(), "", "zip bomb: 64 MB uncompressed"),
    (lambda t: g.render_docx(t)[:4000], "report.docx", "corrupt: not a valid zip package"),
    (lambda t: g.render_xlsx(t)[:3000], "report.xlsx", "corrupt: not a valid zip package"),
    (lambda t: g.render_xls(t)[:3000], "report.xls", "corrupt XLS"),
    (lambda t: D._OLE + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600, "a.docx",
     "encrypted Office document"),
    (lambda t: _png(10000, 9000), "", "decompression bomb: 10000x9000"),
    (lambda t: b"<html><body>404 Not Found</body></html>", "report.pdf", "unsupported"),
    (lambda t: b"", "report.pdf", "unsupported"),
])
def test_bad_inputs_raise_one_line_reasons(make, filename, reason, truth):
    with pytest.raises(D.DocumentError) as err:
        D.extract(make(truth), filename=filename)
    assert str(err.value).startswith(reason) and "\n" not in str(err.value)


def test_image_without_ocr_is_unsupported():
    with pytest.raises(D.DocumentError, match="needs OCR"):
        D.extract(_png(50, 50), ocr=False)


def test_page_limit_and_timeout(truth):
    ex = D.extract(g.huge_pdf(205), max_pages=200)
    assert ex.pages == 205 and len(ex.lines) == 200
    assert ex.warnings == ["PDF has 205 pages; only the first 200 were read"]
    with pytest.raises(D.DocumentError, match="^timeout"):
        D.extract(g.render_pdf(truth), timeout=0)


def test_mangled_files_never_escape_as_tracebacks(truth):
    rnd = random.Random(5)
    for data in (g.render_pdf(truth), g.render_docx(truth), g.render_xlsx(truth), g.render_xls(truth)):
        for _ in range(6):
            b = bytearray(data)
            for _ in range(20):
                b[rnd.randrange(len(b) // 8, len(b))] = rnd.randrange(256)
            try:
                D.extract(bytes(b), ocr=False, timeout=20)
            except D.DocumentError as e:
                assert "\n" not in str(e)


# --- sniffing --------------------------------------------------------------------------------------

def test_sniff(truth):
    doc_like = D._OLE + "WordDocument".encode("utf-16-le") + b"\0" * 100
    xls_like = D._OLE + "Workbook".encode("utf-16-le") + b"\0" * 100
    assert D.sniff(g.render_docx(truth), "x.pdf") == "docx"            # magic bytes beat the extension
    assert D.sniff(g.render_xlsx(truth)) == "xlsx"
    assert D.sniff(g.render_xls(truth)) == "xls"
    assert D.sniff(b"\r\n%PDF-1.7 ...") == "pdf"
    assert (D.sniff(doc_like), D.sniff(doc_like, "附件.WPS"), D.sniff(xls_like, "a.doc")) == ("doc", "wps", "xls")
    assert D.sniff(b"{\\rtf1\\ansi ...}") == "rtf"
    for magic in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM"):
        assert D.sniff(magic + b"\0" * 64) == "image"
    assert D.sniff(b"<!DOCTYPE html><html>", "report.pdf", "application/pdf") is None     # an error page
    assert D.sniff("政府信息公开工作年度报告".encode(), "report.doc") is None      # text, not a document
    assert D.sniff(b"\x01\x02\xfe\xff binary", "report.pdf?id=3") == "pdf"               # then corrupt
    assert D.sniff(b"\x01\x02\xfe\xff binary", "download.do", "application/msword") == "doc"
    assert D.sniff(b"\x01\x02\xfe\xff binary", "download.do") is None
