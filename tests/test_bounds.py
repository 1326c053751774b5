"""Crawl bounds are never silent (gikcrawl/bounds.py): every pager style is bounded, each bound reached is
counted, logged naming site and column, and shown in the run report; long honest columns are not cut."""
import json

from crawl_helpers import crawl, minimal_entry, write_sites
from parsel import Selector

from gikcrawl.discovery import create_page_urls, pager_links
from gikfixtures.replica import Page, ReplicaServer, build_site


def test_create_page_html_is_not_cut_silently():
    html = '<script>createPageHTML(20000, 0, "index", "html");</script>'
    urls = create_page_urls(html, "http://x.gov.cn/gknb/")
    assert len(urls) == 20000 and urls[-1] == "http://x.gov.cn/gknb/index_19999.html"   # (was cut at 500)
    # bounded by the caller: one past the bound, so the bound reached is seen and reported
    assert len(pager_links(Selector(text=html), "http://x.gov.cn/gknb/", max_pages=100)) == 101


def _report_run(tmp_path) -> dict:
    return json.loads(next((tmp_path / "archive" / "runs").glob("*.json")).read_text(encoding="utf-8"))


def test_list_pages_per_column_bound(tmp_path):
    site = build_site("trs", seed=2)                 # one column of 3 list pages (createPageHTML)
    with ReplicaServer(site) as server:
        entry = dict(minimal_entry(server, site), limits={"max_list_pages": 2})
        items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: entry}), site.key)
        lists = {p for _, p in server.access_log if p in site.list_pages}
    column = server.url(site, site.start_path)
    assert lists == set(site.list_pages[:2])
    assert f"site {site.key}, column {column}: more than 2 list pages" in log
    assert "'gikcrawl/limits/list_pages': 1" in log
    assert _report_run(tmp_path)["sites"][site.key]["limits"] == {"reached": {"list_pages": 1},
                                                                  "requests_not_made": {"list_pages": 1}}
    assert 0 < len(items) < len(site.reports)         # what the first two pages list, no more


def _soft_template_site():
    """A column whose server answers every index_N.html with its first page (a soft pager): with
    page_template the spider asks for N+1 as long as pages answer."""
    site = build_site("trs", seed=3)
    first = site.pages[site.start_path]
    first.body = first.body.replace(b"createPageHTML", b"noPager")      # the template is the only pager
    col = site.start_path.rsplit("/", 1)[0] + "/"
    for n in range(1, 300):
        site.pages[f"{col}index_{n}.html"] = Page(200, dict(first.headers), first.body)
    return site, col


def test_page_template_trap_is_stopped(tmp_path):
    site, col = _soft_template_site()
    with ReplicaServer(site) as server:
        entry = dict(minimal_entry(server, site), page_template="index_{n}.html", limits={"stale_pages": 3})
        _, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: entry}), site.key)
        template = [p for _, p in server.access_log if p.startswith(col + "index_")]
    assert len(template) <= 3 + 1                     # three pages adding nothing, then no further
    assert "'gikcrawl/limits/same_reports': 1" in log and "a pager trap" in log
    assert _report_run(tmp_path)["sites"][site.key]["limits"]["reached"] == {"same_reports": 1}


def _endless_chain_site():
    """A 下一页 chain without end whose every page lists report links of its own (not a same-links trap)."""
    site = build_site("hanweb", seed=4, n_reports=4)
    chain = site.host_path_prefix + "chain/index.html"

    def page(method, query, data):
        n = int((query.get("page") or ["1"])[0])
        items = "".join(f"<li><a href='/{site.key}/chain/r{n}{x}.html'>第{n}{x}局2022年政府信息公开工作年度报告</a></li>"
                        for x in "ab")
        html = (f"<html><head><meta charset='utf-8'></head><body><ul>{items}</ul>"
                f"<a href='{chain}?page={n + 1}'>下一页</a></body></html>")
        return Page(200, {"Content-Type": "text/html; charset=utf-8"}, html.encode())

    site.handlers[chain] = page
    site.start_path = chain
    return site, chain


def test_pager_depth_and_request_bounds(tmp_path):
    site, chain = _endless_chain_site()
    with ReplicaServer(site) as server:
        entry = dict(minimal_entry(server, site), limits={"max_pager_depth": 4})
        _, log = crawl(tmp_path / "depth", write_sites(tmp_path / "d.yaml", {site.key: entry}), site.key)
        pages = [p for _, p in server.access_log if p.startswith(chain)]
        assert len(pages) == 1 + 4                     # the column's first page and four pager steps
        assert f"site {site.key}, column {server.url(site, chain)}: pager deeper than 4 pages" in log
        assert "'gikcrawl/limits/pager_depth': 1" in log
        before = len(server.access_log)
        entry = dict(minimal_entry(server, site), limits={"max_requests": 6})
        _, log = crawl(tmp_path / "requests", write_sites(tmp_path / "r.yaml", {site.key: entry}), site.key)
        made = len(server.access_log) - before
    assert made <= 6 + 1                               # six requests of the site (+ robots.txt)
    assert f"site {site.key}, whole site: 6 requests made" in log and "'gikcrawl/limits/requests': 1" in log
    assert "requests_not_made" in log
