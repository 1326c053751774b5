"""The CMS families (gikcrawl/cms/), each on its own markup: the replica's pages of that style (gikfixtures),
and for Guangdong's gkmlpt the URL shapes of domain.md §3 and shared/real. For each family: detection, the
content container the parser chooses, its pager or list endpoint, a metadata field read; then the registry."""
import pkgutil
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from parsel import Selector
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.test import get_crawler

from gikcrawl import cms, discovery
from gikcrawl.extract import decode_body
from gikcrawl.parser import parse
from gikcrawl.parser import htmldoc, metadata
from gikcrawl.probe.spider import ProbeSpider
from gikfixtures.replica import build_site

HOST = "http://www.x.gov.cn"


@pytest.fixture(scope="module")
def sites():
    return {style: build_site(style, seed=5) for style in ("trs", "hanweb", "jiyue")}


def page(site, path: str) -> str:
    p = site.pages[path]
    return decode_body(p.body, p.headers.get("Content-Type"))


def plain_report(site):
    """A report detail page of the site (not the spam, charset or attachment variants)."""
    roles = set(site.roles.values())
    path = next(p for p, t in site.reports.items() if t is not None and p not in roles)
    return path, site.reports[path]


def family_report(sites, name: str):
    """A plain report page of the family's replica site, detected as that family, and its record:
    (site, path, truth, html, record)."""
    site = sites[name]
    path, truth = plain_report(site)
    html = page(site, path)
    assert cms.detect(html, HOST + path) is cms.REGISTRY[name]
    return site, path, truth, html, parse(html)


def container_of(html: str):
    root = etree.fromstring(html, htmldoc._PARSER)
    return htmldoc._find_container(root)


# --- TRS WCM ------------------------------------------------------------------------------------------

def test_trs_detected_container_pager_metadata(sites):
    site, path, truth, html, record = family_report(sites, "trs")
    assert re.search(r"/\d{6}/t\d{8}_\d+\.html$", path)
    assert container_of(html).get("class") == "TRS_Editor"
    assert record["agency"] == truth.agency and record["published"] == truth.published
    # the list pages exist only as createPageHTML(…) calls: the pager script is the only way to them
    first = site.list_pages[0]
    listing = page(site, first)
    assert 'href="index_1.html"' not in listing
    base = HOST + first
    assert cms.pager_style(listing, base) == "createPageHTML"
    want = [HOST + p for p in site.list_pages]
    assert cms.pager_urls(listing, base) == want
    assert set(want) <= set(discovery.pager_links(Selector(text=listing), base))
    assert cms.pager_urls(listing, base, max_pages=1) == want[:2]      # one more than the bound: never a silent cut


# --- 大汉 Hanweb JCMS ------------------------------------------------------------------------------------

def test_hanweb_detected_container_endpoint_metadata(sites):
    site, path, truth, html, record = family_report(sites, "hanweb")
    assert re.search(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$", path)
    assert container_of(html).get("id") == "zoom"
    assert record["published"] == truth.published and record["index_no"] == truth.index_no
    # the 2020 column holds only a jpage config: the dataproxy is the list
    column = page(site, site.roles["proxy_column"])
    base = HOST + site.roles["proxy_column"]
    proxy = cms.list_endpoint(column, base)
    assert proxy is not None and proxy.url == HOST + site.roles["dataproxy"]
    assert proxy.params["columnid"] == "1236" and proxy.params["unitid"] == "4412" and proxy.perpage == 15
    assert cms.pager_style(column, base) == "dataproxy" and discovery.dataproxy(column, base) == proxy
    url, end = proxy.page_url(16, pages=3)
    assert end == 60 and parse_qs(urlsplit(url).query) == {"startrecord": ["16"], "endrecord": ["60"],
                                                            "perpage": ["15"]}
    url, end = proxy.page_url(1)
    answer = site.handlers[site.roles["dataproxy"]]("POST", parse_qs(urlsplit(url).query),
                                                   "&".join(f"{k}={v}" for k, v in proxy.params.items()).encode())
    links, total = proxy.records(answer.body.decode("utf-8"), proxy.url)
    expected = {p for p, t in site.reports.items() if t is not None and t.year <= 2020}
    assert total == len(expected) and {urlsplit(x.url).path for x in links} == expected
    assert all(discovery.is_report_title(x.text) for x in links)


# --- 集约化 (Jiangsu, ucap) -------------------------------------------------------------------------------

def test_jiyue_detected_container_pager_metadata(sites):
    site, path, truth, html, record = family_report(sites, "jiyue")
    assert container_of(html).get("id") == "zoomcon"
    assert record["agency"] == truth.agency and record["published"] == truth.published
    # the metadata table's labels of this family: 名称 (the name) and 公开日期
    lines = htmldoc.parse_html(html).lines
    name_row = next(x for x in lines if "名称" in x)
    assert metadata.title_from([name_row], None, []) == truth.title
    date_row = next(x for x in lines if "公开日期" in x)
    assert metadata.published_from(date_row) == truth.published
    assert metadata.published_from(date_row.replace("公开日期", "成文日期")) is None     # not a publication date
    # its sub-columns page with ordinary index_N.shtml links: the generic pager, no family script
    sub = next(p for p in site.list_pages if p.endswith("/index.shtml") and "/bmxxgknb/" in p)
    listing = page(site, sub)
    assert cms.pager_style(listing, HOST + sub) is None
    assert HOST + sub.replace("index.shtml", "index_2.shtml") in discovery.pager_links(Selector(text=listing),
                                                                                      HOST + sub)


def test_jiyue_ucap_container():
    html = ('<html><body><div class="nav"><a href="/">首页</a></div><div class="main">'
            '<table><tr><td>名称</td><td>某县2022年政府信息公开工作年度报告</td></tr></table>'
            '<div id="UCAP-CONTENT"><p>一、总体情况</p><p>2022年，某县人民政府认真贯彻落实。</p></div></div></body></html>')
    assert container_of(html).get("id") == "UCAP-CONTENT"
    assert cms.markers("", html) == {"jiyue": ["#UCAP-CONTENT"]}


# --- 广东 gkmlpt -------------------------------------------------------------------------------------------

GKMLPT = """<html><head><meta charset="utf-8"><title>广州市海珠区某街道2022年政府信息公开工作年度报告</title></head>
<body><div class="crumb"><a href="/gkmlpt/index">政府信息公开</a> &gt; <a href="/gkmlpt/index#2203">年度报告</a></div>
<table class="info"><tr><td>索引号：</td><td>007502123/2023-00012</td><td>分类：</td><td>年度报告</td></tr>
<tr><td>发布机构：</td><td>广州市海珠区某街道办事处</td><td>发布日期：</td><td>2023-01-18</td></tr></table>
<h1>广州市海珠区某街道2022年政府信息公开工作年度报告</h1>
<div class="article-content"><p>一、总体情况</p><p>2022年，我街道认真贯彻落实《中华人民共和国政府信息公开条例》。</p></div>
<div class="related"><a href="/zwgk/zfxxgknb/jd/content/post_9472698.html">上一篇</a></div></body></html>"""


def test_gkmlpt_detected_generic_container_metadata():
    url = HOST + "/gkmlpt/content/0/123/post_9472698.html"
    assert cms.detect(GKMLPT, url) is cms.REGISTRY["gkmlpt"]
    assert cms.markers(url, GKMLPT) == {"gkmlpt": ["gkmlpt", "content/post_N.html details"]}
    assert cms.REGISTRY["gkmlpt"].containers == ()       # no container of its own is known: the generic one
    assert container_of(GKMLPT).get("class") == "article-content"
    record = parse(GKMLPT)
    assert record["agency"] == "广州市海珠区某街道办事处" and record["published"] == "2023-01-18"
    assert cms.pager_style(GKMLPT, url) is None and cms.list_endpoint(GKMLPT, url) is None


# --- the registry -----------------------------------------------------------------------------------------

def test_every_family_module_is_registered_once():
    modules = {m.name for m in pkgutil.iter_modules(cms.__path__)} - {"family"}
    names = [f.name for f in cms.REGISTRY]
    assert len(names) == len(set(names)) == len(cms.REGISTRY)
    assert {f.name for f in cms.REGISTRY} == {m for m in modules}
    assert all(cms.get(n) is cms.REGISTRY[n] for n in names) and cms.get("generic") is None and cms.get(None) is None
    with pytest.raises(ValueError):
        cms.Registry([cms.REGISTRY["trs"], cms.REGISTRY["trs"]])


def test_detect_each_sample_and_none_on_plain_pages(sites):
    for style, site in sites.items():
        path, _ = plain_report(site)
        assert cms.detect(page(site, path), HOST + path).name == style
    # one page is one page's evidence: the replica's news links are TRS-shaped on every site, so the jiyue
    # column's page shows one marker of each (no guess); the probe decides over all pages of a site
    root = sites["jiyue"].list_pages[1]
    assert cms.markers(HOST + root, page(sites["jiyue"], root)).keys() == {"trs", "jiyue"}
    assert cms.detect(page(sites["jiyue"], root), HOST + root) is None
    plain = ("<html><head><title>县人民政府</title></head><body><div class='content'><p>2022年政府信息公开工作年度报告"
             "</p><a href='/zwgk/index.html'>政务公开</a></div></body></html>")
    assert cms.detect(plain, HOST + "/zwgk/2023/report.html") is None
    assert cms.markers(HOST + "/x.html", plain) == {}
    tie = '<div class="TRS_Editor"><a href="/col/col12/index.html">x</a></div>'      # one marker each: no guess
    assert cms.detect(tie) is None


def test_aggregates_in_registry_order_and_a_new_family_is_one_module():
    assert cms.containers() == (".TRS_Editor", ".Custom_UnionStyle", "#zoomcon", "#UCAP-CONTENT", "#zoom")
    assert htmldoc.CONTAINERS[:len(cms.containers())] == cms.containers()       # before the generic ones
    assert "名称" in cms.title_labels() and metadata._NAME_FIELD.match("名 称：某县2022年年报")
    demo = cms.Family("demo", "a test family", (cms.Marker("demo meta", re.compile(r'name="generator" content="Demo')),),
                      containers=("#demo-body", "#zoom"), date_labels=("上线日期",))
    reg = cms.Registry([*cms.REGISTRY, demo])
    assert reg.containers() == cms.containers() + ("#demo-body",)          # #zoom once, where hanweb put it
    assert reg.date_labels() == cms.date_labels() + ("上线日期",)
    assert reg.detect('<meta name="generator" content="Demo CMS">').name == "demo"
    assert cms.detect('<meta name="generator" content="Demo CMS">') is None


def test_probe_dataproxy_request_is_not_taken_for_an_http_proxy(sites):
    """The probe's dataproxy request carries its endpoint under its own meta key: under meta["proxy"] Scrapy's
    HttpProxyMiddleware took it for a proxy URL and failed the request (TypeError)."""
    site = sites["hanweb"]
    column = page(site, site.roles["proxy_column"])
    proxy = discovery.dataproxy(column, HOST + site.roles["proxy_column"])
    crawler = get_crawler(ProbeSpider, {"PROBE_BUDGET": 10, "PROBE_MAX_DEPTH": 4, "PROBE_SAMPLE_REPORTS": 1})
    spider = ProbeSpider.from_crawler(crawler, homepages=HOST + "/")
    probe = spider.probes[HOST + "/"]
    spider.push(probe, proxy.url, "dataproxy", 1, "(dataproxy.jsp)", (), endpoint=proxy, column_url=HOST)
    request = next(iter(spider.pump(probe)))
    assert request.method == "POST" and request.url == proxy.page_url(1)[0]
    HttpProxyMiddleware().process_request(request)
    assert request.meta.get("proxy") is None
