"""The replica sites themselves (gikfixtures.replica): built right, served right. No parser here."""
import gzip
import http.client
import re
import urllib.error
import urllib.request

import pytest

from gikfixtures.replica import (STYLES, Page, ReplicaServer, build_demo_site, build_large_site, build_site)
from gikfixtures.reportgen import ReportTruth


@pytest.fixture(scope="module")
def sites():
    return {style: build_site(style) for style in STYLES}


@pytest.fixture(scope="module")
def server(sites):
    with ReplicaServer(*sites.values()) as srv:
        yield srv


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, *, method="GET", data=None, headers=None, follow=True):
    """(status, headers, body bytes, final url) without raising on 4xx/3xx."""
    opener = urllib.request.build_opener(*([] if follow else [_NoRedirect()]))
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.headers, r.read(), r.geturl()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read(), url


@pytest.mark.parametrize("style", STYLES)
def test_site_shape(sites, style):
    site = sites[style]
    real = {p: t for p, t in site.reports.items() if t is not None}
    assert len(real) >= 10
    assert all(isinstance(t, ReportTruth) for t in real.values())
    assert len({t.year for t in real.values()}) >= 2
    assert {"2021", "2019"} <= {t.format for t in real.values()}
    assert len(site.list_pages) >= 3
    assert site.start_path in site.pages and all(p.startswith(f"/{site.key}/") for p in site.pages)
    for path in site.reports:
        assert site.pages[path].status == 200
    assert site.image_only and all(site.reports[p] is None for p in site.image_only)
    for role in ("spam", "blanks", "fmt2019", "attachment", "docx", "notice", "jiedu", "redirect", "missing"):
        assert role in site.roles, role
    assert site.missing and not set(site.missing) & set(site.pages)
    assert all(site.pages[old].status == 301 and new in site.reports for old, new in site.redirects.items())
    assert {site.roles["notice"], site.roles["jiedu"]} <= set(site.distractors)
    assert not set(site.distractors) & set(site.reports)
    assert any(a.endswith(".pdf") for a in site.attachments) and any(a.endswith(".docx") for a in site.attachments)


@pytest.mark.parametrize("style", STYLES)
def test_lists_link_reports_and_distractors(sites, server, style):
    """Every report, the 301 and the 404 entry are reachable from list pages (the hanweb proxy included)."""
    site = sites[style]
    linked = set()
    for path in site.list_pages:
        method, data = ("POST", b"col=1&columnid=1236") if "dataproxy" in path else ("GET", None)
        status, headers, body, _ = fetch(server.url(site, path), method=method, data=data)
        assert status == 200, path
        text = body.decode("gb18030" if style == "trs" else "utf-8")
        base = path.rsplit("/", 1)[0] + "/"
        linked |= {h if h.startswith("/") else base + h[2:] for h in re.findall(r'href="([^"#]+)"', text)}
    targets = set(site.reports) - set(site.redirects.values())
    assert targets | set(site.redirects) | set(site.missing) | {site.roles["notice"], site.roles["jiedu"]} <= linked


def test_detail_redirect_404_head(sites, server):
    site = sites["jiyue"]
    path, truth = next((p, t) for p, t in site.reports.items() if t)
    status, headers, body, _ = fetch(server.url(site, path))
    assert status == 200 and truth.title in body.decode("utf-8") and 'id="zoomcon"' in body.decode("utf-8")
    assert int(headers["Content-Length"]) == len(body)

    old = site.roles["redirect"]
    status, headers, _, _ = fetch(server.url(site, old), follow=False)
    assert status == 301 and headers["Location"] == server.url(site, site.redirects[old])
    status, _, body, final = fetch(server.url(site, old))
    assert status == 200 and final == server.url(site, site.redirects[old])

    status, headers, body, _ = fetch(server.url(site, site.roles["missing"]))
    assert status == 404 and b"404" in body and headers["Content-Type"].startswith("text/html")

    status, headers, body, _ = fetch(server.url(site, path), method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(site.pages[path].body)

    status, _, body, _ = fetch(server.base_url + "/robots.txt")
    assert status == 200 and b"Allow: /" in body
    assert ("GET", site.roles["missing"]) in server.access_log


def test_binary_files(sites, server):
    site = sites["trs"]
    status, headers, body, _ = fetch(server.url(site, site.roles["attachment_file"]))
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    image_page = site.pages[site.roles["image_only"]].body.decode("gb18030")
    png = re.search(r'<img src="([^"]+\.png)"', image_page).group(1)
    status, headers, body, _ = fetch(server.url(site, png))
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")


def test_trs_encodings(sites, server):
    site = sites["trs"]
    path = site.roles["blanks"]
    status, headers, body, _ = fetch(server.url(site, path))
    assert headers["Content-Type"] == "text/html"           # no charset in the header
    text = body.decode("gb18030")
    assert '<meta charset="gb2312">' in text and site.reports[path].title in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "createPageHTML(3, 0" in site.pages[site.start_path].body.decode("gb18030")

    lying = site.pages[site.roles["lying_charset"]].body
    assert b'<meta charset="utf-8">' in lying
    with pytest.raises(UnicodeDecodeError):
        lying.decode("utf-8")
    assert site.reports[site.roles["lying_charset"]].title in lying.decode("gb18030")


def test_trs_pager_is_javascript_only(sites):
    site = sites["trs"]
    for path in site.list_pages:
        text = site.pages[path].body.decode("gb18030")
        assert not re.search(r'href="[^"]*index_\d\.html"', text)
        assert re.search(r'createPageHTML\(3, \d, "index", "html"\)', text)


def test_hanweb_dataproxy(sites, server):
    site = sites["hanweb"]
    column = site.pages[site.roles["proxy_column"]].body.decode("utf-8")
    proxied = [p for p in site.reports if "/art_1236_" in p]
    assert proxied and not any(p in column for p in proxied)
    url = server.url(site, site.roles["dataproxy"]) + "?startrecord=1&endrecord=15&perpage=15"
    status, headers, body, _ = fetch(url, method="POST", data=b"col=1&appid=1&columnid=1236")
    xml = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert xml.count("<record><![CDATA[") == len(proxied) and all(p in xml for p in proxied)
    assert fetch(server.url(site), method="POST", data=b"x=1")[0] == 405


def test_gzip_chunked_and_live_edits():
    site = build_site("hanweb", key="hw2", n_reports=10)
    with ReplicaServer(site, gzip=True) as srv:
        status, headers, body, _ = fetch(srv.url(site), headers={"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == site.pages[site.start_path].body
        assert len(headers.get_all("Set-Cookie")) == 2
        status, headers, body, _ = fetch(srv.url(site))                 # no Accept-Encoding: identity
        assert headers["Content-Encoding"] is None and body == site.pages[site.start_path].body

        srv.mutate(site, "/hw2/new.html", "<html><body>新页面</body></html>")
        assert fetch(srv.url(site, "new.html"))[2].decode() == "<html><body>新页面</body></html>"
        site.pages["/hw2/new.html"] = Page(200, {"Content-Type": "text/plain"}, b"edited")
        assert fetch(srv.url(site, "new.html"))[2] == b"edited"
        srv.mutate(site, "/hw2/new.html")
        assert fetch(srv.url(site, "new.html"))[0] == 404

    with ReplicaServer(site, chunked=True) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("GET", site.start_path)
        resp = conn.getresponse()
        assert resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Content-Length") is None
        assert resp.read() == site.pages[site.start_path].body
        conn.request("GET", site.start_path)                             # keep-alive: the same connection
        assert conn.getresponse().read() == site.pages[site.start_path].body
        conn.close()


def test_demo_and_large_sites():
    demo = build_demo_site()
    assert 12 <= sum(t is not None for t in demo.reports.values()) <= 20
    assert {"trs:spam", "hanweb:dataproxy", "jiyue:image_only"} <= set(demo.roles)
    large = build_large_site(n_pages=500)
    assert 450 <= len(large.pages) <= 550 and len(large.reports) > 400
    assert all(isinstance(t, ReportTruth) for t in large.reports.values())
    assert len({t.title for t in large.reports.values()}) == len(large.reports)
