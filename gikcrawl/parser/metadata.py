"""Report metadata: title, agency, region, statistics year, publication date, 索引号.

Taken from the report text and the page's metadata table, never from navigation (上一篇/下一篇 titles and
breadcrumbs are chrome and are not looked at).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

from .normalize import squash

_TITLE = re.compile(r"^.{0,70}?(?:政府信息公开|政务公开|信息公开).{0,24}?(?:年度报告|年报)(?:\(.{1,12}\))?$")
_TITLE_SPLIT = re.compile(r"\s*[_|｜]\s*|\s+[-—]+\s+")
_NAV = re.compile(r"上一篇|下一篇|上一条|下一条|当前位置|首页\s*>")
_NAME_FIELD = re.compile(r"^\|?\s*(?:名\s*称|标\s*题)[\s:：|]*(.+?)[\s|]*$")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")
_CN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_PERIOD = re.compile(r"((?:19|20)\d{2})年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—|~|～)\s*"
                     r"(?:((?:19|20)\d{2})年\s*)?12\s*月\s*31\s*日")
_ANY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_PUBLISHED = re.compile(r"(?:发布日期|公开日期|发布时间|发文日期|公布日期|生成日期|信息时间)[\s|:：]*"
                        r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_INDEX_NO = re.compile(r"索\s*引\s*号[\s|:：]*([A-Za-z0-9][A-Za-z0-9\-_/.]*[A-Za-z0-9])")
_ORG = (r"(?:人民政府|街道办事处|办事处|委员会|办公室|服务中心|中心|政府|管理局|局|委|办|院|所|站|队|馆|厅|处|部|会|"
        r"党委|公司)")
_ORG_END = re.compile(_ORG + r"$")
_TITLE_PREFIX = re.compile(r"^(.*?)(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff()]{2,30}" + _ORG + r"$")
_OPENING_AGENCY = re.compile(
    r"(?:^|[,。;:])\s*(?:(?:19|20)\d{2}年(?:以来|度)?\s*[,]?\s*)?([\u4e00-\u9fff]{2,25}?" + _ORG + r")"
    r"(?:认真|坚持|严格|深入|始终|按照|根据|紧紧|全面|高度|积极|围绕|以|在|继续|进一步|把)")
_COUNTY = r"(?:自治县|自治旗|县|旗|市|区)"
_REGION_PREFIX = re.compile(r"^([\u4e00-\u9fff]{2,12}?" + _COUNTY + r")(?=[\u4e00-\u9fff])")
_REGION_SPONSOR = re.compile(r"主办(?:单位)?[\s:：]*([\u4e00-\u9fff]{2,12}?" + _COUNTY + r")人民政府")
_REGION_BODY = re.compile(r"(?:^|[^\u4e00-\u9fff])([\u4e00-\u9fff]{2,10}?(?:自治县|自治旗|县|旗))人民政府")


def is_report_title(line: str) -> bool:
    text = squash(line)
    return 6 <= len(text) <= 90 and not _NAV.search(line) and bool(_TITLE.match(text))


def find_title_line(lines: list[str], limit: int) -> int | None:
    """Index of the report's title among the first lines (before the first section heading)."""
    for i, line in enumerate(lines[:limit]):
        if not _NAME_FIELD.match(line.strip()) and is_report_title(line):   # 名称 fields are metadata
            return i
    return None


_NOT_A_REPORT = re.compile(r"解读|通知|图解|问答|答记者问")


def title_from(lines: list[str], title_text: str | None, html_titles: list[str]) -> str | None:
    """The report title: the page's own title fields first, then the text. None when the page's main
    title is that of a notice or an explanation (解读) about a report."""
    for t in html_titles:
        for part in [t] + _TITLE_SPLIT.split(t):
            if is_report_title(part):
                return squash(part)
    if html_titles and _NOT_A_REPORT.search(html_titles[0]):
        return None
    for line in lines:
        m = _NAME_FIELD.match(line.strip())
        if m and is_report_title(m.group(1)):
            return squash(m.group(1))
    return squash(title_text) if title_text else None


def year_from(title: str | None, text: str, warnings: list[str]) -> int | None:
    period = _PERIOD.search(text)
    from_period = int(period.group(1)) if period and (not period.group(2) or period.group(2) == period.group(1)) \
        else None
    from_title = None
    if title:
        m = _YEAR_IN_TITLE.search(title)
        if m:
            from_title = int(m.group(1))
        else:
            m = _CN_YEAR.search(title)
            if m:
                from_title = int(m.group(1).translate(_CN_DIGITS))
    if from_period and from_title and from_period != from_title:
        warnings.append(f"year: title says {from_title}, statistics period says {from_period}; "
                        f"the statistics period is used")
    if from_period or from_title:
        return from_period or from_title
    years = Counter(int(y) for y in _ANY_YEAR.findall(text[:3000]))
    if years:
        year, count = years.most_common(1)[0]
        warnings.append(f"year: no title year or statistics period; {year} is the year the opening text "
                        f"names most ({count}×)")
        return year
    return None


def published_from(text: str) -> str | None:
    for m in _PUBLISHED.finditer(text):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            continue
    return None


def index_no_from(text: str) -> str | None:
    m = _INDEX_NO.search(text)
    return m.group(1) if m else None


def agency_from(title: str | None, body: str, last_lines: list[str], opening: str) -> str | None:
    prefix = None
    if title:
        m = _TITLE_PREFIX.match(title)
        prefix = m.group(1).strip() if m else None
        if prefix and prefix.endswith("关于"):
            prefix = prefix[:-2]
    if prefix and _ORG_END.search(prefix):
        return prefix
    if prefix:
        names = Counter(re.findall(re.escape(prefix) + r"[\u4e00-\u9fff]{0,10}?" + _ORG, body))
        if names:
            return min(names, key=lambda n: (len(n), -names[n]))
        return prefix
    for line in reversed(last_lines):
        if _SIGNATURE.match(squash(line)):
            return squash(line)
    m = _OPENING_AGENCY.search(squash(opening))
    return m.group(1) if m else None


def region_from(agency: str | None, title: str | None, all_text: str) -> str | None:
    for name in (agency, title):
        if name:
            m = _REGION_PREFIX.match(name)
            if m:
                return m.group(1)
    for pattern in (_REGION_SPONSOR, _REGION_BODY):
        m = pattern.search(all_text)
        if m:
            return m.group(1)
    return None
