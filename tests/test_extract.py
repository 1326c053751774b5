"""Extraction: pages without a known content container go through trafilatura, with our own table grids."""
from gikcrawl.extract import decode_body, report_record
from gikcrawl.parser.htmlbody import with_own_tables
from gikfixtures.reportgen import make_report, render_html

from conftest import assert_valid


def test_page_without_known_container_uses_trafilatura_and_our_grids():
    truth = make_report(21, "2021", blanks=True)
    html = render_html(truth).replace('class="TRS_Editor"', 'class="custom-body"')
    record = assert_valid(report_record(html.encode("utf-8"), content_type=b"text/html", url="http://x.gov.cn/a.html"))
    assert record["tables"] == truth.tables
    assert (record["title"], record["year"], record["published"]) == (truth.title, truth.year, truth.published)
    assert record["source"]["content_type"] == "text/html"
    assert len(record["sections"]) == 6
    body = "\n".join(s["text"] for s in record["sections"])
    assert "版权所有" not in body and "上一篇" not in body


def test_table_blocks_replaced_only_by_the_matching_grid():
    text = ["一、总体情况", "| a | 1 | |", "| b | 2 | |", "prose", "| x | 9 |"]
    ours = [["| a | 1 |", "| b | 2 |"], ["| zz | 7 |"]]
    assert with_own_tables(text, ours) == ["一、总体情况", "| a | 1 |", "| b | 2 |", "prose", "| x | 9 |"]


def test_declared_charset_trusted_only_when_it_decodes():
    page = '<html><head><meta charset="utf-8"></head><body><p>青山镇2022年政府信息公开工作年度报告</p></body></html>'
    assert "青山镇" in decode_body(page.encode("gb18030"), b"text/html; charset=utf-8")
    assert "青山镇" in decode_body(page.encode("utf-8"), b"text/html; charset=gbk")    # utf-8 served as gbk
    assert "青山镇" in decode_body(page.encode("gb18030"), None)
