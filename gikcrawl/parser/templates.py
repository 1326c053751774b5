"""The official report templates: row and column definitions of the statutory tables.

Everything the table parsers recognise, and everything the fixture generator renders, comes from here,
so a label is defined once. Patterns are matched against normalised text (NFKC, simplified script,
whitespace removed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# --- 第二十条 主动公开 (active disclosure) ------------------------------------------------------------

CLAUSES = ("一", "五", "六", "八", "九")


def clause_label(numeral: str) -> str:
    return f"第二十条第({numeral})项"


@dataclass(frozen=True)
class Block:
    clause: str            # 第二十条第(一)项
    columns: tuple         # official column labels
    items: tuple           # official row labels


AD_2021 = (
    Block(clause_label("一"), ("本年制发件数", "本年废止件数", "现行有效件数"), ("规章", "行政规范性文件")),
    Block(clause_label("五"), ("本年处理决定数量",), ("行政许可",)),
    Block(clause_label("六"), ("本年处理决定数量",), ("行政处罚", "行政强制")),
    Block(clause_label("八"), ("本年收费金额(单位:万元)",), ("行政事业性收费",)),
)

AD_2019 = (
    Block(clause_label("一"), ("本年新制作数量", "本年新公开数量", "对外公开总数量"), ("规章", "规范性文件")),
    Block(clause_label("五"), ("上一年项目数量", "本年增/减", "处理决定数量"), ("行政许可", "其他对外管理服务事项")),
    Block(clause_label("六"), ("上一年项目数量", "本年增/减", "处理决定数量"), ("行政处罚", "行政强制")),
    Block(clause_label("八"), ("上一年项目数量", "本年增/减"), ("行政事业性收费",)),
    Block(clause_label("九"), ("采购项目数量", "采购总金额"), ("政府集中采购",)),
)

AD_TEMPLATES = {"2021": AD_2021, "2019": AD_2019}

# Column headers as printed -> official label. Keys are normalised (no whitespace, half-width punctuation).
AD_COLUMNS = {
    "本年制发件数": "本年制发件数",
    "本年废止件数": "本年废止件数",
    "现行有效件数": "现行有效件数",
    "本年处理决定数量": "本年处理决定数量",
    "本年收费金额(单位:万元)": "本年收费金额(单位:万元)",
    "本年收费金额(万元)": "本年收费金额(单位:万元)",
    "本年收费金额": "本年收费金额(单位:万元)",
    "本年新制作数量": "本年新制作数量",
    "本年新公开数量": "本年新公开数量",
    "对外公开总数量": "对外公开总数量",
    "上一年项目数量": "上一年项目数量",
    "本年增/减": "本年增/减",
    "本年增减": "本年增/减",
    "处理决定数量": "处理决定数量",
    "采购项目数量": "采购项目数量",
    "采购总金额": "采购总金额",
    "采购总金额(单位:万元)": "采购总金额",
}
# Columns that only the 2019 template has / only the 2021 template has: they decide the format.
AD_COLUMNS_2019_ONLY = {"本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
                        "采购项目数量", "采购总金额"}
AD_COLUMNS_2021_ONLY = {"本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额(单位:万元)"}

# Row labels: (pattern, label for 2021, label for 2019). Matched with re.search on the normalised label.
AD_ITEMS = (
    (re.compile(r"^规章"), "规章", "规章"),
    (re.compile(r"^(?:行政)?规范性文件"), "行政规范性文件", "规范性文件"),
    (re.compile(r"^行政许可"), "行政许可", "行政许可"),
    (re.compile(r"^其他对外管理服务事项"), "其他对外管理服务事项", "其他对外管理服务事项"),
    (re.compile(r"^行政处罚"), "行政处罚", "行政处罚"),
    (re.compile(r"^行政强制"), "行政强制", "行政强制"),
    (re.compile(r"^行政事业性收费"), "行政事业性收费", "行政事业性收费"),
    (re.compile(r"^政府集中采购"), "政府集中采购", "政府集中采购"),
    (re.compile(r"^其他主动公开"), "其他主动公开文件", "其他主动公开文件"),
)

# --- 收到和处理政府信息公开申请情况 (applications) ------------------------------------------------------

APPLICANT_COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_service",
                     "other_org", "total")
APPLICANT_COLUMN_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")


@dataclass(frozen=True)
class AppRow:
    key: str
    label: str          # official wording
    pattern: re.Pattern  # found in a normalised label
    result: bool        # one of the 三、本年度办理结果 rows summed into (七)总计


def _row(key, label, pattern, result=True):
    return AppRow(key, label, re.compile(pattern), result)


_APP_HEAD = (
    _row("new_requests", "一、本年新收政府信息公开申请数量", r"本年新收", False),
    _row("carried_over", "二、上年结转政府信息公开申请数量", r"上年结转", False),
    _row("granted", "(一)予以公开", r"予以公开"),
    _row("partially_granted", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)", r"部分公开"),
    _row("denied_state_secret", "1.属于国家秘密", r"国家秘密"),
    _row("denied_prohibited_by_law", "2.其他法律行政法规禁止公开", r"法律行政法规禁止公开"),
    _row("denied_security_stability", "3.危及“三安全一稳定”", r"三安全一稳定"),
    _row("denied_third_party_rights", "4.保护第三方合法权益", r"第三方合法权益"),
    _row("denied_internal_affairs", "5.属于三类内部事务信息", r"三类内部事务"),
    _row("denied_process_information", "6.属于四类过程性信息", r"四类过程性"),
    _row("denied_enforcement_files", "7.属于行政执法案卷", r"行政执法案卷"),
    _row("denied_administrative_query", "8.属于行政查询事项", r"行政查询事项"),
    _row("unavailable_not_held", "1.本机关不掌握相关政府信息", r"不掌握"),
    _row("unavailable_needs_creation", "2.没有现成信息需要另行制作", r"另行制作"),
    _row("unavailable_unclear", "3.补正后申请内容仍不明确", r"仍不明确"),
    _row("unhandled_petition", "1.信访举报投诉类申请", r"信访举报投诉"),
    _row("unhandled_repeated", "2.重复申请", r"重复申请"),
    _row("unhandled_publication", "3.要求提供公开出版物", r"公开出版物"),
    _row("unhandled_excessive", "4.无正当理由大量反复申请", r"大量反复申请"),
    _row("unhandled_reconfirmation", "5.要求行政机关确认或重新出具已获取信息", r"确认或重新出具"),
)
_APP_OTHER_2021 = (
    _row("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", r"逾期不补正"),
    _row("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
         r"缴纳费用"),
    _row("other_other", "3.其他", r"(?<![0-9])3[.、]?其他(?!法律|处理|结果|组织)"),
)
_APP_OTHER_2019 = (_row("other", "(六)其他处理", r"其他处理"),)
_APP_TAIL = (
    _row("results_total", "(七)总计", r"\(七\)总计|七[、.]总计", False),
    _row("carried_forward", "四、结转下年度继续办理", r"结转下年度|下年度继续办理", False),
)

APPLICATION_ROWS = {
    "2021": _APP_HEAD + _APP_OTHER_2021 + _APP_TAIL,
    "2019": _APP_HEAD + _APP_OTHER_2019 + _APP_TAIL,
}
# Group headings inside the table: they carry no numbers of their own (except 其他处理 in 2019).
APPLICATION_GROUPS = {
    "三、本年度办理结果": None,
    "(三)不予公开": None,
    "(四)无法提供": None,
    "(五)不予处理": None,
    "(六)其他处理": None,
}

# --- 行政复议、行政诉讼 (review and litigation) ----------------------------------------------------------

OUTCOME_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
OUTCOME_COLUMN_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
REVIEW_GROUPS = ("review", "litigation_direct", "litigation_after_review")
REVIEW_GROUP_LABELS = ("行政复议", "未经复议直接起诉", "复议后起诉")

# --- 2008-2018 统计表 (legacy) -------------------------------------------------------------------------

LEGACY_UNITS = ("人次", "万元", "条", "件", "次", "篇", "个", "人", "元", "项", "期", "场", "份", "家")

# --- report sections ----------------------------------------------------------------------------------

# Words that make a numbered line a section heading (2008-2023 designs, incl. the variants in domain.md §1).
SECTION_WORDS = re.compile(
    r"总体情况|概述|概况|主动公开|申请|复议|诉讼|问题|改进|其他需要报告|收费|减免|机构|经费|会议|培训|附表|"
    r"解读|回应|咨询|说明|情况|措施|计划|工作|事项|统计")
