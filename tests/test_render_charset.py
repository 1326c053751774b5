"""Rendered pages decoded by the plain path's policy: a gb18030 site whose pages declare utf-8 (a real
pattern), crawled with render: true, gives every report parsed; browser requests to other hosts are
aborted and counted."""
from dataclasses import replace

from crawl_helpers import (
    assert_matches_truth,
    by_path,
    crawl,
    minimal_entry,
    write_sites,
)

from gikcrawl.browser import corrected_content_type
from gikfixtures.jsreplica import build_js_site
from gikfixtures.replica import ReplicaServer


def lying_gb18030(site, offsite_url: str):
    """Every HTML page re-encoded as gb18030, its <meta charset="utf-8"> kept, no charset in the header; the
    list page also loads an image and a script from another host."""
    for path, page in list(site.pages.items()):
        if not page.headers.get("Content-Type", "").startswith("text/html"):
            continue
        html = page.body.decode("utf-8")
        assert 'charset="utf-8"' in html.lower() or "charset=utf-8" in html.lower(), path
        if path == site.start_path:
            html = html.replace("</body>", f'<img src="{offsite_url}logo.png"><script src="{offsite_url}t.js">'
                                           f'</script></body>')
        site.pages[path] = replace(page, headers={"Content-Type": "text/html"}, body=html.encode("gb18030"))
    return site


def test_policy_corrects_a_lying_declaration():
    body = '<html><head><meta charset="utf-8"></head><body>政府信息公开工作年度报告</body></html>'
    assert corrected_content_type(body.encode("gb18030"), "text/html") == "text/html; charset=gb18030"
    assert corrected_content_type(body.encode("utf-8"), "text/html; charset=gbk") == "text/html; charset=utf-8"
    assert corrected_content_type(b"\x89PNG\r\n\x1a\n\x00\x00", "image/png") is None


def test_rendered_gb18030_site_with_utf8_meta_parses_every_report(tmp_path):
    with ReplicaServer() as offsite:
        site = lying_gb18030(build_js_site("inline", key="lying"), f"http://localhost:{offsite.port}/")
        with ReplicaServer(site) as server:
            entry = dict(minimal_entry(server, site), render=True)
            items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: entry}), site.key)
        got = by_path(items, server)
        assert set(got) == set(site.reports)                 # every report parsed, none in mojibake
        for path, truth in site.reports.items():
            assert_matches_truth(got[path], truth)
        assert offsite.access_log == []                      # the other host's image and script: aborted
    assert "'gikcrawl/browser/aborted_offsite': 2" in log
    assert f"'gikcrawl/browser/charset_corrected': {len(site.reports) + 1}" in log
