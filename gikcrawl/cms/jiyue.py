"""Province 集约化 platforms, Jiangsu's (ucap) (domain.md §3): details /<site>/gknb/YYYYMM/<32hex>.shtml, or
/art/YYYY/M/D/<id>.shtml outside the column; department and township sub-columns (bmxxgknb/, xzxxgknb/); a
metadata table 名称/索引号/分类/发布机构/公开日期(发文日期)/文号 above the body in #zoomcon (#UCAP-CONTENT on
ucap pages). The family is named `jiyue`: the name `gikcrawl sites probe` writes and the replica's style."""
from __future__ import annotations

import re

from .family import Family, Marker

FAMILY = Family(
    name="jiyue",
    label="集约化 province platform (Jiangsu, ucap)",
    markers=(Marker("YYYYMM/<32hex>.shtml details", re.compile(r"/20\d{4}/[0-9a-f]{32}\.shtml")),
             Marker("#zoomcon", re.compile(r"id=[\"']zoomcon[\"']")),
             Marker("/art/Y/M/D/N.shtml details", re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/\d+\.shtml")),
             Marker("#UCAP-CONTENT", re.compile(r"id=[\"']UCAP-CONTENT[\"']"))),
    containers=("#zoomcon", "#UCAP-CONTENT"),
    # 名称: the document's name in the metadata table (suqian.gov.cn: 名称 宿迁市2017年政府信息公开年度报告)
    title_labels=("名称",),
    date_labels=("公开日期",),
)
