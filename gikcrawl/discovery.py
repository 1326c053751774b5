"""Generic rules that find 公开年报 columns, list pages, report links and attachments (domain.md §3).

Pure functions over a parsel Selector and the page URL, so they are tested offline. A site entry's
selectors, when given, are used in addition to the generic rules.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from parsel import Selector

from . import carriers
from .sites import SiteConfig, is_xpath

COLUMN_TEXT = re.compile(r"^(?:政府)?(?:信息)?公开年报$|^政府信息公开(?:工作)?年度报告$|^(?:部门|乡镇|街道)?(?:政府)?"
                         r"信息公开年报$|^年度报告$|^公开年报$|^(?:19|20)\d{2}年(?:度)?(?:年报)?$")
COLUMN_SLUG = re.compile(r"/(?:zfxxgknb|xxgknb|bmxxgknb|xzxxgknb|jdxxgknb|gknb\d*|ndbg|\d{4}nb|nb\d{4}|"
                         r"zfxxgkndbg|xxgkndbg)(?:/|$|_|\.)", re.IGNORECASE)
REPORT_TITLE = re.compile(r"年度报告|年报|(?:信息公开|政务公开)(?:工作)?报告")
REPORT_YEAR = re.compile(r"(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4}")
REPORT_REJECT = re.compile(r"通知|关于(?:做好|印发|开展|报送|编制)|编制(?:和|与)?发布|解读|图解|问答|征集|要点|考核|"
                           r"评估|意见|方案|目录|指南|统计年报|企业年报|年报公示|年报申报")
PAGER_TEXT = re.compile(r"^(?:下一?页|下页|尾页|末页|>|>>|»|›|下一頁)$")
PAGER_HREF = re.compile(r"(?:index|default|list)[_\-]\d+\.s?html?$|[?&](?:page|pageno|pagenum|cur_page|curpage|"
                        r"pageindex|currpage|pn)=\d+", re.IGNORECASE)
_ATTACHMENT = re.compile(r"\.(?:%s)(?:$|[?#])" % "|".join(map(re.escape, carriers.followed_extensions())),
                         re.IGNORECASE)
_INDEX_PAGE = re.compile(r"(?:/|/index(?:_\d+)?\.s?html?|/default\.s?html?|/list\.s?html?)$", re.IGNORECASE)
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_JS_VAR = r"(?:var\s+|let\s+|const\s+)?{name}\s*=\s*(\d+)"
_DATAPROXY = re.compile(r"""["']?(/[^"'\s]*dataproxy\.jsp)["']?""")
_DATAPROXY_PARAM = re.compile(r"""["']?(columnid|unitid|webid|path|webname|permissiontype|col|appid|"""
                              r"""sourceContentType|perpage|proxyurl)["']?\s*[:=]\s*["']?([^"',}\s<]*)""")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    via: str | None = None       # the viewer page the document was linked through (sent as its Referer)


# --- document viewers (pdf.js web/viewer.html?file=…, gov CMS preview pages, kkFileView onlinePreview?url=…)
# A viewer page is named like one; the document it shows is in a file/url/path/src parameter, relative to the
# viewer (as pdf.js resolves it), percent-encoded once or twice, or base64 (kkFileView).
VIEWER_PAGE = re.compile(r"(?:^|[/_\-])(?:viewer|view|preview|onlinepreview|pdfjs|pdfview|pdfviewer|docview|"
                         r"fileview|showpdf|readpdf|yulan)(?:\.[a-z]{2,5})?$", re.IGNORECASE)
VIEWER_PARAMS = ("file", "url", "path", "src", "filepath", "fileurl", "doc", "pdf")


def _decoded(value: str) -> str:
    for _ in range(3):                # %252F → %2F → /
        if "%" not in value:
            break
        value = unquote(value)
    return value.strip()


def _base64_url(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9+/_\-]{12,}={0,2}", value):
        return None
    try:
        text = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
        text = text.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if re.match(r"https?://", text) else None


def viewer_target(url: str) -> str | None:
    """The document a viewer URL shows (absolute, resolved against the viewer), or None if url is not a
    viewer page with a document parameter."""
    parts = urlsplit(url)
    page = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not VIEWER_PAGE.search(page):
        return None                   # download.jsp?filename=x.pdf answers with the file itself
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key.lower() not in VIEWER_PARAMS:
            continue
        value = _decoded(value)
        value = _base64_url(value) or value
        if not value or value.startswith(("javascript:", "data:", "blob:")):
            continue
        target = urljoin(url, value)
        if urlsplit(target).scheme not in ("http", "https"):
            continue
        if _ATTACHMENT.search(urlsplit(target).path) or value.startswith(("/", "http://", "https://")):
            return target.split("#")[0]           # (a bare word, ?file=report, is not a URL)
    return None


def resolve_viewer(link: Link) -> Link:
    """A viewer link as a link to its document, the viewer kept as `via`; other links unchanged."""
    target = viewer_target(link.url)
    return Link(target, link.text, via=link.url) if target and target != link.url else link


def _anchors(sel: Selector, base: str):
    for a in sel.xpath("//a[@href]"):
        href = (a.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        text = " ".join(" ".join(a.xpath(".//text()").getall()).split())
        title = (a.attrib.get("title") or "").strip()
        yield Link(urljoin(base, href).split("#")[0], title if len(title) > len(text) else text)


def select_links(sel: Selector, base: str, selector: str) -> list[Link]:
    """Links under a configured selector (CSS or XPath matching <a> elements or their containers)."""
    nodes = sel.xpath(selector) if is_xpath(selector) else sel.css(selector)
    out = []
    for node in nodes:
        anchors = [node] if getattr(node.root, "tag", None) == "a" else node.xpath(".//a[@href]")
        for a in anchors:
            href = (a.attrib.get("href") or "").strip()
            if href and not href.startswith(("javascript:", "#")):
                text = " ".join(" ".join(a.xpath(".//text()").getall()).split())
                out.append(Link(urljoin(base, href).split("#")[0], a.attrib.get("title") or text))
    return out


def is_report_title(title: str) -> bool:
    title = " ".join(title.split())
    return bool(REPORT_TITLE.search(title) and REPORT_YEAR.search(title) and not REPORT_REJECT.search(title)
                and 6 <= len(title) <= 120)


def is_attachment_url(url: str) -> bool:
    if viewer_target(url):
        return True
    if _ATTACHMENT.search(urlsplit(url).path):
        return True
    return any(_ATTACHMENT.search(v) for _, v in parse_qsl(urlsplit(url).query))


def column_links(sel: Selector, base: str, site: SiteConfig | None = None) -> list[Link]:
    """Links to 公开年报 columns and their department/township sub-columns."""
    found = select_links(sel, base, site.columns) if site and site.columns else []
    base_dir = urlsplit(base).path.rsplit("/", 1)[0] + "/"
    for link in _anchors(sel, base):
        path = urlsplit(link.url).path
        if is_attachment_url(link.url) or is_report_title(link.text):
            continue
        named = len(link.text) <= 24 and bool(COLUMN_TEXT.search(link.text))
        slug = bool(COLUMN_SLUG.search(path)) and bool(_INDEX_PAGE.search(path) or "." not in path.rsplit("/", 1)[-1])
        below = (path.startswith(base_dir) and path != urlsplit(base).path and bool(_INDEX_PAGE.search(path))
                 and len(link.text) <= 24 and not PAGER_HREF.search(path) and base_dir != "/")
        if named or slug or below:
            found.append(link)
    return found


def _js_int(arg: str, script: str) -> int | None:
    arg = arg.strip().strip("'\"")
    if arg.isdigit():
        return int(arg)
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        m = re.search(_JS_VAR.format(name=re.escape(arg)), script)
        return int(m.group(1)) if m else None
    return None


def create_page_urls(html: str, base: str, max_pages: int | None = None) -> list[str]:
    """List pages announced by TRS's inline createPageHTML(pageCount, current, "index", "html"); at most
    max_pages + 1 of them, so a caller bounding a column sees that the bound was passed (never a silent cut)."""
    urls = []
    for m in _CREATE_PAGE.finditer(html):
        args = [a.strip() for a in m.group(1).split(",")]
        strings = [a.strip("'\"") for a in args if a[:1] in "'\""]
        numbers = [n for n in (_js_int(a, html) for a in args if a[:1] not in "'\"") if n is not None]
        if not numbers or len(strings) < 2:
            continue
        count, (prefix, ext) = numbers[0], strings[-2:]
        for n in range(count if max_pages is None else min(count, max_pages + 1)):
            name = f"{prefix}.{ext}" if n == 0 else f"{prefix}_{n}.{ext}"
            urls.append(urljoin(base, name))
    return urls


def pager_links(sel: Selector, base: str, site: SiteConfig | None = None, max_pages: int | None = None) -> list[str]:
    urls = [link.url for link in select_links(sel, base, site.next_page)] if site and site.next_page else []
    for link in _anchors(sel, base):
        if PAGER_TEXT.match(link.text) or PAGER_HREF.search(link.url):
            urls.append(link.url)
    urls += create_page_urls(sel.get() or "", base, max_pages)
    return urls


def template_pages(template: str, base: str, count: int) -> list[str]:
    return [urljoin(base, template.format(n=n)) for n in range(1, count)]


def report_links(sel: Selector, base: str, site: SiteConfig | None = None) -> list[Link]:
    """Links to report detail pages (and report attachments) by their titles."""
    configured = select_links(sel, base, site.report_links) if site and site.report_links else []
    out = list(configured)
    for link in _anchors(sel, base):
        verdict = site.title_ok(link.text) if site else None
        if verdict is False:
            continue
        if verdict or is_report_title(link.text):
            out.append(link)
    return [resolve_viewer(link) for link in out]


def attachment_links(sel: Selector, base: str, site: SiteConfig | None = None) -> list[Link]:
    out = select_links(sel, base, site.attachments) if site and site.attachments else []
    out += [link for link in _anchors(sel, base) if is_attachment_url(link.url)]
    return [resolve_viewer(link) for link in out]


@dataclass(frozen=True)
class DataProxy:
    url: str
    params: dict
    perpage: int


def dataproxy(html: str, base: str) -> DataProxy | None:
    """Hanweb JCMS lists served by POST /module/web/jpage/dataproxy.jsp (the page holds only the config).

    The form parameters come from the query string of the <nextgroup> link or of a `params: '…'` string,
    else from object-literal pairs (columnid: 1234, unitid: …).
    """
    m = _DATAPROXY.search(html)
    if not m:
        return None
    params: dict[str, str] = {}
    for query in re.findall(r"dataproxy\.jsp\?([^\"'<>\s]+)", html) + re.findall(
            r"""params["']?\s*:\s*["']([^"']+=[^"']*)["']""", html):
        params.update(parse_qsl(query.replace("&amp;", "&"), keep_blank_values=True))
    if not params:
        params = dict(_DATAPROXY_PARAM.findall(html))
    for name in ("perpage", "perPage", "proxyurl", "startrecord", "endrecord", "page"):
        params.pop(name, None)
    per = re.search(r"""perpage["']?\s*[:=]\s*["']?(\d+)""", html, re.IGNORECASE)
    return DataProxy(urljoin(base, m.group(1).split("?")[0]), params, int(per.group(1)) if per else 15)


def dataproxy_records(xml: str, base: str) -> tuple[list[Link], int | None]:
    """Links in a dataproxy answer and the total record count it announces."""
    records = re.findall(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", xml, re.DOTALL)
    links = []
    for record in records:
        links += list(_anchors(Selector(text=record), base))
    total = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", xml)
    return links, int(total.group(1)) if total else None
