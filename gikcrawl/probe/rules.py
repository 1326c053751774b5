"""What a probe looks for on a page: links toward the 政府信息公开 portal, 公开年报 column candidates, the CMS
family (the markers of gikcrawl/cms/), the pager style, lists built by script, the government's name. Pure
functions over page text.

The column and report rules are discovery.py's (the crawl's own), so an entry the probe writes is one the
crawl will follow; the portal words are the navigation above the column (domain.md §3).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from parsel import Selector

from .. import cms, discovery
from ..links import anchors

# Link texts on the way from a homepage to the 公开年报 column, with the score of following them. Department
# and township portals come after the government's own (their columns are sub-columns of the crawl).
_PORTAL = (
    (60, re.compile(r"^法定主动公开(?:内容|目录)?$|^(?:政府)?信息公开(?:专栏|平台|目录)$|^主动公开(?:目录|内容)?$")),
    (50, re.compile(r"^政府信息公开$|^信息公开$")),
    (40, re.compile(r"^政务公开$|^公开目录$|^政务信息公开$")),
    (20, re.compile(r"^(?:部门|乡镇|街道|乡镇街道|乡镇（街道）|乡镇\(街道\))(?:政府)?信息公开(?:目录|平台)?$")),
)
_PORTAL_SLUG = re.compile(r"/(?:zfxxgk|xxgk|zwgk|gkml|fdzdgknr|zdgk|govinfo|gk)(?:[/_.]|$)|^xxgk\.|^zwgk\.",
                          re.IGNORECASE)
# never the way to the column: guides, rules, applications, feedback
_NOT_PORTAL = re.compile(r"指南|制度|规定|依申请|申请|意见|信箱|留言|解读|互动|办事|服务|新闻|动态|要闻|公告|通知")
_TOP_COLUMN = re.compile(r"^(?:政府)?(?:信息)?公开年报$|^政府信息公开(?:工作)?年度报告$|^(?:部门|乡镇|街道)?(?:政府)?"
                         r"信息公开(?:工作)?年(?:度)?报(?:告)?$|^年度报告$")

_SCRIPT_LIST = re.compile(r"document\.write|\$\.(?:ajax|get|getJSON|post)\s*\(|fetch\s*\(|XMLHttpRequest|"
                          r"innerHTML\s*[+]?=|\.json[\"'?]|appendChild|\.append\s*\(", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def nav_links(sel: Selector, base: str) -> list[discovery.Link]:
    """Every link of a page with its best label: text, else title, else the alt of its image (homepage
    navigation is often image buttons), image-map areas included."""
    return list(anchors(sel, base, "//a[@href] | //area[@href]", alt=True))


def portal_score(text: str, url: str) -> int:
    """How strongly a link leads toward the 政府信息公开 portal (0: not followed)."""
    text = " ".join(text.split())
    if not text or len(text) > 20 or _NOT_PORTAL.search(text) or discovery.is_attachment_url(url):
        return 0
    for score, pattern in _PORTAL:
        if pattern.search(text):
            return score
    parts = urlsplit(url)
    if _PORTAL_SLUG.search(parts.path) or _PORTAL_SLUG.search(parts.hostname or ""):
        return 10 if "公开" in text else 5
    return 0


def is_column_candidate(text: str, url: str) -> bool:
    """A link that names or slugs a 公开年报 column (not a bare year: those are only sub-columns)."""
    text = " ".join(text.split())
    if discovery.is_attachment_url(url) or discovery.is_report_title(text):
        return False
    if len(text) <= 24 and _TOP_COLUMN.search(text):
        return True
    path = urlsplit(url).path
    leaf = path.rsplit("/", 1)[-1]
    return bool(discovery.COLUMN_SLUG.search(path)) and ("." not in leaf or bool(re.match(
        r"(?:index|default|list)\.s?html?$", leaf))) and not discovery.REPORT_YEAR.search(text or "x")


def cms_markers(url: str, html: str) -> dict[str, list[str]]:
    """family -> markers seen on one page (its URL and its HTML): the families' own (gikcrawl/cms/)."""
    return cms.markers(url, html)


def cms_family(markers: dict[str, set[str]]) -> str:
    """The family with most distinct markers over the pages probed; 'generic' when none."""
    return cms.family_of(markers)


def pager_style(sel: Selector, html: str, url: str) -> str | None:
    """How a list page links its next pages: createPageHTML, dataproxy, next-link, index_N, query; None."""
    style = cms.pager_style(html, url)
    if style:
        return style
    links = discovery.select_links(sel, url, "//a[@href]")
    if any(discovery.PAGER_TEXT.match(link.text) for link in links):
        return "next-link"
    hrefs = [link.url for link in links if discovery.PAGER_HREF.search(link.url)]
    if any(re.search(r"[_\-]\d+\.s?html?$", h) for h in hrefs):
        return "index_N"
    if hrefs:
        return "query"
    return None


def script_built(html: str) -> bool:
    """Inline or external scripts that write a list into the page (a list only a browser shows)."""
    scripts = _SCRIPT.findall(html)
    return any(_SCRIPT_LIST.search(s) for s in scripts) or bool(
        re.search(r"<script[^>]+src=[\"'][^\"']*(?:list|column|data)[^\"']*\.js", html, re.IGNORECASE))


_JS_REDIRECT = re.compile(r"""(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']|"""
                          r"""location\.(?:replace|assign)\(\s*["']([^"']+)["']\s*\)""")


def shell_targets(sel: Selector, html: str) -> list[str]:
    """Where a homepage that is only a shell sends the browser: a script redirect (pages of a few hundred
    bytes holding only `location.href = "…"`), frames and iframes. Meta refreshes are followed by Scrapy."""
    out = [m.group(1) or m.group(2) for m in _JS_REDIRECT.finditer(html) if len(html) < 4096]
    out += sel.xpath("//frame/@src | //iframe/@src").getall()
    return [u.strip() for u in out if u.strip() and not u.strip().startswith(("javascript:", "about:"))]


_GOV_TAIL = re.compile(r"(?:人民政府(?:办公室|门户网站|网站)?|政府(?:门户)?网站?|门户网站)$")
_TITLE_SPLIT = re.compile(r"\s*[_|｜\-—–·]+\s*")
_HOST_ORG = re.compile(r"主办(?:单位)?\s*[:：]\s*([^\s　<|｜，,]{3,40})")


@dataclass(frozen=True)
class Government:
    name: str | None        # 维西傈僳族自治县人民政府
    source: str             # where it was read: title, footer, none


def title_parts(title: str) -> list[str]:
    """政府信息公开年报_某县人民政府 → the parts of a page title."""
    return [x.strip() for x in _TITLE_SPLIT.split(title) if x.strip()] or [""]


def government_name(sel: Selector) -> Government:
    """The government a homepage belongs to: a <title> part naming a 人民政府, else the footer's 主办 line."""
    title = " ".join(" ".join(sel.xpath("//title//text()").getall()).split())
    for part in _TITLE_SPLIT.split(title):
        part = part.strip()
        if part.endswith("人民政府") or (_GOV_TAIL.search(part) and len(part) <= 30):
            return Government(re.sub(r"(?:门户网站|网站)$", "", part), "title")
    text = " ".join(sel.xpath("//body//text()").getall())
    m = _HOST_ORG.search(text)
    if m:
        return Government(m.group(1), "footer")
    return Government(title or None, "title" if title else "none")


def host_key(url: str) -> str:
    """host[:port] as allowed_domains spells it (a port only when the URL names one)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def registered(host: str) -> str:
    """The registered domain (weixi.gov.cn for xxgk.weixi.gov.cn; an IP address stays itself)."""
    ext = _extractor()(host)
    return ".".join(p for p in (ext.domain, ext.suffix) if p) or host


@lru_cache(maxsize=1)
def _extractor():
    import tldextract
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)     # the bundled list: no download


def same_government(home: str, url: str, text: str) -> bool:
    """Whether a link to another host may still be the same government's site: the same registered domain
    (www.x.gov.cn → xxgk.x.gov.cn; another port of the same address), or a portal-named link to a gov.cn host
    (a county portal hosted on the city's platform)."""
    a, b = (urlsplit(home).hostname or "").lower(), (urlsplit(url).hostname or "").lower()
    if a == b or registered(a) == registered(b):
        return True
    return b.endswith(".gov.cn") and portal_score(text, url) >= 40
