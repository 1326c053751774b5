"""Reports published as attachments, crawled: one record per report whatever the carriers."""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gikfixtures import docgen, reportgen
from gikfixtures.replica import Page, ReplicaServer, Site

from crawl_helpers import by_path, crawl, minimal_entry, write_sites

HTML = "text/html; charset=utf-8"
MIME = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def page_with_link(title, href, text):
    return (f"<html><head><meta charset='utf-8'><title>{title}_青山县人民政府</title></head><body><h1>{title}</h1>"
            f"<div class='TRS_Editor'><p>详见附件。</p><p>附件：<a href='{href}'>{text}</a></p></div></body></html>")


@pytest.fixture(scope="module")
def att_site():
    t = {k: reportgen.make_report(seed, "2021") for k, seed in (("a", 301), ("b", 302), ("c", 303), ("d", 304),
                                                                    ("e", 305))}
    site = Site("att", "attachments", "/att/")
    p = lambda rel: f"/att/{rel}"
    pages = {
        p("gknb/a.html"): (reportgen.render_html(t["a"]).replace("</body>", f"<p>附件：<a href='{p('files/a.docx')}'>"
                                                                   f"{t['a'].title}.docx</a></p></body>"), HTML),
        p("files/a.docx"): (docgen.render_docx(t["a"]), MIME["docx"]),
        p("gknb/b.html"): (page_with_link(t["b"].title, p("files/b.pdf"), t["b"].title + ".pdf"), HTML),
        p("files/b.pdf"): (docgen.render_pdf(t["b"]), MIME["pdf"]),
        p("files/c.xlsx"): (docgen.render_xlsx(t["c"]), MIME["xlsx"]),
        p("gknb/e.html"): (page_with_link(t["e"].title, p("files/e.pdf"), t["e"].title + ".pdf"), HTML),
        p("files/e.pdf"): (docgen.encrypted_pdf(t["e"]), MIME["pdf"]),
    }
    # d: the page and its PDF disagree on one figure
    wrong = json.loads(json.dumps(t["d"].tables))
    wrong["applications"]["granted"]["natural_person"] += 1
    pages[p("gknb/d.html")] = (reportgen.render_html(t["d"]).replace(
        "</body>", f"<p>附件：<a href='{p('files/d.pdf')}'>{t['d'].title}.pdf</a></p></body>"), HTML)
    pages[p("files/d.pdf")] = (docgen.render_pdf(dataclasses.replace(t["d"], tables=wrong)), MIME["pdf"])
    links = "".join(f"<li><a href='{p(f'gknb/{k}.html')}'>{t[k].title}</a></li>" for k in "abde")
    links += f"<li><a href='{p('files/c.xlsx')}'>{t['c'].title}</a></li>"
    pages[p("gknb/index.html")] = (f"<html><body><h2>政府信息公开年报</h2><ul>{links}</ul></body></html>", HTML)
    for path, (body, ctype) in pages.items():
        site.pages[path] = Page(200, {"Content-Type": ctype}, body.encode("utf-8") if isinstance(body, str) else body)
    site.start_path = p("gknb/index.html")
    return site, t


def test_one_record_per_report_whatever_the_carriers(att_site, tmp_path):
    site, t = att_site
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        items, log = crawl(tmp_path, yaml_path, site.key)
        got = by_path(items, server)
    assert set(got) == {"/att/gknb/a.html", "/att/gknb/b.html", "/att/files/c.xlsx", "/att/gknb/d.html",
                        "/att/gknb/e.html"}
    a = got["/att/gknb/a.html"]                     # page + DOCX: figures from the page, both carriers listed
    assert a["tables"] == t["a"].tables and a["figures_from"]["carrier"] == "html"
    assert [c["carrier"] for c in a["carriers"]] == ["html", "docx"]
    assert not any("disagree" in w for w in a["warnings"])
    b = got["/att/gknb/b.html"]                     # page without text: figures from its PDF
    assert b["tables"] == t["b"].tables and b["figures_from"]["carrier"] == "pdf" and b["format"] == "2021"
    assert b["title"] == t["b"].title
    c = got["/att/files/c.xlsx"]                    # a report published only as a spreadsheet
    assert c["tables"] == t["c"].tables and c["title"] == t["c"].title and c["carriers"][0]["carrier"] == "xlsx"
    d = got["/att/gknb/d.html"]                     # carriers disagree: the page wins, the record says so
    assert d["tables"] == t["d"].tables
    assert any("carriers disagree" in w and "applications.granted.natural_person" in w for w in d["warnings"])
    e = got["/att/gknb/e.html"]                     # an encrypted PDF: a warning, the file still archived
    assert any("encrypted" in w for w in e["warnings"])
    assert "'gikcrawl/attachments': 5" in log
    replayed = tmp_path / "replayed.jsonl"
    run = subprocess.run([str(Path(sys.executable).parent / "gikcrawl"), "replay", str(tmp_path / "archive"),
                          "-o", str(replayed), "--config", str(yaml_path), "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    again = {json.loads(line)["source"]["url"]: json.loads(line) for line in replayed.read_text().splitlines()}
    assert again == {i["source"]["url"]: i for i in items}           # replay merges the same way


def test_ofd_attachments_are_archived_and_their_figures_reach_the_record(tmp_path):
    """A report page whose figures are only in its .ofd attachment, and a report published only as an OFD
    file: both crawled, archived, read by the OFD extractor, and replayed the same way."""
    from warcio.archiveiterator import ArchiveIterator

    from gikfixtures import ofdgen
    g, h = reportgen.make_report(311, "2021"), reportgen.make_report(312, "2021")
    site = Site("ofd", "ofd", "/ofd/")
    pages = {
        "/ofd/gknb/g.html": (page_with_link(g.title, "/ofd/files/g.ofd", g.title + ".ofd").encode("utf-8"), HTML),
        "/ofd/files/g.ofd": (ofdgen.render_ofd(g), "application/ofd"),
        "/ofd/files/h.ofd": (ofdgen.render_ofd(h, one_code_rows=True), "application/octet-stream"),
        "/ofd/gknb/index.html": (f"<html><body><h2>政府信息公开年报</h2><ul><li><a href='/ofd/gknb/g.html'>{g.title}"
                                 f"</a></li><li><a href='/ofd/files/h.ofd'>{h.title}</a></li></ul></body></html>"
                                 .encode("utf-8"), HTML),
    }
    for path, (body, ctype) in pages.items():
        site.pages[path] = Page(200, {"Content-Type": ctype}, body)
    site.start_path = "/ofd/gknb/index.html"
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        items, log = crawl(tmp_path, yaml_path, site.key)
        got = by_path(items, server)
    assert set(got) == {"/ofd/gknb/g.html", "/ofd/files/h.ofd"}
    page = got["/ofd/gknb/g.html"]
    assert page["tables"] == g.tables and page["figures_from"]["carrier"] == "ofd"
    assert page["figures_from"]["url"].endswith("/ofd/files/g.ofd") and page["title"] == g.title
    ofd = next(c for c in page["carriers"] if c["carrier"] == "ofd")
    with open(tmp_path / "archive" / ofd["warc_file"], "rb") as f:      # the OFD's own bytes are archived
        f.seek(ofd["warc_offset"])
        rec = next(iter(ArchiveIterator(f)))
        assert rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI") == ofd["url"]
        assert rec.content_stream().read() == pages["/ofd/files/g.ofd"][0]
    alone = got["/ofd/files/h.ofd"]
    assert alone["tables"] == h.tables and alone["title"] == h.title and alone["carriers"][0]["carrier"] == "ofd"
    replayed = tmp_path / "replayed.jsonl"
    run = subprocess.run([str(Path(sys.executable).parent / "gikcrawl"), "replay", str(tmp_path / "archive"),
                          "-o", str(replayed), "--config", str(yaml_path), "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    again = {json.loads(line)["source"]["url"]: json.loads(line) for line in replayed.read_text().splitlines()}
    assert again == {i["source"]["url"]: i for i in items}
