"""Generic discovery rules on list-page markup of the CMSs in domain.md §3."""
from parsel import Selector

from gikcrawl import discovery as d

BASE = "http://www.x.gov.cn/zfxxgk/gknb/index.html"
LIST = """<html><body>
<div class="nav"><a href="/">首页</a><a href="/zwdt/index.html">政务动态</a><a href="/tzgg/index.html">通知公告</a>
<a href="/zfxxgk/gknb/index.html">政府信息公开年报</a></div>
<ul class="sub"><li><a href="bmxxgknb/t_sfj/index.html">县司法局</a></li><li><a href="./xzxxgknb/qsz/">青山镇</a></li></ul>
<ul class="list">
<li><a href="./202301/t20230128_101.html" title="青山镇2022年政府信息公开工作年度报告">青山镇2022年政府信息公开工作...</a></li>
<li><a href="/art/2023/2/1/art_12_345.html">县水务局2022年度政府信息公开工作年度报告</a></li>
<li><a href="./202212/t20221201_9.html">关于做好2022年度政府信息公开工作年度报告编制发布工作的通知</a></li>
<li><a href="./202302/t20230201_7.html">《青山镇2022年政府信息公开工作年度报告》解读</a></li>
<li><a href="./202302/t20230205_8.html">白河镇2022年政府信息公开工作年度报告（图片版）</a></li>
<li><a href="/upload/P020230115.pdf">县教育局2022年政府信息公开工作年度报告</a></li>
</ul>
<script>var countPage = 4; createPageHTML(countPage, 0, "index", "html");</script>
<a href="index_1.html">下一页</a></body></html>"""


def urls(links):
    return sorted(link.url for link in links)


def test_report_links_by_title_reject_notices_and_explanations():
    got = urls(d.report_links(Selector(text=LIST), BASE))
    assert got == ["http://www.x.gov.cn/art/2023/2/1/art_12_345.html",
                   "http://www.x.gov.cn/upload/P020230115.pdf",
                   "http://www.x.gov.cn/zfxxgk/gknb/202301/t20230128_101.html",
                   "http://www.x.gov.cn/zfxxgk/gknb/202302/t20230205_8.html"]


def test_column_and_sub_column_links():
    got = urls(d.column_links(Selector(text=LIST), BASE))
    assert "http://www.x.gov.cn/zfxxgk/gknb/bmxxgknb/t_sfj/index.html" in got
    assert "http://www.x.gov.cn/zfxxgk/gknb/xzxxgknb/qsz/" in got
    assert "http://www.x.gov.cn/zwdt/index.html" not in got and "http://www.x.gov.cn/tzgg/index.html" not in got


def test_create_page_html_and_next_links():
    got = set(d.pager_links(Selector(text=LIST), BASE))
    assert {"http://www.x.gov.cn/zfxxgk/gknb/index_1.html", "http://www.x.gov.cn/zfxxgk/gknb/index_2.html",
            "http://www.x.gov.cn/zfxxgk/gknb/index_3.html"} <= got
    assert "http://www.x.gov.cn/zfxxgk/gknb/index_4.html" not in got


def test_create_page_html_variant_with_element_id():
    html = "<script>createPageHTML('page_div', 3, 1, 'index', 'shtml', 40);</script>"
    assert d.create_page_urls(html, "http://a.gov.cn/gknb/index_1.shtml") == [
        "http://a.gov.cn/gknb/index.shtml", "http://a.gov.cn/gknb/index_1.shtml", "http://a.gov.cn/gknb/index_2.shtml"]


def test_attachments_by_extension_and_viewer_query():
    """A viewer link stands for the document it shows (fetched directly, the viewer kept as its referer)."""
    html = ('<a href="/P0201.PDF">附件1</a><a href="/a/b.docx">附件2</a><a href="/viewer.html?file=/f/x.pdf">预览</a>'
            '<a href="/a/b.html">正文</a>')
    links = d.attachment_links(Selector(text=html), "http://a.gov.cn/x/")
    assert urls(links) == ["http://a.gov.cn/P0201.PDF", "http://a.gov.cn/a/b.docx", "http://a.gov.cn/f/x.pdf"]
    assert [link.via for link in links] == [None, None, "http://a.gov.cn/viewer.html?file=/f/x.pdf"]


def test_hanweb_dataproxy_config_and_records():
    page = """<script type="text/javascript">var proxy = {url:'/module/web/jpage/dataproxy.jsp', perpage:15,
    params:{col:1, appid:1, webid:33, path:'/', columnid:1234, sourceContentType:1, unitid:5678, webname:'某某县', permissiontype:0}};</script>"""
    proxy = d.dataproxy(page, "http://a.gov.cn/col/col1234/index.html")
    assert proxy.url == "http://a.gov.cn/module/web/jpage/dataproxy.jsp" and proxy.perpage == 15
    assert proxy.params["columnid"] == "1234" and proxy.params["unitid"] == "5678"
    xml = ("<datastore><totalrecord>31</totalrecord><recordset>"
           "<record><![CDATA[<li><a href='/art/2023/1/20/art_1234_1.html' title='青山镇2022年政府信息公开工作年度报告'>青山镇…</a></li>]]></record>"
           "</recordset></datastore>")
    links, total = d.dataproxy_records(xml, "http://a.gov.cn/module/web/jpage/dataproxy.jsp")
    assert total == 31 and [link.url for link in links] == ["http://a.gov.cn/art/2023/1/20/art_1234_1.html"]
    assert d.is_report_title(links[0].text)
