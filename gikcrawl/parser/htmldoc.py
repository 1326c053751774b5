"""Report HTML → lines of text, tables as pipe rows with row/column spans resolved (our own lxml code).

Each data table row becomes one line "| a | b | c |" holding the row's own cells only: the cells a
rowspan or colspan covers are not repeated, and a blank cell stays an empty cell. The table parsers
therefore see exactly the cells the author typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

# Content containers of the CMSs in domain.md §3, most specific first.
CONTAINERS = (".TRS_Editor", ".Custom_UnionStyle", "#zoomcon", "#zoom", "#ivs_content", ".article-content",
              ".xxgk_content", ".zw-content", ".pages_content", "#UCAP-CONTENT", ".view", "article")
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "select", "button",
         "input", "textarea")
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "section",
          "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre", "center", "form",
          "address", "figure", "figcaption", "hr", "caption", "td", "th", "tbody", "thead", "body", "html"}


_DATE_METAS = {"pubdate", "publishdate", "firstpublishedtime", "publishtime", "publish_time", "published",
               "article:published_time", "dc.date", "dc.date.issued", "dcterms.issued", "releasedate"}
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


@dataclass
class HtmlDoc:
    lines: list[str]                              # the whole page
    body: list[str] | None                        # the content container, when one was found
    titles: list[str] = field(default_factory=list)   # <meta ArticleTitle>, <h1>, <title>, best first
    tables: list[list[str]] = field(default_factory=list)   # each data table's pipe rows, in page order
    images: int = 0                               # <img> in the report body (image-only reports)
    published: str | None = None                  # a PubDate/publishdate-style meta's content
    removed: list[str] = field(default_factory=list)   # link lists cut out of the report body
    link_texts: set[str] = field(default_factory=set)  # texts of the links in the page's link lists


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _is_data_table(table) -> bool:
    return not table.xpath(".//table")


def _rows(table):
    return table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")


def table_grid(table) -> list[list[tuple[str, bool]]]:
    """The table as a rectangular grid of (text, is_origin) with rowspan/colspan resolved."""
    grid: dict[tuple[int, int], tuple[str, bool]] = {}
    width = 0
    rows = _rows(table)
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr.xpath("./td|./th"):
            while (r, c) in grid:
                c += 1
            try:
                rs = max(1, min(int(cell.get("rowspan", 1) or 1), 500))
                cs = max(1, min(int(cell.get("colspan", 1) or 1), 100))
            except ValueError:
                rs = cs = 1
            text = _text(cell).replace("|", "/")
            for dr in range(rs):
                for dc in range(cs):
                    grid[(r + dr, c + dc)] = (text, dr == 0 and dc == 0)
            c += cs
            width = max(width, c)
    height = max((r for r, _ in grid), default=-1) + 1
    return [[grid.get((r, c), ("", False)) for c in range(width)] for r in range(height)]


def table_lines(table) -> list[str]:
    lines = []
    for row in table_grid(table):
        own = [text for text, origin in row if origin]
        if any(own):
            lines.append("| " + " | ".join(own) + " |")
    return lines


def _walk(el, out: list[str], buf: list[str], tables: dict) -> None:
    def flush():
        text = " ".join("".join(buf).split())
        if text:
            out.append(text)
        buf.clear()

    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "table" and _is_data_table(el):
        flush()
        if el not in tables:
            tables[el] = table_lines(el)
        out.extend(tables[el])
    else:
        if tag in _BLOCK or tag == "br":
            flush()
        if el.text and tag:
            buf.append(el.text)
        for child in el:
            _walk(child, out, buf, tables)
        if tag in _BLOCK:
            flush()
    if el.tail:
        buf.append(el.tail)


def element_lines(root, tables: dict | None = None) -> list[str]:
    """Lines of text under an element; tables: a cache of data tables' lines, filled as they are met."""
    out: list[str] = []
    buf: list[str] = []
    _walk(root, out, buf, {} if tables is None else tables)
    text = " ".join("".join(buf).split())
    if text:
        out.append(text)
    return out


def _find_container(root):
    for selector in CONTAINERS:
        found = [el for el in root.cssselect(selector) if _text(el)]
        if found:
            return max(found, key=lambda el: len(_text(el)))
    return None


def parse_html(html: str, container: str | None = None) -> HtmlDoc:
    """container: a CSS or XPath selector for the report body (a site's `content`); else the known ones."""
    # lxml refuses a str that still carries its XML encoding declaration (XHTML pages)
    html = _XML_DECLARATION.sub("", html, count=1)
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return HtmlDoc([], None)
    for el in root.xpath("//comment()|//processing-instruction()"):
        if el.getparent() is None:
            continue                    # outside <html>: not in the tree walked below
        el.drop_tree() if hasattr(el, "drop_tree") else el.getparent().remove(el)
    etree.strip_elements(root, *_DROP, with_tail=False)
    titles = []
    for meta in root.xpath("//meta[@name='ArticleTitle' or @name='articletitle' or @property='og:title']"):
        if meta.get("content"):
            titles.append(" ".join(meta.get("content").split()))
    published = next((m.get("content") for m in root.xpath("//meta[@content]")
                      if (m.get("name") or m.get("property") or "").lower() in _DATE_METAS), None)
    titles += [_text(h) for h in root.xpath("//h1") if _text(h)]
    titles += [_text(t) for t in root.xpath("//title") if _text(t)]
    for head in root.xpath("//head"):
        head.getparent().remove(head)
    body_el = _select(root, container) if container else None
    if body_el is None:
        body_el = _find_container(root)
    link_texts = {_text(a) for block in _link_lists(root) for a in block.xpath(".//a") if _text(a)}
    removed = _drop_link_lists(body_el) if body_el is not None else []
    cache: dict = {}
    page = element_lines(root, cache)
    body = element_lines(body_el, cache) if body_el is not None else None
    images = len((body_el if body_el is not None else root).xpath(".//img"))
    return HtmlDoc(page, body, titles, [lines for lines in cache.values() if lines], images, published, removed,
                   link_texts)


def _link_lists(root) -> list:
    """Blocks of 4 or more links whose link text is nearly all of their text: SEO link farms injected into
    hacked articles, related-article lists, menus. Outermost blocks only."""
    found = []
    for el in root.xpath(".//ul|.//ol|.//div|.//p|.//dl|.//span"):
        if el.xpath(".//table") or any(el in f.iterdescendants() for f in found[-3:]):
            continue
        links = el.xpath(".//a")
        if len(links) < 4:
            continue
        text = _text(el).replace(" ", "")
        if text and sum(len(_text(a).replace(" ", "")) for a in links) >= 0.8 * len(text):
            found.append(el)
    return found


def _drop_link_lists(body) -> list[str]:
    """Cut link lists out of the report body; returns their text."""
    removed = []
    for el in _link_lists(body):
        if el.getparent() is not None:
            removed.append(_text(el))
            el.drop_tree()
    return removed


def drop_link_lines(lines: list[str], link_texts: set[str]) -> tuple[list[str], list[str]]:
    """Lines of extracted text that are the text of a link-list's link (trafilatura keeps them as "- text")."""
    kept, cut = [], []
    for line in lines:
        bare = line.strip().lstrip("-*• ").strip()
        (cut if bare and bare in link_texts else kept).append(line)
    return kept, cut


def _select(root, selector: str):
    found = root.xpath(selector) if selector.startswith(("/", "./", "(")) else root.cssselect(selector)
    found = [el for el in found if isinstance(getattr(el, "tag", None), str)]
    return found[0] if found else None


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<meta")) or (
        head.startswith("<") and any(t in text[:65536].lower() for t in ("<p", "<div", "<table", "<br")))
