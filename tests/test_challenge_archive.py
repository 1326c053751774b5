"""The browser's own responses while it passes a JavaScript challenge are archived: the challenge page it
was sent and the page it reloaded into, each as a response record with its request."""
from crawl_helpers import crawl, minimal_entry, write_sites
from warcio.archiveiterator import ArchiveIterator

from gikfixtures.jsreplica import build_js_site
from gikfixtures.replica import ReplicaServer


def test_challenge_pass_archives_the_browsers_responses(tmp_path):
    site = build_js_site("challenge")
    with ReplicaServer(site) as server:
        crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}), site.key)
        start = server.url(site, site.start_path)
    browser = []
    for w in (tmp_path / "archive").glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                rendered = rec.rec_headers.get_header("WARC-Gikcrawl-Rendered") or ""
                if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI") == start and rendered:
                    browser.append((int(rec.http_headers.get_statuscode()), rendered, rec.content_stream().read()))
    statuses = sorted(s for s, _, _ in browser)
    assert statuses == [200, 412], browser                  # the challenge, then the page after the reload
    page = next(b for s, r, b in browser if s == 200)
    assert page == site.pages[site.start_path].body         # the body the server sent to the browser
    assert any("challenge" in r for s, r, _ in browser if s == 200)
