"""The carrier table: every carrier's extension, MIME type and magic bytes lead back to it, discovery
follows exactly the extensions it lists, and what a response is comes from its bytes before its URL."""
import importlib
import io
import zipfile

import pytest
from scrapy.http import Request, Response

from gikcrawl import carriers as C
from gikcrawl.attachments import DocumentKindMiddleware, merge
from gikcrawl.discovery import is_attachment_url
from gikfixtures import docgen, ofdgen, reportgen

BINARY = b"\x01\x02\xfe\xff binary payload \x00\x9c"


@pytest.fixture(scope="module")
def samples():
    t = reportgen.make_report(41, "2021")
    return {  # one real file per sniffable carrier, with the name it would be published under
        "pdf": (b"\r\n%PDF-1.7\n" + b"1 0 obj\n" * 20, "r.pdf"),
        "docx": (docgen.render_docx(t), "r.docx"),
        "xlsx": (docgen.render_xlsx(t), "r.xlsx"),
        "ofd": (ofdgen.render_ofd(t), "r.ofd"),
        "xls": (docgen.render_xls(t), "r.xls"),
        "doc": (C.OLE + "WordDocument".encode("utf-16-le") + b"\0" * 600, "r.doc"),
        "wps": (C.OLE + "WordDocument".encode("utf-16-le") + b"\0" * 600, "r.wps"),
        "rtf": (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}}", "r.rtf"),
        "image": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "r.png"),
    }


def test_every_sniffable_carrier_has_a_sample_and_its_bytes_name_it(samples):
    sniffable = {c.name for c in C.CARRIERS if c.magic}
    assert sniffable == set(samples), "a carrier was added without a sample here"
    for name, (data, filename) in samples.items():
        assert C.sniff(data, filename) == name, name
        if name not in ("wps",):            # WPS and DOC share their bytes: only the name tells them apart
            assert C.sniff(data) == name, name
            assert C.sniff(data, "download.do", "application/octet-stream") == name, name


def test_prefix_magics_round_trip():
    for c in C.CARRIERS:
        if c.container is None:
            for magic in c.magic:
                assert C.sniff(magic + b"\0" * 64) == c.name, (c.name, magic)


def test_every_extension_and_mime_type_names_its_carrier():
    for c in C.CARRIERS:
        for ext in c.extensions:
            assert C.by_extension(ext) is c and C.by_extension(f"/a/附件.{ext.upper()}?x=1") is c
            assert C.sniff(BINARY, f"report.{ext}") == c.name       # bytes say nothing: the name does
        for mime in c.mime_types:
            assert C.by_content_type(f"{mime}; charset=binary") is c
            assert C.sniff(BINARY, "download.do", mime) == c.name
    assert C.sniff(BINARY, "download.do") is None
    assert C.by_content_type("text/html") is None and C.by_extension("html") is None


def test_no_extension_or_mime_type_is_claimed_twice():
    exts = [e for c in C.CARRIERS for e in c.extensions]
    mimes = [m for c in C.CARRIERS for m in c.mime_types]
    assert len(exts) == len(set(exts)) and len(mimes) == len(set(mimes))


def test_extractors_resolve_and_ranks_order_merge():
    for c in C.CARRIERS:
        if c.extractor is not None:
            assert callable(getattr(importlib.import_module(c.extractor.module), c.extractor.name)), c.name
        assert C.rank(c.name) == c.rank
    assert C.get("html").extractor is None and C.rank("html") == 0 and C.rank("nonesuch") == C.UNRANKED
    assert C.rank("ofd") == C.rank("pdf") < C.rank("ofd-ocr") == C.rank("pdf-ocr")
    # merge takes the best-ranked carrier that has tables
    table = {"applications": {"granted": {"total": 1}}}

    def rec(url, carrier):
        return {"source": {"url": url}, "tables": table, "warnings": [], "format": "2021", "checks": [],
                "script_normalized": False, "sections": [], "carrier": carrier, "title": None}
    merged = merge(None, [rec("http://a/1.ofd", "ofd"), rec("http://a/2.png", "image"), rec("http://a/3.xls", "xls")])
    assert merged["figures_from"] == {"carrier": "xls", "url": "http://a/3.xls"}


def test_discovery_follows_exactly_the_listed_extensions():
    followed = set(C.followed_extensions())
    assert followed == {e for c in C.CARRIERS if c.followed for e in c.extensions}
    assert "ofd" in followed and not followed & set(C.get("image").extensions)   # images: from the container
    for c in C.CARRIERS:
        for ext in c.extensions:
            for url in (f"http://a.gov.cn/f/report.{ext}", f"http://a.gov.cn/f/R.{ext.upper()}?v=2",
                        f"http://a.gov.cn/download.jsp?filename=年报.{ext}"):
                assert is_attachment_url(url) == c.followed, url
    for url in ("http://a.gov.cn/a.html", "http://a.gov.cn/a.zip", "http://a.gov.cn/a.txt", "http://a.gov.cn/a.docs",
                "http://a.gov.cn/pdf/index.html"):
        assert not is_attachment_url(url), url


def test_a_pdf_behind_an_html_url_is_a_pdf():
    body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"x" * 500
    assert C.of_response(body, "http://a.gov.cn/art/2022/1/1/art_1_2.html", "text/html; charset=utf-8") == "pdf"
    req = Request("http://a.gov.cn/art/2022/1/1/art_1_2.html", meta={"kind": "report"})
    resp = Response(req.url, body=body, headers={"Content-Type": "text/html"}, request=req)
    DocumentKindMiddleware().process_response(req, resp)
    assert req.meta["kind"] == "attachment" and req.meta["linked_as"] == "report"
    page = Request("http://a.gov.cn/r.pdf", meta={"kind": "report"})       # an HTML page at a .pdf URL
    DocumentKindMiddleware().process_response(page, Response(page.url, body=b"<html><body>x</body></html>",
                                                             headers={"Content-Type": "application/pdf"}))
    assert page.meta["kind"] == "report"


def test_truncated_and_foreign_zips():
    ofd = ofdgen.render_ofd(reportgen.make_report(42, "2021"))
    assert C.sniff(ofd[:8192], "report.ofd") == "ofd"      # the first bytes only: the name decides
    assert C.sniff(ofd[:8192], "report.zip") is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
    foreign = buf.getvalue()
    assert C.sniff(foreign, "report.ofd") is None            # a whole zip that is none of ours
