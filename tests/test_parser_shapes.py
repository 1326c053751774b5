"""The parser on each table shape and page artefact of domain.md §2–3, on small realistic inputs."""
import pytest

from gikcrawl.parser import parse
from gikcrawl.parser import templates as T

from conftest import assert_valid

HEAD = "某某县青山镇人民政府2022年政府信息公开工作年度报告\n本报告所列数据统计期限为2022年1月1日至2022年12月31日。\n"
APP_HEADER = ["(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)", "申请人情况", "自然人",
              "法人或其他组织", "总计", "商业", "企业", "科研", "机构", "社会公益组织", "法律服务机构", "其他"]
GROUPS = {"granted": ["三、本年度办理结果"], "denied_state_secret": ["(三)不予公开"],
          "unavailable_not_held": ["(四)无法提供"], "unhandled_petition": ["(五)不予处理"],
          "other_no_correction": ["(六)其他处理"]}


def consistent_applications():
    """A 2021 applications table obeying every rule, with distinct values across each row."""
    rows = {}
    result_rows = [r.key for r in T.APPLICATION_ROWS["2021"] if r.result]
    for n, key in enumerate(result_rows):
        six = [n + 1 + 30 * c for c in range(6)] if n < 6 else [0, n, 0, 0, 0, 1]
        rows[key] = six + [sum(six)]
    rows["results_total"] = [sum(rows[k][c] for k in result_rows) for c in range(7)]
    rows["carried_forward"] = [2, 1, 0, 3, 0, 1, 7]
    rows["carried_over"] = [1, 0, 2, 1, 0, 0, 4]
    rows["new_requests"] = [rows["results_total"][c] + rows["carried_forward"][c] - rows["carried_over"][c]
                            for c in range(7)]
    return rows


def one_cell_per_line(rows, drop=()):
    out = ["三、收到和处理政府信息公开申请情况"] + APP_HEADER
    for row in T.APPLICATION_ROWS["2021"]:
        out += GROUPS.get(row.key, [])
        out.append(row.label)
        if row.key not in drop:
            out += [str(v) for v in rows[row.key]]
    return "\n\n".join(out)


def record_of(text, **kw):
    return assert_valid(parse(text, **kw))


def as_table(rows):
    return {k: dict(zip(T.APPLICANT_COLUMNS, v)) for k, v in rows.items()}


def test_one_cell_per_line_applications_exact_and_checks_hold():
    rows = consistent_applications()
    rec = record_of(HEAD + one_cell_per_line(rows))
    assert rec["tables"]["applications"] == as_table(rows)
    assert {c["rule"]: c["ok"] for c in rec["checks"]} == {
        "applications_balance": True, "applications_row_totals": True, "applications_results_total": True}


def test_totals_that_do_not_add_up_fail_checks_and_numbers_are_kept():
    rows = consistent_applications()
    rows["new_requests"][6] += 1                       # printed total off by one
    rec = record_of(HEAD + one_cell_per_line(rows))
    assert rec["tables"]["applications"]["new_requests"]["total"] == rows["new_requests"][6]
    checks = {c["rule"]: c for c in rec["checks"]}
    assert checks["applications_row_totals"]["ok"] is False
    assert "new_requests" in checks["applications_row_totals"]["detail"]
    assert checks["applications_balance"]["ok"] is False
    assert checks["applications_results_total"]["ok"] is True


def test_row_with_fewer_numbers_than_columns_is_null_with_warning():
    rows = consistent_applications()
    text = HEAD + one_cell_per_line(rows).replace(
        "二、上年结转政府信息公开申请数量\n\n1\n\n0\n\n2\n\n1\n\n0\n\n0\n\n4", "二、上年结转政府信息公开申请数量\n\n4\n\n4")
    rec = record_of(text)
    assert rec["tables"]["applications"]["carried_over"] == dict.fromkeys(T.APPLICANT_COLUMNS)
    assert any("carried_over" in w and "2 values for 7 columns" in w for w in rec["warnings"])
    assert rec["tables"]["applications"]["granted"]["total"] == sum(rows["granted"][:6])


def test_table_cut_off_keeps_what_is_present_and_warns():
    rows = consistent_applications()
    text = one_cell_per_line(rows)
    cut = text.index("(五)不予处理")
    rec = record_of(HEAD + text[:cut])
    apps = rec["tables"]["applications"]
    assert apps["granted"] == dict(zip(T.APPLICANT_COLUMNS, rows["granted"]))
    assert apps["unavailable_unclear"]["total"] == rows["unavailable_unclear"][6]
    assert apps["results_total"] == dict.fromkeys(T.APPLICANT_COLUMNS)
    assert any("results_total: row not found" in w for w in rec["warnings"])


def test_pipe_rows_with_span_fillers_and_blank_cells():
    # trafilatura's grid: spanned cells empty; a real blank cell is an empty cell inside the row.
    lines = ["三、收到和处理政府信息公开申请情况",
             "| (本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) | | | 申请人情况 | | | | | | |",
             "| | | | 自然人 | 法人或其他组织 | | | | | 总计 |",
             "| 一、本年新收政府信息公开申请数量 | | | 11 | 3 | | 5 | | 2 | 21 |",
             "| 二、上年结转政府信息公开申请数量 | | | 1 | | | | | | 1 |",
             "| 三、本年度办理结果 | (一)予以公开 | | 6 | 1 | | 2 | | 1 | 10 |"]
    rec = record_of(HEAD + "\n".join(lines))
    apps = rec["tables"]["applications"]
    assert apps["new_requests"] == dict(zip(T.APPLICANT_COLUMNS, [11, 3, None, 5, None, 2, 21]))
    assert apps["carried_over"] == dict(zip(T.APPLICANT_COLUMNS, [1, None, None, None, None, None, 1]))
    assert apps["granted"] == dict(zip(T.APPLICANT_COLUMNS, [6, 1, None, 2, None, 1, 10]))


def test_units_full_width_digits_and_broken_labels_in_active_disclosure():
    text = HEAD + "\n".join([
        "二、主动公开政府信息情况", "第二十条第（一）项", "信息内容", "本年制发", "件数", "本年废止件数", "现行有效件数",
        "规章", "１", "２", "３", "规范性", "文件", "4件", "5件", "６", "第二十条第(五)项", "信息内容", "本年处理决定数量",
        "行政许可", "１２", "第二十条第(六)项", "信息内容", "本年处理决定数量", "行政处罚", "7", "行政强制", "8",
        "第二十条第(八)项", "信息内容", "本年收费金额（单位：万元）", "行政事业性收费", "160.5964万元"])
    rec = record_of(text)
    cells = {(c["item"], c["column"]): c["value"] for c in rec["tables"]["active_disclosure"]}
    assert cells == {("规章", "本年制发件数"): 1, ("规章", "本年废止件数"): 2, ("规章", "现行有效件数"): 3,
                     ("行政规范性文件", "本年制发件数"): 4, ("行政规范性文件", "本年废止件数"): 5,
                     ("行政规范性文件", "现行有效件数"): 6, ("行政许可", "本年处理决定数量"): 12,
                     ("行政处罚", "本年处理决定数量"): 7, ("行政强制", "本年处理决定数量"): 8,
                     ("行政事业性收费", "本年收费金额(单位:万元)"): 160.5964}
    assert rec["format"] == "2021"


def test_2019_template_active_disclosure_with_signed_deltas():
    text = "某某县水务局2020年政府信息公开工作年度报告\n" + "\n".join([
        "二、主动公开政府信息情况", "第二十条第(一)项", "信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量",
        "规章", "0", "0", "0", "规范性文件", "3", "3", "17",
        "第二十条第(五)项", "信息内容", "上一年项目数量", "本年增/减", "处理决定数量",
        "行政许可", "12", "-2", "140", "其他对外管理服务事项", "4", "+1", "9"])
    rec = record_of(text)
    assert rec["format"] == "2019" and rec["year"] == 2020
    cells = {(c["item"], c["column"]): c["value"] for c in rec["tables"]["active_disclosure"]}
    assert cells[("规范性文件", "对外公开总数量")] == 17
    assert cells[("行政许可", "本年增/减")] == -2
    assert cells[("其他对外管理服务事项", "本年增/减")] == 1


def test_review_litigation_from_flipbook_text_with_vertical_headers():
    header = "\n".join(["行政复议", "行政诉讼", "结", "果", "维", "持", "结", "果", "纠", "正", "其他", "结果", "尚未",
                        "审结", "总计", "未经复议直接起诉", "复议后起诉"])
    numbers = "1 2 3 4 10 5 6 7 8 26 9 0 0 1 10"
    rec = record_of(HEAD + "四、政府信息公开行政复议、行政诉讼情况\n" + header + "\n" + numbers)
    rl = rec["tables"]["review_litigation"]
    assert rl["review"] == {"upheld": 1, "corrected": 2, "other": 3, "pending": 4, "total": 10}
    assert rl["litigation_direct"]["total"] == 26
    assert rl["litigation_after_review"] == {"upheld": 9, "corrected": 0, "other": 0, "pending": 1, "total": 10}
    assert all(c["ok"] for c in rec["checks"] if c["rule"].endswith("_total"))


def test_review_with_missing_cells_is_null_with_warning():
    rec = record_of(HEAD + "四、政府信息公开行政复议、行政诉讼情况\n行政复议\n行政诉讼\n结果维持\n总计\n1\n2\n3")
    assert rec["tables"]["review_litigation"]["review"]["upheld"] is None
    assert any("review_litigation" in w for w in rec["warnings"])


HTML_APPS = """<html><head><meta charset="utf-8"><title>青山镇2022年政府信息公开工作年度报告_某某县人民政府</title></head>
<body><div class="nav">首页 &gt; 政务公开 &gt; 公开年报</div>
<table class="meta"><tr><td>索引号</td><td>QS-2023-0001</td><td>发布机构</td><td>某某县人民政府</td></tr>
<tr><td>成文日期</td><td>2023-01-05</td><td>发布日期</td><td>2023-01-20</td></tr></table>
<div class="TRS_Editor"><p>本报告所列数据统计期限为2022年1月1日至2022年12月31日。</p>
<p><strong>三、收到和处理政府信息公开申请情况</strong></p>
<table border="1"><tbody>
<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="7">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业<br>企业</td><td>科研<br>机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>11</td><td>3</td><td></td><td>5</td><td></td><td>2</td><td>21</td></tr>
<tr><td colspan="3">二、上年结转政府信息公开申请数量</td><td>1</td><td></td><td></td><td></td><td></td><td></td><td>1</td></tr>
<tr><td rowspan="3">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>6</td><td>1</td><td></td><td>2</td><td></td><td>1</td><td>10</td></tr>
<tr><td rowspan="2">（三）不予公开</td><td>1.属于国家秘密</td><td>3</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>3</td></tr>
<tr><td>2.其他法律行政法规禁止公开</td><td>4</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>4</td></tr>
</tbody></table></div>
<div class="footer">主办：某某县人民政府 版权所有 ICP备12345678号</div></body></html>"""


def test_html_table_spans_resolved_and_metadata_table_read():
    rec = record_of(HTML_APPS)
    apps = rec["tables"]["applications"]
    assert apps["new_requests"] == dict(zip(T.APPLICANT_COLUMNS, [11, 3, None, 5, None, 2, 21]))
    assert apps["granted"] == dict(zip(T.APPLICANT_COLUMNS, [6, 1, None, 2, None, 1, 10]))
    assert apps["denied_state_secret"]["total"] == 3
    assert apps["denied_prohibited_by_law"]["natural_person"] == 4
    assert rec["title"] == "青山镇2022年政府信息公开工作年度报告"
    assert rec["published"] == "2023-01-20"                # 发布日期, not 成文日期
    assert rec["index_no"] == "QS-2023-0001"
    assert rec["year"] == 2022 and rec["region"] == "某某县"


def test_gbk_page_whose_meta_says_utf8_decodes_right():
    page = HTML_APPS.encode("gb18030")
    rec = assert_valid(parse(page))
    assert rec["title"] == "青山镇2022年政府信息公开工作年度报告"
    assert rec["tables"]["applications"]["new_requests"]["total"] == 21


TRADITIONAL = """某某縣青山鎮2017年政府信息公開工作年度報告
本年度報告中所列數據的統計期限自2017年1月1日起至2017年12月31日止。
一、概述
2017年,我鎮的政府信息公開工作在深化政府信息公開內容等方麵取得了新的進展,完善了黨務政務新聞發言人製度。
二、主動公開政府信息情況
一年來,公開政府信息63條。
"""


def test_traditional_text_is_converted_and_flagged():
    rec = record_of(TRADITIONAL)
    assert rec["script_normalized"] is True
    text = rec["sections"][0]["text"]
    assert "方面" in text and "方麵" not in text and "制度" in text and "製度" not in text
    assert rec["title"] == "某某县青山镇2017年政府信息公开工作年度报告"
    assert rec["format"] == "narrative" and rec["year"] == 2017


def test_simplified_text_is_not_flagged():
    assert record_of(HEAD + "一、总体情况\n本年度我镇认真贯彻落实条例。")["script_normalized"] is False


SPAM_PAGE = """1. 当前位置:
2. 首页 > 政务公开 > 公开年报
3. > 正文
青山镇2022年政府信息公开工作年度报告
发布时间:2023-01-20 10:00 浏览次数:321
字体:[ 大 中 小 ]
一、总体情况
2022年,澳门新葡京青山镇人民政府认真贯彻落实条例,关键词3做好公开工作。青(qīng)山镇公开信息120条。
二、主动公开政府信息情况
全年主动公开信息120条。
上一篇 : 白河镇2022年政府信息公开工作年度报告
下一篇 : 县水务局2022年政府信息公开工作年度报告
2024龙年春节祝福语
抖音最火的生日祝福语(精选49句)
主办:某某县人民政府 承办:某某县人民政府办公室
站内不良信息举报电话:0000-1234567
"""


def test_chrome_and_spam_removed_and_reported():
    rec = record_of(SPAM_PAGE)
    body = "\n".join(s["heading"] + s["text"] for s in rec["sections"])
    for gone in ("澳门新葡京", "关键词3", "(qīng)", "白河镇", "抖音", "浏览次数", "举报电话", "当前位置"):
        assert gone not in body and gone not in rec["title"]
        assert any(gone in r for r in rec["removed"]), gone
    assert rec["title"] == "青山镇2022年政府信息公开工作年度报告"
    assert rec["agency"] == "青山镇人民政府"
    assert rec["published"] == "2023-01-20"
    assert "青山镇人民政府认真贯彻落实条例,做好公开工作" in body


def test_title_never_taken_from_navigation():
    text = "一、概述\n2019年以来,青山镇人民政府认真贯彻落实条例。\n二、主动公开政府信息的情况\n公开信息75条。\n" \
           "上一篇 : 白河镇2019年政府信息公开工作年度报告\n"
    rec = record_of(text)
    assert rec["title"] is None
    assert rec["agency"] == "青山镇人民政府"
    assert rec["year"] == 2019 and rec["warnings"]


@pytest.mark.parametrize("text", ["", "某某县召开春季植树造林动员大会。\n会议强调要加强领导。",
                                  "<html><body><p>通知公告</p></body></html>"])
def test_non_report_is_unknown_with_warning(text):
    rec = record_of(text)
    assert rec["format"] == "unknown" and rec["warnings"]
    assert rec["tables"] == {}
