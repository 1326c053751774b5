"""One report builder for every path: the two cases NOTES.md listed where the live crawl and `gikcrawl
replay` disagreed now agree.

1. A document linked from a list page and also from a report page: live it used to depend on which came
   first; now the page's record lists it as a carrier and it is also a report of its own, live and replayed.
2. A `--refresh new` run does not fetch a known attachment again: live it used to be left out of the report
   that links it while replay merged its earlier capture; now the live crawl reads the earlier capture too.
"""
import json
import subprocess
import sys
from pathlib import Path

from crawl_helpers import assert_valid, by_path, crawl, minimal_entry, write_sites

from gikfixtures import docgen, reportgen
from gikfixtures.replica import Page, ReplicaServer, Site

GIKCRAWL = str(Path(sys.executable).parent / "gikcrawl")
HTML = "text/html; charset=utf-8"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0"]


def page(title, pdf):
    return Page(200, {"Content-Type": HTML}, (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
        f"<div class='TRS_Editor'><p>详见附件。</p><p>附件：<a href='{pdf}'>{title}.pdf</a></p></div>"
        f"</body></html>").encode())


def listing(*links):
    lis = "".join(f"<li><a href='{href}'>{text}</a></li>" for href, text in links)
    return Page(200, {"Content-Type": HTML}, f"<html><body><h2>政府信息公开年报</h2><ul>{lis}</ul></body></html>".encode())


def replayed(archive, yaml_path, tmp_path) -> dict:
    out = tmp_path / "replayed.jsonl"
    run = subprocess.run([GIKCRAWL, "replay", str(archive), "-o", str(out), "--config", str(yaml_path), "-q"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return {r["source"]["url"]: assert_valid(r) for r in map(json.loads, out.read_text("utf-8").splitlines())}


def test_a_document_linked_from_a_list_and_from_a_report_page(tmp_path):
    t = reportgen.make_report(401, "2021")
    site = Site("both", "agreement", "/both/")
    site.pages = {"/both/gknb/index.html": listing(("/both/gknb/p.html", t.title), ("/both/files/r.pdf", t.title)),
                  "/both/gknb/p.html": page(t.title, "/both/files/r.pdf"),
                  "/both/files/r.pdf": Page(200, {"Content-Type": "application/pdf"}, docgen.render_pdf(t))}
    site.start_path = "/both/gknb/index.html"
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        items, _ = crawl(tmp_path, yaml_path, site.key)
        got = by_path(items, server)
        fetched = [p for _, p in server.access_log if p == "/both/files/r.pdf"]
    assert set(got) == {"/both/gknb/p.html", "/both/files/r.pdf"}
    assert len(fetched) == 1                                        # read once for both
    merged, alone = got["/both/gknb/p.html"], got["/both/files/r.pdf"]
    assert [c["carrier"] for c in merged["carriers"]] == ["html", "pdf"] and merged["figures_from"]["carrier"] == "pdf"
    assert merged["tables"] == alone["tables"] == t.tables
    assert replayed(tmp_path / "archive", yaml_path, tmp_path) == {i["source"]["url"]: i for i in items}


def test_a_known_attachment_not_fetched_again_is_still_a_carrier(tmp_path):
    old, new = reportgen.make_report(402, "2021"), reportgen.make_report(403, "2021")
    site = Site("inc", "agreement", "/inc/")
    pdf = Page(200, {"Content-Type": "application/pdf"}, docgen.render_pdf(old))
    site.pages = {"/inc/gknb/index.html": listing(("/inc/gknb/a.html", old.title)),
                  "/inc/gknb/a.html": page(old.title, "/inc/files/shared.pdf"), "/inc/files/shared.pdf": pdf}
    site.start_path = "/inc/gknb/index.html"
    archive = tmp_path / "archive"
    with ReplicaServer(site) as server:
        server.etags = False            # no validators: a `--refresh new` run skips known attachments
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        first = subprocess.run([GIKCRAWL, "archive", "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}",
                                *FAST, "--refresh", "new"], capture_output=True, text=True, timeout=600)
        assert first.returncode == 0, first.stderr[-3000:]
        # the second run finds a new report page that links the attachment archived by the first
        server.mutate(site, "/inc/gknb/index.html", listing(("/inc/gknb/a.html", old.title),
                                                            ("/inc/gknb/b.html", new.title)))
        server.mutate(site, "/inc/gknb/b.html", page(new.title, "/inc/files/shared.pdf"))
        before = len(server.access_log)
        items, _ = _second_run(tmp_path, yaml_path, site.key, archive)
        second_fetches = [p for _, p in server.access_log[before:]]
        got = by_path(items, server)
    assert "/inc/files/shared.pdf" not in second_fetches            # not downloaded again
    b = got["/inc/gknb/b.html"]
    assert [c["carrier"] for c in b["carriers"]] == ["html", "pdf"] and b["tables"] == old.tables
    pdf_carrier = b["carriers"][1]
    first_capture = replayed(archive, yaml_path, tmp_path)["http://" + b["source"]["url"].split("/")[2] +
                                                          "/inc/gknb/a.html"]["carriers"][1]
    assert pdf_carrier["warc_file"] == first_capture["warc_file"]            # the first run's capture
    assert replayed(archive, yaml_path, tmp_path)[b["source"]["url"]] == b


def _second_run(tmp_path, yaml_path, key, archive):
    out = tmp_path / "second.jsonl"
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={key}",
                          "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}", *FAST,
                          "-s", "GIKCRAWL_REFRESH=new", "-O", str(out)],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return [assert_valid(json.loads(line)) for line in out.read_text("utf-8").splitlines()], run.stderr
