"""The codebook: every column of every table (CSV and Markdown), the 2019↔2021 crosswalk, the rules."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .columns import CROSS_RULES, INDICATOR_NOTE, TABLES, Column
from .writers import _atomic, arrow_type

FIELDS = ("table", "column", "type", "parquet_type", "label_zh", "description", "templates", "unit", "formula",
          "crosswalk_2019_2021")

_TABLE_DOC = {
    "reports": "one row per report (the wide table): identity, quality counts, duplicates, one column per "
               "figure of tables 2–4 (empty when the figure does not exist in the report's template or its "
               "cell was blank or unread — never 0), indicators",
    "figures_long": "one row per figure of every table in every report, the legacy 统计表 included",
    "warnings": "one row per warning: the parser's, and the export's own (unresolved region, a cell that is not "
                "a count)",
    "checks": "one row per check: the parser's checks within a report, cross-year checks, duplicate checks",
    "agencies": "one row per agency id",
}


def rows() -> list[dict]:
    out = []
    for table, columns in TABLES.items():
        for c in columns:
            out.append({"table": table, "column": c.name, "type": c.dtype, "parquet_type": str(arrow_type(c.dtype)),
                            "label_zh": c.label_zh, "description": c.description or c.table, "templates": ",".join(c.templates),
                            "unit": c.unit, "formula": c.formula, "crosswalk_2019_2021": c.crosswalk})
    return out


def write_codebook(out_dir: Path) -> None:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, FIELDS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows())
    _atomic(out_dir / "codebook.csv", buf.getvalue().encode("utf-8-sig"))
    _atomic(out_dir / "codebook.md", markdown().encode("utf-8"))


def _md(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _table_md(columns: list[Column], figure: bool) -> list[str]:
    if figure:
        head = "| column | type | label (统计表) | templates | unit | 2019↔2021 |\n|---|---|---|---|---|---|"
        body = [f"| `{c.name}` | {c.dtype} | {_md(c.label_zh)} | {','.join(c.templates)} | {c.unit} | "
                f"{_md(c.crosswalk)} |" for c in columns]
    else:
        head = "| column | type | label | meaning | formula |\n|---|---|---|---|---|"
        body = [f"| `{c.name}` | {c.dtype} | {_md(c.label_zh)} | {_md(c.description)}"
                f"{' (' + c.unit + ')' if c.unit else ''} | {_md(c.formula)} |" for c in columns]
    return [head, *body, ""]


def markdown() -> str:
    lines = ["# gikcrawl dataset codebook", "",
             ("Types: int (a count), signed (a signed delta such as 本年增/减), money (a decimal, 万元, "
             "Parquet decimal128(24,6)), ratio (float), str, bool, date, timestamp (UTC). In CSV an empty cell "
             "is null. Every figure is the number printed in the report, never corrected; a failed check is a "
             "finding in the checks table."), ""]
    for table, columns in TABLES.items():
        lines += [f"## {table}", "", _TABLE_DOC[table] + ".", ""]
        if table == "reports":
            groups: dict[str, list[Column]] = {}
            for c in columns:
                groups.setdefault(c.table, []).append(c)
            for group, cols in groups.items():
                title = {"table2": "Table 2 — 主动公开政府信息情况 (第二十条)", "table3": "Table 3 — 收到和处理政府信息公开申请情况",
                         "table4": "Table 4 — 政府信息公开行政复议、行政诉讼情况", "indicator": "Indicators"}.get(group, group)
                lines += [f"### {title}", ""]
                if group == "indicator":
                    lines += [f"Indicators are {INDICATOR_NOTE}; year-on-year ones use canonical reports only.", ""]
                lines += _table_md(cols, group.startswith("table"))
        else:
            lines += _table_md(columns, False)
    lines += ["## 2019 ↔ 2021 crosswalk", "",
              ("Table 3 and table 4 are the same in both templates except 三(六)其他处理: one row in 2019 "
              "(`other`), three in 2021 (`other_no_correction`, `other_unpaid_fee`, `other_other`); their sum is the "
              "2019 row. Table 2 changed:"), "",
              "| 2021 figure | 2019 figure | relation |", "|---|---|---|",
              "| 本年制发件数 (`*_issued`) | 本年新制作数量 (`*_made`) | similar, not equal |",
              "| 本年废止件数 (`*_repealed`) | — | none |",
              "| 现行有效件数 (`*_in_force`) | 对外公开总数量 (`*_public_total`) | similar, not equal |",
              "| — | 本年新公开数量 (`*_made_public`) | none |",
              "| 本年处理决定数量 (`*_decisions`) | 处理决定数量 (`*_decisions`) | same column |",
              "| — | 上一年项目数量, 本年增/减 (`*_items_prev_year`, `*_items_change`) | none |",
              "| 行政事业性收费 本年收费金额 (`t2_fees_amount`) | — | none (2019 counts fee items) |",
              "| — | 其他对外管理服务事项 (`t2_other_services_*`) | none |",
              "| — | 第二十条第(九)项 政府集中采购 (`t2_procurement_*`) | none |",
              "| 行政规范性文件 | 规范性文件 | same row (`t2_normative_docs_*`) |", "",
              "## Checks", "",
              "| rule | scope | meaning |", "|---|---|---|",
              ("| applications_balance, applications_row_totals, applications_results_total, review_total, "
              "litigation_direct_total, litigation_after_review_total | report | the parser's checks (README) |")]
    lines += [f"| {rule} | {scope} | {_md(text)} |" for rule, (scope, text) in CROSS_RULES.items()]
    lines += ["", "## Duplicates", "",
              ("Reports of one agency (agency_id) and year are one group (`dup_group`). The canonical report is the "
              "first by: figures present at all, fewest failed checks, fewest warnings, most figures present, most structured carrier "
              "(html, then docx/xlsx/xls, then doc/wps/rtf, then pdf, then ocr), newest capture, URL. The others are "
              "kept (canonical = false); each is compared with the canonical one figure by figure "
              "(duplicate_figures_agree). Indicators' year-on-year values and cross-year checks use canonical "
              "reports only."), ""]
    return "\n".join(lines)
