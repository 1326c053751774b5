"""Report HTML → lines of text, tables as pipe rows with row/column spans resolved (our own lxml code).

Each data table row becomes one line "| a | b | c |" holding the row's own cells only: the cells a
rowspan or colspan covers are not repeated, and a blank cell stays an empty cell. The table parsers
therefore see exactly the cells the author typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree
from lxml.cssselect import CSSSelector

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
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=True)


@lru_cache(maxsize=256)
def _css(selector: str) -> CSSSelector:
    return CSSSelector(selector)


def drop_tree(el) -> None:
    """Remove an element and its children, keeping its tail text (lxml.html's drop_tree, for etree)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


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
    content_source: str | None = None             # <meta name="ContentSource">: the publishing body (政府网站指引)


def _text(el) -> str:
    # serialised as text in C: ~7x faster than joining itertext() on a table cell
    return " ".join(etree.tostring(el, method="text", encoding=str, with_tail=False).split())


# XPath expressions compiled once: `el.xpath(str)` compiles its expression at every call, which cost more
# than the rest of a table row's handling.
_X_ROWS = etree.XPath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
_X_CELLS = etree.XPath("./td|./th")
_X_STRAYS = etree.XPath("//comment()|//processing-instruction()")
_X_TITLE_METAS = etree.XPath("//meta[@name='ArticleTitle' or @name='articletitle' or @property='og:title']")
_X_METAS = etree.XPath("//meta[@content]")
_X_H1 = etree.XPath("//h1")
_X_TITLE = etree.XPath("//title")
_X_HEAD = etree.XPath("//head")
_X_IMAGES = etree.XPath(".//img")


def _is_data_table(table) -> bool:
    return table.find(".//table") is None


def _rows(table):
    return _X_ROWS(table)


def _span(cell, name: str, limit: int) -> int:
    value = cell.get(name)
    if value is None:
        return 1
    try:
        return max(1, min(int(value or 1), limit))
    except ValueError:
        return 1


def table_rows(table):
    """Each row's own cells (text), in column order, with rowspan/colspan resolved: a cell a span covers
    is not repeated. Streams row by row, keeping only the columns still covered by a rowspan from above."""
    covered: dict[int, int] = {}           # column -> rows it stays covered below the current row
    for tr in _rows(table):
        below: dict[int, int] = {}
        c, own = 0, []
        for cell in _X_CELLS(tr):
            while covered.get(c, 0) > 0:
                if covered[c] > 1:
                    below[c] = covered[c] - 1
                c += 1
            rs, cs = _span(cell, "rowspan", 500), _span(cell, "colspan", 100)
            own.append(_text(cell).replace("|", "/"))
            if rs > 1:
                for dc in range(cs):
                    below[c + dc] = rs - 1
            c += cs
        for col, left in covered.items():
            if col >= c and left > 1:
                below[col] = left - 1
        covered = below
        yield own


def table_lines(table) -> list[str]:
    return ["| " + " | ".join(own) + " |" for own in table_rows(table) if any(own)]


def _walk(el, out: list[str], buf: list[str], tables: dict) -> None:
    def flush():
        text = " ".join("".join(buf).split())
        if text:
            out.append(text)
        buf.clear()

    tag = el.tag if isinstance(el.tag, str) else ""
    if el in tables:                      # the body's lines, or a table met before: the same line objects
        flush()
        out.extend(tables[el])
    elif tag == "table" and _is_data_table(el):
        flush()
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


def _has_text(el) -> bool:
    return any(not t.isspace() for t in el.itertext() if t)


def _find_container(root):
    for selector in CONTAINERS:
        found = [el for el in _css(selector)(root) if _has_text(el)]
        if len(found) == 1:
            return found[0]
        if found:
            return max(found, key=lambda el: len(_text(el)))
    return None


def parse_html(html: str, container: str | None = None) -> HtmlDoc:
    """container: a CSS or XPath selector for the report body (a site's `content`); else the known ones."""
    # lxml refuses a str that still carries its XML encoding declaration (XHTML pages)
    html = _XML_DECLARATION.sub("", html, count=1)
    try:
        # plain etree elements: lxml.html's element-class lookup costs more than the walk itself
        root = etree.fromstring(html, _PARSER) if html.strip() else None
        if root is None:
            return HtmlDoc([], None)
    except (etree.LxmlError, ValueError):
        return HtmlDoc([], None)
    for el in _X_STRAYS(root):
        if el.getparent() is None:
            continue                    # outside <html>: not in the tree walked below
        drop_tree(el)
    etree.strip_elements(root, *_DROP, with_tail=False)
    titles = []
    for meta in _X_TITLE_METAS(root):
        if meta.get("content"):
            titles.append(" ".join(meta.get("content").split()))
    metas = _X_METAS(root)
    published = next((m.get("content") for m in metas
                      if (m.get("name") or m.get("property") or "").lower() in _DATE_METAS), None)
    content_source = next((m.get("content").strip() for m in metas
                           if (m.get("name") or "").lower() == "contentsource" and m.get("content").strip()), None)
    titles += [text for h in _X_H1(root) if (text := _text(h))]
    titles += [text for t in _X_TITLE(root) if (text := _text(t))]
    for head in _X_HEAD(root):
        head.getparent().remove(head)
    body_el = _select(root, container) if container else None
    if body_el is None:
        body_el = _find_container(root)
    # link lists: cut from a known container; without one, their texts let the trafilatura path drop them
    removed = _drop_link_lists(body_el) if body_el is not None else []
    link_texts = set() if body_el is not None else {
        _text(a) for block in _link_lists(root) for a in block.iter("a") if _text(a)}
    cache: dict = {}
    body = element_lines(body_el, cache) if body_el is not None else None
    if body is not None:
        cache[body_el] = body
    page = element_lines(root, cache)
    images = len(_X_IMAGES(body_el if body_el is not None else root))
    tables = [lines for el, lines in cache.items() if lines and el is not body_el]
    return HtmlDoc(page, body, titles, tables, images, published, removed,
                   link_texts, content_source)


_LIST_BLOCKS = {"ul", "ol", "div", "p", "dl", "span", "td"}


def _link_lists(root) -> list:
    """Blocks holding 4 or more links whose link text is nearly all of their text: SEO link farms injected
    into hacked articles, related-article lists, menus. Each link counts for its nearest block."""
    blocks: dict = {}
    for a in root.iter("a"):
        block = a.getparent()
        while block is not None and block.tag not in _LIST_BLOCKS:
            block = block.getparent()
        if block is not None and block.tag != "td":
            blocks.setdefault(block, []).append(a)
    found = []
    for block, links in blocks.items():
        if len(links) < 4 or block.find(".//table") is not None:
            continue
        text = _text(block).replace(" ", "")
        if text and sum(len(_text(a).replace(" ", "")) for a in links) >= 0.8 * len(text):
            found.append(block)
    return found


def _drop_link_lists(body) -> list[str]:
    """Cut link lists out of the report body; returns their text."""
    removed = []
    for el in _link_lists(body):
        if el.getparent() is not None:
            removed.append(_text(el))
            drop_tree(el)
    return removed


def drop_link_lines(lines: list[str], link_texts: set[str]) -> tuple[list[str], list[str]]:
    """Lines of extracted text that are the text of a link-list's link (trafilatura keeps them as "- text")."""
    kept, cut = [], []
    for line in lines:
        bare = line.strip().lstrip("-*• ").strip()
        (cut if bare and bare in link_texts else kept).append(line)
    return kept, cut


def _select(root, selector: str):
    found = root.xpath(selector) if selector.startswith(("/", "./", "(")) else _css(selector)(root)
    found = [el for el in found if isinstance(getattr(el, "tag", None), str)]
    return found[0] if found else None


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<meta")) or (
        head.startswith("<") and any(t in text[:65536].lower() for t in ("<p", "<div", "<table", "<br")))
