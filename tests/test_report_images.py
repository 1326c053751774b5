"""Images that carry a report are fetched, archived with their page as referer, OCRed into the record, and
merged alike by `gikcrawl replay`."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from crawl_helpers import crawl, minimal_entry, write_sites
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from gikfixtures import docgen, reportgen
from gikfixtures.replica import Page, ReplicaServer, build_site
from gikcrawl.report_images import carrier_links, report_images

PAGE = """<html><body><div class="header"><img src="/images/logo.png" width="600"/></div>
<div id="zoom"><p>{text}</p><p><img src="/upload/report-1.jpg" width="900"/></p>
<img src="/upload/icon_pdf.gif"/><img src="/upload/dot.png" width="16" height="16"/>
<img src="data:image/png;base64,AAAA"/><p><img src="report-2.png" alt="第二页"/></p></div>
<div class="footer"><img src="/images/ewm.jpg"/></div></body></html>"""


def test_only_the_content_containers_images_count():
    sel = Selector(text=PAGE.format(text="（图片版）"))
    links = report_images(sel, "http://x.gov.cn/art/2023/1/1/art_1.html")
    assert [(link.url, link.text) for link in links] == [("http://x.gov.cn/upload/report-1.jpg", ""),
                                                         ("http://x.gov.cn/art/2023/1/1/report-2.png", "第二页")]


def test_images_are_carriers_only_when_the_page_text_has_no_tables():
    sel = Selector(text=PAGE.format(text="正文"))
    base = "http://x.gov.cn/a.html"
    assert len(carrier_links(sel, base, None, {"tables": {}})) == 2
    assert carrier_links(sel, base, None, {"tables": {"applications": {"received": {"natural": 1}}}}) == []


@pytest.fixture(scope="module")
def image_crawl(tmp_path_factory):
    if not docgen.cjk_font_path():
        pytest.skip("no CJK font (fonts-wqy-zenhei) to render the report image")
    tmp = tmp_path_factory.mktemp("images")
    site = build_site("hanweb", seed=21, n_reports=6)
    truth = reportgen.make_report(17, "2021")
    png_path = site.roles["image"]
    with ReplicaServer(site) as server:
        server.mutate(site, png_path, Page(200, {"Content-Type": "image/png"}, docgen.render_image(truth, "applications")))
        yaml_path = write_sites(tmp / "sites.yaml", {site.key: minimal_entry(server, site)})
        items, log = crawl(tmp, yaml_path, site.key)
        (tmp / "crawl.log").write_text(log, encoding="utf-8")
        yield server, site, truth, items, tmp


def test_image_only_report_is_fetched_archived_and_ocred(image_crawl):
    server, site, truth, items, tmp = image_crawl
    page_url, png_url = server.base_url + site.roles["image_only"], server.base_url + site.roles["image"]
    item = next(i for i in items if i["source"]["url"] == page_url)
    assert [c["carrier"] for c in item["carriers"]] == ["html", "image"]
    assert item["figures_from"] == {"carrier": "image", "url": png_url}
    assert item["ocr_confidence"] and any("read by OCR" in w for w in item["warnings"])
    ok, total = docgen.field_accuracy(truth, item, ("applications",))
    assert total == 175 and ok / total >= 0.9, (ok, total)
    refs = []
    for w in (tmp / "archive").glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI") == png_url:
                    refs.append((rec.rec_headers.get_header("WARC-Gikcrawl-Kind"),
                                 rec.rec_headers.get_header("WARC-Gikcrawl-Referer")))
    assert refs == [("attachment", page_url)]


def test_replay_merges_the_image_alike(image_crawl):
    server, site, _, items, tmp = image_crawl
    out = tmp / "replayed.jsonl"
    run = subprocess.run([str(Path(sys.executable).parent / "gikcrawl"), "replay", str(tmp / "archive"), "-o", str(out),
                          "-q"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    page_url = server.base_url + site.roles["image_only"]
    live = next(i for i in items if i["source"]["url"] == page_url)
    replayed = next(r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())
                    if r["source"]["url"] == page_url)
    assert replayed["tables"] == live["tables"] and replayed["carriers"] == live["carriers"]


def test_images_too_small_to_carry_a_report_are_not_ocred():
    from gikcrawl.attachments import attachment_record
    from gikfixtures.replica import tiny_png
    from gikcrawl.report_images import too_small
    assert too_small(tiny_png(24, 16)) == "image of 24x16 px is too small to carry a report; not OCRed"
    assert too_small(tiny_png(800, 600)) is None and too_small(b"not an image") is None
    rec = attachment_record(tiny_png(), url="http://x.gov.cn/a.png", site_key=None, content_type="image/png", warc=None)
    assert rec["warnings"] == ["IMAGE attachment http://x.gov.cn/a.png: image of 24x16 px is too small to carry a "
                               "report; not OCRed; it gave no figures"]
    assert rec["tables"] == {} and rec["carrier"] == "image"
