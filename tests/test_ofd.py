"""OFD (GB/T 33190) reports: text codes placed by their coordinates, ruled and unruled tables as pipe rows,
pages in document order, bad packages as warnings naming the carrier."""
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gikcrawl import documents as D
from gikcrawl.attachments import attachment_record
from gikfixtures import docgen, ofdgen, reportgen

SEED = "001_139d8c1b9095a66a"


def record(data: bytes) -> dict:
    return attachment_record(data, url="http://a.gov.cn/f/r.ofd", site_key=None, content_type="application/ofd",
                             warc=None)


@pytest.mark.parametrize("layout", [{}, {"one_code_rows": True}], ids=["cell-objects", "row-textcodes"])
def test_ruled_tables_read_exactly(layout):
    t = reportgen.make_report(301, "2021")
    doc = D.extract(ofdgen.render_ofd(t, **layout))
    assert doc.carrier == "ofd" and doc.pages >= 2 and doc.warnings == []
    assert "| 规章 | 153 | 21 | 67 |" in doc.lines                 # a cell per TextObject, placed in its grid cell
    rec = record(ofdgen.render_ofd(t, **layout))
    assert docgen.field_accuracy(t, rec) == (200, 200)
    assert rec["tables"] == t.tables and rec["title"] == t.title and rec["carrier"] == "ofd"
    assert not rec["warnings"]


@pytest.mark.parametrize("fmt,seed", [("2019", 77), ("legacy", 78)])
def test_other_templates(fmt, seed):
    t = reportgen.make_report(seed, fmt)
    rec = record(ofdgen.render_ofd(t))
    got, total = docgen.field_accuracy(t, rec)
    assert got == total > 0, rec["warnings"]


def test_tables_broken_over_pages_are_one_table():
    """Word-made OFDs break long tables over pages (a span cut in two boxes, the header maybe repeated):
    the figures come out whole either way."""
    broken = repeated = 0
    for seed in range(2000, 2012):
        for fmt in ("2021", "legacy"):
            t = reportgen.make_report(seed, fmt, blanks=seed % 3 == 0, distinct=seed % 2 == 0)
            for repeat in (False, True):
                data, stats = ofdgen.render(t, repeat_header=repeat)
                broken, repeated = broken + stats["broken"], repeated + stats["repeated"]
                got, total = docgen.field_accuracy(t, record(data))
                assert got == total, (seed, fmt, repeat)
    assert broken >= 6 and repeated >= 1
    # the repeated header row is dropped, and a last row alone on its page stays a row of the table
    t = reportgen.make_report(2099, "legacy", blanks=2099 % 3 == 0, distinct=2099 % 2 == 0)
    data, stats = ofdgen.render(t, repeat_header=True)
    assert stats["repeated"] == 1
    assert D.extract(data).lines == D.extract(ofdgen.render_ofd(t)).lines
    assert "| （三）接受培训人员数 | 人次 |  |" in D.extract(ofdgen.render_ofd(t)).lines


def test_a_real_reports_tables(shared_dir):
    """Seed 001's figures (shared/seeds), laid out as an OFD writer would: the record has them all."""
    expected = shared_dir / "seeds" / "expected" / f"{SEED}.json"
    t = ofdgen.seed_truth(expected)
    rec = record(ofdgen.render_ofd(t))
    assert rec["tables"] == json.loads(expected.read_text(encoding="utf-8"))["tables"]
    assert rec["title"] == t.title and rec["agency"] == t.agency and rec["year"] == 2021


def test_pages_in_document_order_not_zip_order():
    t = reportgen.make_report(302, "2021")
    data = ofdgen.render_ofd(t)
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in reversed(src.namelist()):         # writers do not store parts in page order
            z.writestr(name, src.read(name))
    lines = D.extract(buf.getvalue()).lines
    assert lines == D.extract(data).lines
    heads = [next(n for n, x in enumerate(lines) if x.startswith(h)) for h in t.sections]
    assert heads == sorted(heads) and lines[0] == t.title


def test_unruled_tables_never_silently_wrong():
    """Without rulings only gaps show the columns: what is read is right, what is not is null and warned."""
    t = reportgen.make_report(303, "2021")
    rec = record(ofdgen.render_ofd(t, ruled=False))
    want, got = docgen.table_cells(t.tables), docgen.table_cells(rec["tables"])
    wrong = {k: (v, want.get(k)) for k, v in got.items() if v is not None and want.get(k) != v}
    assert not wrong
    right = sum(got.get(k) == v for k, v in want.items())
    assert right >= 100                           # active disclosure, review, most application rows
    if right < len(want):
        assert any("left null" in w or "not found" in w for w in rec["warnings"])


@pytest.mark.parametrize("make,reason", [
    (lambda t: ofdgen.not_a_zip(), "not a valid zip package"),
    (ofdgen.missing_document, "Doc_9/Document.xml is missing"),
    (lambda t: ofdgen.zip_bomb(), "zip bomb"),
    (ofdgen.encrypted, "encrypted OFD"),
    (ofdgen.signed_only, "signed OFD with no text layer"),
    (lambda t: ofdgen.package(["<ofd:Page xmlns:ofd='x'><ofd:Content>"]), "is not XML"),
    (lambda t: ofdgen.package([ofdgen._page_xml([], 1, None)], doc_root=" "), "names no DocRoot"),
], ids=["not-zip", "missing-part", "zip-bomb", "encrypted", "signed-only", "bad-xml", "bad-root"])
def test_bad_packages_are_warnings_naming_ofd(make, reason):
    t = reportgen.make_report(304, "2021")
    rec = record(make(t))
    assert rec["tables"] == {} and rec["format"] == "unknown"
    assert len(rec["warnings"]) == 1
    w = rec["warnings"][0]
    assert w.startswith("OFD attachment http://a.gov.cn/f/r.ofd: ") and reason in w, w


def test_one_bad_page_leaves_the_others_read():
    t = reportgen.make_report(307, "2021")
    src = zipfile.ZipFile(io.BytesIO(ofdgen.render_ofd(t)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            z.writestr(name, b"\x00garbage" if name.endswith("Page_2/Content.xml") else src.read(name))
    rec = record(buf.getvalue())
    assert rec["title"] == t.title and rec["tables"]["active_disclosure"] == t.tables["active_disclosure"]
    assert "OFD attachment http://a.gov.cn/f/r.ofd: page 3: corrupt OFD: part Doc_0/Pages/Page_2/Content.xml " \
           "is not XML" in rec["warnings"]


def test_hostile_glyph_advances_are_bounded():
    page = ofdgen._page_xml(['<ofd:TextObject ID="1" Boundary="20 20 100 10" Size="4"><ofd:TextCode X="0" Y="4" '
                             'DeltaX="g 999999999999 4 g 1e400 2">第一页</ofd:TextCode></ofd:TextObject>'], 1, None)
    assert D.extract(ofdgen.package([page])).lines == ["第一页"]


def test_a_scan_saved_as_ofd_is_ocred_only_when_ocr_is_on():
    t = reportgen.make_report(305, "2021")
    png = docgen.render_image(t)
    with pytest.raises(D.DocumentError, match="OFD has no text"):
        D.extract(ofdgen.scanned(png), ocr=False)
    if not shutil.which("tesseract"):
        pytest.skip("tesseract not installed")
    rec = record(ofdgen.scanned(png))                  # ~40 s: tesseract reads the page image
    assert rec["carrier"] == "ofd-ocr" and rec["ocr_confidence"] is not None
    got, total = docgen.field_accuracy(t, rec, only=("applications",))
    assert got >= 0.9 * total
    assert any("OCRed" in w for w in rec["warnings"]) and any("OCR" in w and "check" in w for w in rec["warnings"])


def test_gikcrawl_parse_reads_an_ofd_file(tmp_path):
    t = reportgen.make_report(306, "2021")
    path = tmp_path / "年报.ofd"
    path.write_bytes(ofdgen.render_ofd(t))
    out = tmp_path / "out.jsonl"
    run = subprocess.run([str(Path(sys.executable).parent / "gikcrawl"), "parse", str(path), "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["tables"] == t.tables and rec["figures_from"]["carrier"] == "ofd"
    assert rec["source"]["path"] == str(path)
