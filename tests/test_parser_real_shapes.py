"""The failure classes met on real pages (shared/real), each tested as a class: the tables are built from the
templates for every row and column and damaged the way real extraction damages them (cells run together,
headers truncated or glued, bracketed local labels, Traditional converter variants, markers missing, signs
and units, stray pipes), and must parse back exactly or as null with a warning naming the table."""
import codecs

import opencc
import pytest

from gikcrawl.extract import report_record
from gikcrawl.files import read_report_file
from gikcrawl.parser import parse
from gikcrawl.parser import templates as T

from conftest import assert_valid

TITLE = "青山县白河镇人民政府2021年政府信息公开工作年度报告"


def ad_values(layout: str, digits_only: bool = False) -> dict:
    """Distinct values per (item, column) of a layout; single digits when the cells will be run together."""
    out, n = {}, 1
    for block in T.AD_TEMPLATES[layout]:
        for item in block.items:
            for column in block.columns:
                out[(item, column)] = n % 10 if digits_only else n * 7
                n += 1
    return out


def ad_text(layout: str, values: dict, *, glued=False, header=lambda c: c, label=lambda i: i,
            marker=lambda b, n: b.clause, sep="\n") -> str:
    lines = ["二、主动公开政府信息情况"]
    for n, block in enumerate(T.AD_TEMPLATES[layout]):
        if marker(block, n):
            lines.append(marker(block, n))
        heads = [header(c) for c in block.columns]
        lines += ["信息内容" + "".join(heads)] if glued else ["信息内容", *heads]
        for item in block.items:
            cells = [str(values[(item, c)]) for c in block.columns]
            lines += [label(item) + "".join(cells)] if glued else [label(item), *cells]
    return sep.join(lines)


def cells_of(record) -> dict:
    return {(c["item"], c["column"]): c["value"] for c in record["tables"].get("active_disclosure", [])}


def year_text(layout):
    return TITLE.replace("2021", "2021" if layout == "2021" else "2019") + "\n一、总体情况\n本年度工作有序推进。\n"


@pytest.mark.parametrize("layout", ["2021", "2019"])
@pytest.mark.parametrize("sep", ["\n", "\n\n"])
def test_cells_run_together_are_read_one_digit_per_cell(layout, sep):
    values = ad_values(layout, digits_only=True)
    record = assert_valid(parse(year_text(layout) + ad_text(layout, values, glued=True, sep=sep)))
    assert record["format"] == layout
    assert cells_of(record) == values


def test_run_together_row_with_more_digits_than_cells_is_null_with_warning():
    values = ad_values("2021", digits_only=True)
    text = year_text("2021") + ad_text("2021", values, glued=True).replace("规章" + "".join(
        str(values[("规章", c)]) for c in T.AD_2021[0].columns), "规章12345")
    record = assert_valid(parse(text))
    assert all(cells_of(record)[("规章", c)] is None for c in T.AD_2021[0].columns)
    assert any("active_disclosure" in w and "规章" in w and "12345" in w for w in record["warnings"])
    assert cells_of(record)[("行政许可", "本年处理决定数量")] == values[("行政许可", "本年处理决定数量")]


def test_run_together_application_rows_use_the_total_to_split_longer_runs():
    lines = [TITLE, "三、收到和处理政府信息公开申请情况", "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)申请人情况",
             "自然人法人或其他组织总计", "商业企业科研机构社会公益组织法律服务机构其他"]
    rows = {"new_requests": [12, 0, 0, 0, 0, 0, 12], "carried_over": [0] * 7, "granted": [3, 0, 0, 1, 0, 0, 4]}
    for row in T.APPLICATION_ROWS["2021"]:
        if row.key in rows:
            lines.append(row.label + "".join(map(str, rows[row.key])))
    record = assert_valid(parse("\n".join(lines)))
    apps = record["tables"]["applications"]
    for key, values in rows.items():
        assert list(apps[key].values()) == values


@pytest.mark.parametrize("layout", ["2021", "2019"])
def test_truncated_and_duplicated_headers_are_placed_by_the_template(layout):
    values = ad_values(layout)
    # every header cut to its first three characters: "本年新" twice, "本年增", "采购项" …
    record = assert_valid(parse(year_text(layout) + ad_text(layout, values, header=lambda c: c[:3])))
    assert cells_of(record) == values
    assert any("placed by the template" in w for w in record["warnings"])


@pytest.mark.parametrize("layout", ["2021", "2019"])
def test_bracketed_local_labels_map_to_the_template(layout):
    values = ad_values(layout)
    text = ad_text(layout, values, header=lambda c: c + " (指本年度数据,减用负值表示,如 -8)",
                   label=lambda i: i + "(设区的市、自治州人民政府应提供相关数据,以及标题采用“规定”“办法”等字样的公文)")
    record = assert_valid(parse(year_text(layout) + text))
    assert cells_of(record) == values


@pytest.mark.parametrize("layout", ["2021", "2019"])
def test_traditional_mirror_with_converter_variants(layout):
    values = ad_values(layout)
    text = opencc.OpenCC("s2twp").convert(year_text(layout) + ad_text(layout, values))
    assert "檔案" in text                          # the Taiwan-phrase converter turns 文件 into 檔案
    record = assert_valid(parse(text))
    assert record["script_normalized"] is True
    assert cells_of(record) == values


@pytest.mark.parametrize("layout", ["2021", "2019"])
def test_block_markers_missing_or_without_di(layout):
    values = ad_values(layout)
    marker = lambda b, n: None if n == 0 else b.clause.replace("第(", "(")   # noqa: E731
    record = assert_valid(parse(year_text(layout) + ad_text(layout, values, marker=marker)))
    assert cells_of(record) == values


def test_signed_and_unit_bearing_values_and_dashes():
    text = year_text("2019") + "\n".join([
        "第二十条第(五)项", "信息内容", "上一年项目数量", "本年增/减", "处理决定数量",
        "行政许可", "21", "+19", "40", "其他对外管理服务事项", "6", "减4", "2",
        "第二十条第(六)项", "信息内容", "上一年项目数量", "本年增/减", "处理决定数量",
        "| 行政处罚 | 90 | -2 | 22 |", "| 行政强制 | 4 | 4 | - |",
        "第二十条第(九)项", "信息内容", "采购项目数量", "采购总金额", "政府集中采购", "3", "152790元"])
    record = assert_valid(parse(text))
    cells = cells_of(record)
    assert cells[("行政许可", "本年增/减")] == 19
    assert cells[("其他对外管理服务事项", "本年增/减")] == -4
    assert cells[("行政处罚", "本年增/减")] == -2
    assert cells[("政府集中采购", "采购总金额")] == 152790
    assert cells[("行政强制", "处理决定数量")] is None
    assert any("行政强制" in w and "'-'" in w for w in record["warnings"])


def test_rows_closed_by_empty_pipe_cells_keep_their_columns():
    rows = {"new_requests": [3, 0, 0, 0, 0, 0, 3], "carried_over": [0, 0, 0, 0, 0, 1, 1]}
    lines = [TITLE, "三、收到和处理政府信息公开申请情况",
             "| (本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) | 申请人情况 | ||||||||",
             "| 自然人 | 法人或其他组织 | 总计 | |||||||",
             "| 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | |||||"]
    for row in T.APPLICATION_ROWS["2021"][:2]:
        lines.append(f"| {row.label} | " + " | ".join(map(str, rows[row.key])) + " | ||")
    apps = assert_valid(parse("\n".join(lines)))["tables"]["applications"]
    for key, values in rows.items():
        assert list(apps[key].values()) == values


@pytest.mark.parametrize("layout", ["2019", "2021"])
def test_a_table_without_values_keeps_its_layout(layout):
    text = year_text(layout) + "\n".join(
        line for line in ad_text(layout, ad_values(layout)).split("\n") if not line.isdigit())
    record = assert_valid(parse(text.replace("2019年", "2022年").replace("2021年", "2022年")))
    assert record["format"] == layout
    assert all(v is None for v in cells_of(record).values())


# --- titles ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lines, title", [
    (["青山县人民政府", "青山县人民政府2021年度", "信息公开年度报告"], "青山县人民政府2021年度信息公开年度报告"),
    (["青山县体育事业发展中心", "2020年政府信息公开工作年度报告"], "青山县体育事业发展中心2020年政府信息公开工作年度报告"),
    (["白河镇人民政府2023年度政府", "信息公开工作年度报告"], "白河镇人民政府2023年度政府信息公开工作年度报告"),
    (["政府信息公开年报", "当前位置: 网站首页 >> 政府信息公开 >> 政府信息公开年报", "青山县卫生健康委2025年政府信息公开工作年度报告"],
     "青山县卫生健康委2025年政府信息公开工作年度报告"),
    (["> 新版信息公开 > 政府信息公开年报", "青山县市场监督管理局2022年度政府信息公开工作年度报告"],
     "青山县市场监督管理局2022年度政府信息公开工作年度报告"),
    (["青山县人民政府门户网站 部门 青山县体育局2022年政府信息公开工作年度报告"], "青山县体育局2022年政府信息公开工作年度报告"),
    (["Page 1 - 白河镇2014年度信息年度公开报告"], "白河镇2014年度信息年度公开报告"),
    (["长涂镇人民政府2021年度政府信息公开工作报告"], "长涂镇人民政府2021年度政府信息公开工作报告"),
])
def test_titles(lines, title):
    text = "http://www.example.gov.cn/a/b.html\n" + "\n".join(lines) + "\n一、总体情况\n2021年,我镇认真贯彻落实条例。\n"
    assert assert_valid(parse(text))["title"] == title


def test_traditional_title_with_pinyin_in_a_pipe_row():
    text = opencc.OpenCC("s2t").convert("2009年度白河镇政府信息公开年度报告 | ||\n一、概述\n根据条例要求,现公布本镇政府信息公开"
                                        "年度报告。本报告由概述、主动公开政府信息情况、依申请公开情况组成。")
    text = text.replace("鎮", "鎮(zhèn)").replace("報", "報(bào)")
    assert assert_valid(parse(text))["title"] == "2009年度白河镇政府信息公开年度报告"


# --- agency ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, agency", [
    ("特编制青山县人民政府地方志办公室2023年政府信息公开工作年度报告。", "青山县人民政府地方志办公室"),
    ("由白河镇人民政府编制的2014年度政府信息公开年度报告。", "白河镇人民政府"),
    ("现公布白河镇2017年政府信息公开工作年度报告。", "白河镇人民政府"),
    ("2021年,全年我局主动公开信息。", None),
    ("2021年,市体育局坚持公开。做好云溪市体育局信息公开工作年度报告编制,云溪市各单位。", "云溪市体育局"),
    ("2021年,市体育局坚持公开。", None),
    ("如对本报告有任何疑问,请与云溪市青山区白河镇政府综合督考办公室联系(电话:0570-1)。", "云溪市青山区白河镇人民政府"),
    ("如对本报告有任何疑问,请联系:青山县石桥乡信息公开领导小组办公室,邮编:1。", "青山县石桥乡人民政府"),
    ("成立了工作领导小组,领导小组下设办公室在综合科。", None),
    # the year before the name ("汇总2021年度X的政务公开…")
    ("本年度报告根据《条例》要求,汇总2021年度白河镇人民政府的政务公开年度报告编制而成。", "白河镇人民政府"),
    # the opening sentence's subject is no name ("本年度报告根据…"): the body's own sentence names it later
    ("本年度报告根据《条例》编制。2021年,在县委的领导下,白河镇人民政府根据条例要求推进公开。", "白河镇人民政府"),
    # … but once the body has spoken of itself (本局认真…), a later subject is another body
    ("2021年,本局认真贯彻条例。青山县人民政府坚持推进公开。", None),
    # a bare level is a fragment: completed from the place the text names, else nothing
    ("2021年,乡政府坚持公开。石桥乡政府进一步推进,石桥乡各村。", "石桥乡人民政府"),
    ("2021年,乡政府坚持公开。", None),
    # 我局 names its own website: taken when it is a 局, never the government's portal
    ("2021年,我局在青山县自然资源局官网上主动公开文件12条。", "青山县自然资源局"),
    ("2021年,我局在青山县人民政府门户网站上主动公开文件12条。", None),
])
def test_agency_is_a_name_never_a_fragment(body, agency):
    text = "2021年政府信息公开工作年度报告\n" + body + "\n一、总体情况\n工作有序推进。\n"
    assert assert_valid(parse(text))["agency"] == agency


def test_agency_from_the_metadata_field_and_from_a_year_first_title():
    assert parse("索引号: | 1/2023 | 发布机构: | 青山县住房和城乡建设局 |\n内容概述:\n2022年度政府信息公开工作年度报告\n"
                 "一、总体情况\n我局认真贯彻。")["agency"] == "青山县住房和城乡建设局"
    assert parse("2022年度螅镇政府信息公开工作年度报告\n一、总体情况\n2022年以来,工作有序。")["agency"] == "螅镇人民政府"


# --- spam -----------------------------------------------------------------------------------------------

def test_mirror_domain_swapped_into_the_body_is_removed_and_listed():
    text = ("https://www.mirror-example.com/zwgk/art/1.html\n青山县人民政府2017年政府信息公开工作年度报告\n"
            "现公布mirror-example.com白河镇2017年报告,电子版可在门户网站(http://www.mirror-example.com/xxgk)下载。\n"
            "一、概述\n本年度工作有序。")
    record = assert_valid(parse(text))
    body = record["preamble"] + "".join(s["text"] for s in record["sections"])
    assert "mirror-example.com" not in body
    assert any("mirror-example.com" in r for r in record["removed"])


def test_a_government_host_in_the_body_is_kept():
    text = ("https://www.qs.gov.cn/a.html\n青山县人民政府2017年政府信息公开工作年度报告\n"
            "电子版可在门户网站(www.qs.gov.cn)下载。\n一、概述\n本年度工作有序。")
    assert "www.qs.gov.cn" in assert_valid(parse(text))["preamble"]


def test_latin_brand_substituted_inside_sentences_is_cut():
    record = parse(TITLE + "\n一、总体情况\n完善abcd365手机版官方网站制度规范,全县xyz88官网质量得到提升。")
    assert "365" not in record["sections"][0]["text"] and "xyz88" not in record["sections"][0]["text"]
    assert "abcd365手机版官方网站" in record["removed"]


# --- legacy, dates, encodings, one entry point -----------------------------------------------------------

@pytest.mark.parametrize("order", [("2018年度", "历年累计"), ("历年累计", "2018年度")])
def test_legacy_table_takes_the_year_column_not_the_cumulative(order):
    year_first = order[0] == "2018年度"
    rows = [("主动公开政府信息数", "条", 120, 3456), ("依申请公开信息数", "件", 5, 88), ("行政复议数", "件", 0, 2)]
    lines = ["青山县2018年政府信息公开工作年度报告", "八、附表", "| 指标名称 | 计量单位 | " + " | ".join(order) + " |"]
    for label, unit, year, total in rows:
        values = (year, total) if year_first else (total, year)
        lines.append(f"| {label} | {unit} | {values[0]} | {values[1]} |")
    record = assert_valid(parse("\n".join(lines)))
    assert record["format"] == "legacy"
    assert [(r["indicator"], r["value"]) for r in record["tables"]["legacy"]] == [(r[0], r[2]) for r in rows]


def test_legacy_table_with_two_year_columns_is_null_with_warning():
    text = ("青山县2018年政府信息公开工作年度报告\n| 指标 | 单位 | 2017年 | 2018年 |\n| 主动公开政府信息数 | 条 | 1 | 2 |\n"
            "| 依申请公开信息数 | 件 | 3 | 4 |\n| 行政复议数 | 件 | 0 | 1 |")
    record = assert_valid(parse(text))
    assert all(r["value"] is None for r in record["tables"]["legacy"])
    assert any(w.startswith("legacy:") for w in record["warnings"])


def test_publication_date_from_meta_and_bare_lines():
    page = ('<html><head><meta name="PubDate" content="2022-01-25 10:00"><title>x</title></head><body>'
            f'<div class="TRS_Editor"><p>{TITLE}</p><p>一、总体情况</p><p>工作有序。</p></div></body></html>')
    assert parse(page)["published"] == "2022-01-25"
    assert parse(TITLE + "\n时间:2022年1月26日\n一、总体情况\n有序。")["published"] == "2022-01-26"


def test_xhtml_with_an_encoding_declaration_keeps_every_row():
    rows = "".join(f"<tr><td>{i}</td><td>{v}</td></tr>" for i, v in (("行政处罚", 6), ("行政强制", 2)))
    page = ('<?xml version="1.0" encoding="gb2312"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
            f'<div class="TRS_Editor"><p>{TITLE}</p><p>第二十条第(六)项</p><table><tr><td>信息内容</td>'
            f'<td>本年处理决定数量</td></tr>{rows}</table></div></body></html>')
    record = assert_valid(report_record(page.encode("gb18030"), content_type="application/xhtml+xml"))
    assert cells_of(record) == {("行政处罚", "本年处理决定数量"): 6, ("行政强制", "本年处理决定数量"): 2}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_text_without_byte_order_mark(tmp_path, codec):
    text = TITLE + "\n一、总体情况\n本年度主动公开信息12条。\n"
    path = tmp_path / "r.txt"
    path.write_bytes(codecs.encode(text, codec))
    assert read_report_file(path) == text


def test_html_gives_the_same_record_through_parse_and_report_record():
    page = (f"<html><head><title>{TITLE}_青山县人民政府</title></head><body><div class='nav'>首页 > 公开年报</div>"
            f"<div class='main'><p>{TITLE}</p><p>一、总体情况</p><p>本年度工作有序推进,主动公开信息12条。</p>"
            "<p>二、主动公开政府信息情况</p><table><tr><td>第二十条第(五)项</td></tr><tr><td>信息内容</td>"
            "<td>本年处理决定数量</td></tr><tr><td>行政许可</td><td>7</td></tr></table>"
            "<ul><li><a href=/1>澳门葡京</a></li><li><a href=/2>链接二</a></li><li><a href=/3>链接三</a></li>"
            "<li><a href=/4>链接四</a></li></ul></div></body></html>")
    direct, through = parse(page, url="http://x"), report_record(page.encode(), content_type="text/html", url="http://x")
    through["source"]["content_type"] = None
    assert direct == through
    assert cells_of(direct) == {("行政许可", "本年处理决定数量"): 7}


def test_pinyin_without_tone_marks_is_cut_where_a_line_carries_several():
    record = parse(TITLE + "\n一、总体情况\n文(wen)章(zhang)来源:中央政府网,公(gong)开内容更加优化。附件(pdf)下载。")
    text = record["sections"][0]["text"]
    assert "(wen)" not in text and "(gong)" not in text and "附件(pdf)下载" in text


def test_agency_from_the_content_source_meta_of_government_sites():
    page = ('<html><head><meta name="SiteName" content="青山县人民政府"><meta name="ColumnName" content="政府信息公开年报">'
            '<meta name="ContentSource" content="青山县卫生健康局"><title>2022年政府信息公开工作年度报告</title></head><body>'
            '<div class="TRS_Editor"><p>2022年政府信息公开工作年度报告</p><p>一、总体情况</p><p>我局认真贯彻条例。</p></div>'
            '</body></html>')
    assert parse(page)["agency"] == "青山县卫生健康局"
