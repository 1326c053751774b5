"""The parser never raises: any bytes or text, HTML or not, gives a record that validates against the schema.

Inputs are drawn from what damaged and hostile pages contain: random bytes, report fragments (markers, labels,
numbers of any length, pipes, run-together cells) shuffled, broken HTML, comments and text outside <html>,
control characters, lone surrogates, XML declarations and meta charsets naming codecs that are not text
encodings. Large inputs (20,000 table rows, a 10 MB line) run once each.
"""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gikcrawl.extract import report_record
from gikcrawl.parser import parse
from gikcrawl.parser import templates as T

from conftest import assert_valid

FRAGMENTS = [
    "政府信息公开工作年度报告", "2021年", "二〇二二年度", "第二十条第(一)项", "第二十条(五)项", "信息内容",
    "本年制发件数", "本年新", "本年增/", "本年收费金额(单位:万元)", "规章", "规范性文件(说明", "行政许可",
    "行政事业性收费", "政府集中采购", "三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "总计",
    "一、本年新收政府信息公开申请数量", "(三)不予公开", "四、结转下年度继续办理", "行政复议", "行政诉讼",
    "尚未审结", "指标名称", "计量单位", "2018年度", "历年累计", "件", "万元", "0", "7", "+19", "减4", "-", "/",
    "152790元", "1,234", "3.5", "9" * 320, "0" * 40, "|", "||", "|||", " | ", "\n", "\n\n", "。", "(", ")",
    "上一篇", "当前位置:首页>", "发布机构:", "联系电话:0570-1234567", "我局", "xx.com沙头镇", "beat365手机版官方网站",
    "拖市镇(zhèn)", "http://www.example.com/a.html", "請與", "規範性檔案", "\u3000", "\ufeff", "\x00", "\x0b",
    "\ud800", "\udfff", "<", ">", "&amp;", "&#0;", "&#xD800;",
] + [label for label in T.AD_COLUMNS] + [row.label for row in T.APPLICATION_ROWS["2021"]]

HTML_BITS = [
    "<html>", "</html>", "<body>", "</body>", "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>",
    "<td rowspan=3>", "<td colspan=x>", "<td colspan=99999>", "<th>", "<p>", "</p>", "<br>", "<div class=TRS_Editor>",
    "</div>", "<!-- c -->", "<!--", "-->", "<?xml version='1.0' encoding='gb2312'?>", "<?xml encoding=\"hex\"?>",
    "<meta charset=base64>", "<meta charset=utf-16>", "<meta http-equiv=Content-Type content='text/html; charset=hex'>",
    "<script>document.write('x')</script>", "<img src=a.png>", "<h1>", "</h1>", "<title>", "</title>", "<![CDATA[",
    "]]>", "<!DOCTYPE html>", "<head>", "</head>", "<tbody>",
]

SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))

report_text = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join)
report_html = st.lists(st.sampled_from(FRAGMENTS + HTML_BITS), max_size=80).map("".join)
any_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udc00", "|", "\n"])), max_size=300)


@SETTINGS
@given(st.one_of(report_text, report_html, any_text))
def test_any_text_gives_a_valid_record(text):
    assert_valid(parse(text))


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=600), report_html.map(lambda s: s.encode("utf-8", "surrogatepass"))),
       st.sampled_from([None, "utf-8", "gbk", "hex", "base64", "rot13", "utf-16", "nosuchcodec", "zlib"]))
def test_any_bytes_and_declared_charset_give_a_valid_record(data, charset):
    assert_valid(parse(data, charset=charset))
    assert_valid(report_record(data, content_type=f"text/html; charset={charset}" if charset else None,
                               encoding=charset))


def test_twenty_thousand_table_rows():
    rows = "\n".join(f"| 行政许可 | {n} |" for n in range(20000))
    record = assert_valid(parse("某县2021年政府信息公开工作年度报告\n第二十条第(五)项\n| 信息内容 | 本年处理决定数量 |\n"
                                + rows))
    assert record["format"] == "2021"


def test_ten_megabyte_line():
    record = assert_valid(parse("某县2021年政府信息公开工作年度报告\n" + "公开" * 5_000_000))
    assert record["title"] == "某县2021年政府信息公开工作年度报告"


def test_huge_numbers_are_not_figures():
    text = ("某县2021年政府信息公开工作年度报告\n第二十条第(五)项\n信息内容\n本年处理决定数量\n行政许可\n" + "9" * 400 +
            "\n第二十条第(六)项\n信息内容\n本年处理决定数量\n行政处罚\n3\n行政强制\n1\n")
    record = assert_valid(parse(text))
    cells = {(c["item"], c["column"]): c["value"] for c in record["tables"]["active_disclosure"]}
    assert cells[("行政许可", "本年处理决定数量")] is None
    assert cells[("行政处罚", "本年处理决定数量")] == 3
    assert any("行政许可" in w for w in record["warnings"])
