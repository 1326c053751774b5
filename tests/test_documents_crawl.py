"""Documents in a crawl: viewer links fetched as the document they show, every file classified by what the
response is (magic bytes, Content-Type, Content-Disposition) and archived with its referer, and carrier
warnings that say where they come from."""
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from crawl_helpers import by_path, crawl, minimal_entry, write_sites
from warcio.archiveiterator import ArchiveIterator

from gikcrawl.attachments import attachment_record, merge, response_carrier
from gikcrawl.extract import report_record
from gikfixtures import docgen, reportgen
from gikfixtures.replica import Page, ReplicaServer, Site, tiny_pdf, tiny_png

HTML = "text/html; charset=utf-8"
VIEWER = "/dv/static/pdfjs/web/viewer.html"


def _page(title: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_青山县人民政府</title></head><body><h1>{title}</h1>"
            f"<div class='TRS_Editor'>{body}</div></body></html>").encode()


def _hotlinked(data: bytes, viewer_path: str):
    """A file served only to its viewer (hotlink protection, as many gov file servers do)."""
    def handle(method, query, body, headers):
        if viewer_path not in (headers.get("Referer") or ""):
            return Page(403, {"Content-Type": HTML}, b"<h1>403 Forbidden</h1>")
        return Page(200, {"Content-Type": "application/pdf"}, data)
    handle.wants_headers = True
    return handle


@pytest.fixture(scope="module")
def doc_site():
    t = {k: reportgen.make_report(seed, "2021") for k, seed in (("a", 401), ("b", 402), ("c", 403), ("d", 404),
                                                                    ("e", 405))}
    site = Site("dv", "documents", "/dv/")
    pages = {
        # a report page showing its PDF through pdf.js (file= percent-encoded, relative to the viewer)
        "/dv/gknb/a.html": (200, HTML, _page(t["a"].title, f"<p>详见：<a href='{VIEWER}?file="
                                                          f"{quote('../../../upload/2024/a.pdf', safe='')}'>在线查看</a></p>")),
        # a report published only as a file, linked from the list through the viewer / a download endpoint
        "/dv/upload/b.pdf": (200, "application/pdf", docgen.render_pdf(t["b"])),
        "/dv/download": (200, "application/octet-stream", docgen.render_pdf(t["c"])),
        "/dv/show": (200, "image/jpeg", tiny_png()),
        # a report link whose server calls its PDF text/html: the bytes decide
        "/dv/gknb/e.html": (200, HTML, docgen.render_pdf(t["e"])),
    }
    for path, (status, ctype, body) in pages.items():
        headers = {"Content-Type": ctype}
        if path == "/dv/download":
            headers["Content-Disposition"] = 'attachment; filename="c.pdf"'
        site.pages[path] = Page(status, headers, body)
    site.handlers["/dv/upload/2024/a.pdf"] = _hotlinked(docgen.render_pdf(t["a"]), VIEWER)
    links = [("/dv/gknb/a.html", t["a"].title), (f"{VIEWER}?file=/dv/upload/b.pdf", t["b"].title),
             ("/dv/download?id=3", t["c"].title), ("/dv/show?id=4", t["d"].title), ("/dv/gknb/e.html", t["e"].title)]
    lis = "".join(f"<li><a href='{href}'>{title}</a></li>" for href, title in links)
    site.pages["/dv/gknb/index.html"] = Page(200, {"Content-Type": HTML},
                                             f"<html><body><h2>政府信息公开年报</h2><ul>{lis}</ul></body></html>".encode())
    site.start_path = "/dv/gknb/index.html"
    return site, t


def _warc_fields(archive: Path) -> dict:
    out = {}
    for w in archive.glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "response":
                    h = rec.rec_headers
                    out[h.get_header("WARC-Target-URI")] = (h.get_header("WARC-Gikcrawl-Kind"),
                                                            h.get_header("WARC-Gikcrawl-Referer"))
    return out


def test_viewer_documents_and_files_by_response(doc_site, tmp_path):
    site, t = doc_site
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        items, _ = crawl(tmp_path, yaml_path, site.key)
        got = by_path(items, server)
        requested = [path for _, path in server.access_log]
        base = server.base_url
    assert not any(p.startswith(VIEWER) for p in requested)          # the viewer page is never fetched as a report
    assert set(got) == {"/dv/gknb/a.html", "/dv/upload/b.pdf", "/dv/download?id=3", "/dv/show?id=4",
                        "/dv/gknb/e.html"}
    a = got["/dv/gknb/a.html"]           # the PDF behind the viewer was fetched (with the viewer as Referer)
    assert a["tables"] == t["a"].tables
    assert a["figures_from"] == {"carrier": "pdf", "url": base + "/dv/upload/2024/a.pdf"}
    for key, path in (("b", "/dv/upload/b.pdf"), ("c", "/dv/download?id=3"), ("e", "/dv/gknb/e.html")):
        assert got[path]["tables"] == t[key].tables and got[path]["title"] == t[key].title, path
        assert got[path]["figures_from"]["carrier"] == "pdf"
    d = got["/dv/show?id=4"]             # an image report without figures: kept under its link's title
    assert d["carriers"][0]["carrier"] == "image" and d["figures_from"] is None
    fields = _warc_fields(tmp_path / "archive")
    list_url = base + "/dv/gknb/index.html"
    assert fields[base + "/dv/upload/2024/a.pdf"] == ("attachment", base + "/dv/gknb/a.html")
    for path in ("/dv/upload/b.pdf", "/dv/download?id=3", "/dv/show?id=4", "/dv/gknb/e.html"):
        assert fields[base + path] == ("attachment", list_url), path
    assert fields[list_url][1] is None and fields[base + "/dv/gknb/a.html"] == ("report", None)
    replayed = tmp_path / "replayed.jsonl"
    run = subprocess.run([str(Path(sys.executable).parent / "gikcrawl"), "replay", str(tmp_path / "archive"),
                          "-o", str(replayed), "--config", str(yaml_path), "-q"], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    again = {json.loads(line)["source"]["url"]: json.loads(line) for line in replayed.read_text().splitlines()}
    assert again == {i["source"]["url"]: i for i in items}


@pytest.mark.parametrize("body,url,ctype,disposition,carrier", [
    (b"%PDF-1.7\n...", "http://a/x.html", "text/html", None, "pdf"),             # magic bytes beat the type
    (b"\x89PNG\r\n\x1a\n....", "http://a/show?id=1", "application/octet-stream", None, "image"),
    (b"\x00\x01binary", "http://a/download?id=1", "application/octet-stream", b'attachment; filename="r.xls"', "xls"),
    (b"<html><body>404</body></html>", "http://a/r.pdf", "application/pdf", None, None),   # HTML named .pdf
    (b"<html><body>report</body></html>", "http://a/r.html", "text/html", None, None),
])
def test_response_carrier(body, url, ctype, disposition, carrier):
    assert response_carrier(body, url, ctype, disposition) == carrier


def test_gzip_encoded_pdf_is_seen_as_pdf():
    import gzip
    assert response_carrier(gzip.compress(b"%PDF-1.4\n" + b"x" * 5000), "http://a/r", "text/html", None,
                            b"gzip") == "pdf"


def test_warnings_of_a_carrier_name_it_and_say_whether_it_gave_the_figures():
    """A complete HTML record with a stub attachment: no bare parser warning reaches the record."""
    t = reportgen.make_report(31, "2021")
    page = report_record(reportgen.render_html(t), url="http://a.gov.cn/gknb/1.html", site=None,
                         fetched_at="2024-01-01T00:00:00Z")
    assert not page["warnings"]
    stub = attachment_record(tiny_pdf(), url="http://a.gov.cn/f/1.pdf", site_key=None,
                             content_type="application/pdf", warc=None)
    broken = attachment_record(b"%PDF-1.4 garbage", url="http://a.gov.cn/f/2.pdf", site_key=None,
                               content_type="application/pdf", warc=None)
    merged = merge(page, [stub, broken])
    assert merged["tables"] == t.tables and merged["figures_from"]["carrier"] == "html"
    assert merged["warnings"], "the attachments' problems are kept"
    for w in merged["warnings"]:
        assert w.startswith(("PDF attachment http://a.gov.cn/f/1.pdf: ", "PDF attachment http://a.gov.cn/f/2.pdf: "))
        assert w.endswith("[gave no figures, the record's come from HTML http://a.gov.cn/gknb/1.html]"), w
    alone = merge(None, [stub])          # a file standing alone says it gave nothing
    assert alone["warnings"] and all(w.endswith("[no carrier gave figures]") for w in alone["warnings"])

