"""Report metadata: title, agency, region, statistics year, publication date, 索引号.

Taken from the report text and the page's metadata table, never from navigation (上一篇/下一篇 titles and
breadcrumbs are chrome and are not looked at).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

from .. import cms
from .chrome import clean_inline
from .normalize import squash

_TITLE_SPLIT = re.compile(r"\s*[_|｜]\s*|\s+[-—]+\s+")
_NAV = re.compile(r"上一篇|下一篇|上一条|下一条|当前位置|首页\s*>")
_NAME_LABELS = ("标题",) + cms.title_labels()
_NAME_FIELD = re.compile(r"^\|?\s*(?:%s)[\s:：|]*(.+?)[\s|]*$" % "|".join(
    r"\s*".join(map(re.escape, label)) for label in _NAME_LABELS))
_NAME_HEADS = frozenset(label[0] for label in _NAME_LABELS)
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")
_CN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_PERIOD = re.compile(r"((?:19|20)\d{2})年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—|~|～)\s*"
                     r"(?:((?:19|20)\d{2})年\s*)?12\s*月\s*31\s*日")
_ANY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_DATE = r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
_PUBLISHED = re.compile(r"(?:%s)[\s|:：]*" % "|".join(map(re.escape, (
    "发布日期", "发布时间", "发文日期", "公布日期", "生成日期", "信息时间", "发稿时间", "上传时间") + cms.date_labels())) + _DATE)
_PUBLISHED_WEAK = re.compile(r"(?:时间|日期)\s*[:：]\s*\|?\s*" + _DATE)
_ISO_DATE = re.compile(_DATE)
_INDEX_NO = re.compile(r"索\s*引\s*号[\s|:：]*([A-Za-z0-9][A-Za-z0-9\-_/.]*[A-Za-z0-9])")
_ORG = (r"(?:人民政府|街道办事处|办事处|委员会|办公室|服务中心|中心|政府|管理局|局|委|办|院|所|站|队|馆|厅|处|部|会|"
        r"党委|公司)")
_TITLE_PREFIX = re.compile(r"^(.*?)(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff()]{2,30}" + _ORG + r"$")
_COUNTY = r"(?:自治县|自治旗|县|旗|市|区)"
_REGION_PREFIX = re.compile(r"^([\u4e00-\u9fff]{2,12}?" + _COUNTY + r")(?=[\u4e00-\u9fff])")
_REGION_SPONSOR = re.compile(r"主办(?:单位)?[\s:：]*([\u4e00-\u9fff]{2,12}?" + _COUNTY + r")人民政府")
_REGION_BODY = re.compile(r"(?:^|[^\u4e00-\u9fff])([\u4e00-\u9fff]{2,10}?(?:自治县|自治旗|县|旗))人民政府")


_TITLE_WORDS = re.compile(r"^(?P<pre>.{0,60}?)(?:政府信息公开|政务公开|政府信息|信息公开|信息).{0,16}?"
                          r"(?:年度报告|年报|工作报告|公开报告)(?:\(.{1,12}\))?$")
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年|[〇○零一二三四五六七八九]{4}\s*年")
_TAG = re.compile(r"^【[^】]{1,6}】")
_BREADCRUMB = re.compile(r">|»|›")
_FLIPBOOK_PAGE = re.compile(r"^Page\d+[-–—:]", re.IGNORECASE)      # "Page 8 - …" headers of flipbook pages


def _title_text(line: str) -> str:
    """A line as a title candidate: pipes, pinyin and injected spam out, whitespace removed."""
    return _FLIPBOOK_PAGE.sub("", squash(clean_inline(line.replace("|", " "), [])))


def is_report_title(line: str) -> bool:
    if len(line) > 400:
        return False
    text = _title_text(line)
    return 6 <= len(text) <= 90 and not _NAV.search(line) and "。" not in text and not _BREADCRUMB.search(text) \
        and bool(_TITLE_WORDS.match(_TAG.sub("", text)))


def _title_score(text: str) -> int:
    m = _TITLE_WORDS.match(_TAG.sub("", text))
    pre = m.group("pre") if m else ""
    score = 4 if _YEAR.search(text) else 0
    parts = _YEAR.split(pre)
    before, after = parts[0], re.sub(r"^度", "", parts[-1]) if len(parts) > 1 else ""
    if before and _NAME_END.search(before) or len(after) >= 2 and _NAME_END.search(after):
        score += 2
    return score


def _chunked(line: str) -> str:
    """The report title inside a line that also carries the site name or column name before it, separated by
    spaces ("宝鸡市人民政府门户网站 部门 宝鸡市体育局2022年…报告"): the shortest tail that is a named title."""
    chunks = line.replace("|", " ").split()
    best = None
    for n in range(len(chunks) - 1, 0, -1):
        tail = " ".join(chunks[n:])
        if is_report_title(tail) and _title_score(_title_text(tail)) >= 6:
            best = tail
            break
    return best or line


def _name_field(line: str) -> re.Match | None:
    """A 标题:/名称: field line. Most lines start with no label's first character: told apart without the
    regex (the first character after one optional "|" and whitespace)."""
    stripped = line.strip()
    rest = stripped[1:].lstrip() if stripped.startswith("|") else stripped
    return _NAME_FIELD.match(stripped) if rest[:1] in _NAME_HEADS else None


def find_title(lines: list[str], limit: int) -> tuple[int, int, str] | None:
    """(first line, last line, text) of the report's title among the first lines: the best-named candidate
    (a year, a body's name before it), a title printed over two lines joined."""
    found: list[tuple[int, int, int, int, str]] = []
    shown = [i for i in range(min(limit, len(lines))) if lines[i].strip() and not _name_field(lines[i])]
    for n, i in enumerate(shown):
        line = lines[i]
        nxt = shown[n + 1] if n + 1 < len(shown) else None
        prev = shown[n - 1] if n > 0 else None
        if is_report_title(line):
            text = _title_text(_chunked(line))
            score = _title_score(text)
            if prev is not None and score < 6 and 2 <= len(squash(lines[prev])) <= 30:
                joined = _title_text(lines[prev]) + text
                if is_report_title(joined) and _title_score(joined) > score and not _CHROME_HINT.search(lines[prev]):
                    found.append((_title_score(joined), -i, prev, i, joined))
            found.append((score, -i, i, i, text))
        elif nxt is not None and len(squash(line)) <= 40:
            joined = _title_text(line) + _title_text(lines[nxt])
            if is_report_title(joined) and not is_report_title(lines[nxt]):
                found.append((_title_score(joined), -i, i, nxt, joined))
    if not found:
        return None
    score, _, first, last, text = max(found)
    return first, last, text


_CHROME_HINT = re.compile(r"[:：]|网站|首页|位置|来源|发布")
_NOT_A_REPORT = re.compile(r"解读|通知|图解|问答|答记者问")


def title_from(lines: list[str], title_text: str | None, html_titles: list[str]) -> str | None:
    """The report title: the page's own title fields when they name the report at least as well as the
    text does, then the text. None when the page's main title is that of a notice or an explanation (解读)."""
    text_score = _title_score(title_text) if title_text else -1
    for t in html_titles:
        for part in [t] + _TITLE_SPLIT.split(t):
            if is_report_title(part) and _title_score(_title_text(part)) >= text_score:
                return _title_text(part)
    if html_titles and _NOT_A_REPORT.search(html_titles[0]):
        return None
    for line in lines[:120]:
        m = _name_field(line)
        if m and is_report_title(m.group(1)) and _title_score(_title_text(m.group(1))) > text_score:
            return _title_text(m.group(1))
    return title_text


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


def _valid_date(m) -> str | None:
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def published_from(text: str, meta: str | None = None) -> str | None:
    """The publication date: a 发布日期/发布时间… field, the page's PubDate-style meta, a bare 时间:/日期: line."""
    for m in _PUBLISHED.finditer(text):
        if _valid_date(m):
            return _valid_date(m)
    m = _ISO_DATE.search(meta or "")
    if m and _valid_date(m):
        return _valid_date(m)
    for m in _PUBLISHED_WEAK.finditer(text):
        lead = text[max(0, m.start() - 2):m.start()]
        if (not lead or lead[-1] in " \t\n|" or lead == "更新") and _valid_date(m):
            return _valid_date(m)
    return None


def index_no_from(text: str) -> str | None:
    m = _INDEX_NO.search(text)
    return m.group(1) if m else None


_PLACE_END = re.compile(r"(?:省|自治区|市|自治州|州|盟|地区|自治县|自治旗|县|旗|区|镇|乡|苏木|街道)$")
_NAME_END = re.compile(_ORG + r"$|(?:镇|乡|街道|苏木|县|旗|市|区)$")
_SELF = re.compile(r"我|本(?:局|委|办|镇|乡|街道|区|县|市|机关|单位|部门|中心)|全年|全县|全市|全区|领导小组|下设|网站|"
                   r"门户|平台|栏目|专栏|公众号")
_SELF_BODY = re.compile(r"(?:我|本)(?:局|委|办|镇|乡|街道|区|县|市|机关|单位|部门|中心)")
_BARE_LEVEL = re.compile(r"^(?:省|市|县|区|州|盟|旗|乡|镇|街道)(?![\u4e00-\u9fff]{0,2}(?:区|县|市)(?:人民政府|政府)?$)")
_INTERNAL_OFFICE = re.compile(
    r"(?:党政(?:综合)?办(?:公室)?|综合(?:督考)?办(?:公室)?|(?:政府)?(?:信息公开|政务公开)?(?:工作)?领导小组办公室|(?:政府)?信息公开(?:办公室|处|科|办)|"
    r"政务公开(?:办公室|办|科)|办公室[\u4e00-\u9fff]{0,8}(?:处|科|股)|办公室)$")
_META_AGENCY = re.compile(r"(?<![\u4e00-\u9fff])(?:发布机构|发布单位|发文机关|发文单位|信息来源|来源|所属机构)[:：|]+"
                          r"([\u4e00-\u9fff()]{2,30}?)(?=\||$|发布|作者|浏览|点击|时间|日期|字号|索引)")
# "编制X2021年政府信息公开…", "由X编制"; then "汇总2021年度X的政务公开…" (the year before the name only)
_COMPILE_VERB = r"(?:编制|公布|公开|发布|汇总|形成|特向社会公开|特向社会公布)(?:了)?"
_COMPILED_BY = re.compile(
    _COMPILE_VERB + r"(?:(?:19|20)\d{2}年度?)?"
    r"([\u4e00-\u9fff()]{2,30}?)(?:的)?(?:(?:19|20)\d{2}年度?)(?:的)?(?:政府信息公开|政务公开|信息公开)"
    r"|由([\u4e00-\u9fff()]{2,30}?)(?:负责)?编制")
_COMPILED_AFTER_YEAR = re.compile(
    _COMPILE_VERB + r"(?:19|20)\d{2}年度?([\u4e00-\u9fff()]{2,30}?)的?(?:政府信息公开|政务公开|信息公开)")
_OPENING_SUBJECT = re.compile(
    r"(?:^|[,。;:])\s*(?:(?:19|20)\d{2}年(?:以来|度)?\s*[,]?\s*)?([\u4e00-\u9fff()]{2,25}?)"
    r"(?:认真|坚持|严格|深入|始终|按照|根据|紧紧|全面|高度|积极|围绕|继续|进一步|把|高标准)")
_CONTACT = re.compile(r"请(?:与|联系)[:：]?\s*([\u4e00-\u9fff()]{2,40}?)(?:联系|[,(])")
# "我局在X局官网上公开…": a report that names itself only as 我局/本委… names its own website after it; X
# is taken only when it is the same kind of body (局 for 我局), so a portal of the government is never taken
_OWN_SITE = re.compile(r"(?:我|本)(局|委|办)[^。;]{0,12}?在([\u4e00-\u9fff()]{2,30}?\1)(?:官网|网站|门户网站|政务网站|官方网站)")
_DATE_LINE = re.compile(r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?$")


def _expand(name: str, body: str) -> str | None:
    """A name printed without its place ("市体育局") → with the place the text puts before it elsewhere
    ("乐山市体育局"): a 2–4 character place that the text also names on its own with the same level."""
    level = name[0]
    best = None
    for m in re.finditer(r"([\u4e00-\u9fff]{2,4})" + re.escape(name), body):
        run = m.group(1)
        for size in (4, 3, 2):
            place = run[-size:]
            if len(place) == size and not _SELF.search(place) and body.count(place + level) >= 2:
                if best is None or len(place) > len(best):
                    best = place
                break
    return best + name if best else None


def agency_name(name: str | None, body: str = "", contact: bool = False) -> str | None:
    """A printed name as the reporting body's name, or None when it is not one (a self-reference like
    我局, a fragment, a website, a leading group's office). A bare place stands for its government."""
    if not name:
        return None
    name = squash(name).strip("|:,")
    if name.endswith(")") and name.count("(") < name.count(")") or name.startswith(")"):
        name = name.strip(")")
    if name.endswith("(") or name.count("(") > name.count(")"):
        name = name[:name.rfind("(")]
    if name.startswith("关于"):
        name = name[2:]
    if contact:
        stripped = _INTERNAL_OFFICE.sub("", name)
        if stripped != name and _NAME_END.search(stripped):
            name = stripped
    if len(name) < 2 or len(name) > 30 or _SELF.search(name) or not _NAME_END.search(name):
        return None
    if _BARE_LEVEL.match(name):
        name = _expand(name, body) or ""
        if not name:
            return None
    if name.endswith(("镇政府", "乡政府", "县政府", "市政府", "区政府", "旗政府")) and not name.endswith("人民政府"):
        name = name[:-2] + "人民政府"
    elif re.search(r"(?:镇|乡|苏木)$", name):
        name += "人民政府"
    elif name.endswith("街道"):
        name += "办事处"
    elif re.search(r"(?:县|旗|市|区)$", name) and not re.search(r"(?:新区|开发区|园区|管理区|示范区|高新区)$", name):
        name += "人民政府"
    return name


def _title_names(title: str) -> list[str]:
    """Names a title gives: before its year ("X2021年…"), between its year and 信息公开 ("2022年度X政府信息公开…"),
    or before 政府信息公开 when it has no year."""
    out = []
    m = _TITLE_PREFIX.match(title)
    if m and m.group(1).strip():
        out.append(m.group(1).strip())
    after = re.match(r"^(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年度?(.*?)(?:信息公开|政务公开|政府信息)", title)
    if after and len(after.group(1)) >= 2:
        out.append(after.group(1))
    if not _YEAR.search(title):
        before = re.match(r"^(.*?)(?:政府信息公开|政务公开|信息公开)", title)
        if before and before.group(1):
            out.append(before.group(1))
    return [_TAG.sub("", n) for n in out]


def _place_government(prefix: str, body: str) -> str | None:
    """A title prefix that is a place ("宿迁市", "福州市晋安区"): its government as the text names it."""
    for suffix in ("人民政府", "街道办事处", "办事处"):
        if prefix + suffix in body:
            return prefix + suffix
    return None


def agency_from(title: str | None, body: str, last_lines: list[str], opening: str,
                page_lines: list[str] = (), content_source: str | None = None) -> str | None:
    """The reporting body: the title's name, the page's 发布机构 field, the opening sentence (特编制X…报告,
    X认真贯彻…), a cover or signature line beside a date, the contact line; first that is a name."""
    for prefix in _title_names(title or ""):
        if prefix.endswith("关于"):
            prefix = prefix[:-2]
        if _PLACE_END.search(prefix):
            found = _place_government(prefix, body)
            if found:
                return found
        name = agency_name(prefix, body)
        if name:
            return name
        names = Counter(re.findall(re.escape(prefix) + r"[\u4e00-\u9fff]{0,10}?" + _ORG, body))
        for candidate in sorted(names, key=lambda n: (len(n), -names[n])):
            name = agency_name(candidate, body)
            if name:
                return name
    for line in page_lines[:60]:
        if len(line) < 300:
            for m in _META_AGENCY.finditer(squash(line)):
                name = agency_name(m.group(1), body)
                if name:
                    return name
    name = agency_name(content_source, body) if content_source else None
    if name:
        return name
    squashed = squash(opening)
    for pattern in (_COMPILED_BY, _COMPILED_AFTER_YEAR):
        for m in pattern.finditer(squashed):
            name = agency_name(m.group(m.lastindex), body)
            if name:
                return name
    # "本年度报告根据…" names no body: the body's own sentence may come later. A subject that is the body
    # speaking of itself (本局认真…) ends the search: a later subject is another body (县政府坚持…)
    for m in _OPENING_SUBJECT.finditer(squashed):
        name = agency_name(m.group(1), body)
        if name:
            return name
        if _SELF_BODY.search(m.group(1)):
            break
    shown = [squash(x) for x in page_lines[:40] if x.strip()] + [squash(x) for x in last_lines if x.strip()]
    for n, line in enumerate(shown):
        if _SIGNATURE.match(line) and n + 1 < len(shown) and _DATE_LINE.match(shown[n + 1]):
            name = agency_name(line, body)
            if name:
                return name
    for line in reversed(last_lines):
        if _SIGNATURE.match(squash(line)):
            name = agency_name(line, body)
            if name:
                return name
    for m in _CONTACT.finditer(squash(body)):
        name = agency_name(m.group(1), body, contact=True)
        if name:
            return name
    for m in _OWN_SITE.finditer(squash(body)):
        name = agency_name(m.group(2), body)
        if name:
            return name
    return None


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
