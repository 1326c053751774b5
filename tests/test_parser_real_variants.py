"""The real pages as other sites would serve the same report: the scored fields must not change.

Every real excerpt (shared/real, the seeds) is re-served the ways real sites and converters differ: CRLF
line ends, full-width digits, ideographic-space indents, no-break spaces, blank lines between lines,
trailing spaces, GB18030 / UTF-8 with BOM / UTF-16 with and without BOM bytes, Traditional script (OpenCC,
as mirrors convert), the portal's chrome around the article, and the page as an HTML article (a CMS content container, pipe rows as a <table>, the
URL known from the crawl). Each variant is scored with the shared scorer and compared with the plain text's
score of the same page: no variant may read a field the plain page reads wrongly, or lose one.
"""
from __future__ import annotations

import codecs
import functools
import html
import importlib.util
import json
from pathlib import Path

import opencc
import pytest

from conftest import SHARED

from gikcrawl.parser import parse

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@functools.cache
def _scorer():
    spec = importlib.util.spec_from_file_location("score", SHARED / "tools" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _pages() -> list[tuple[Path, dict]]:
    out = []
    for folder in (SHARED / "real", SHARED / "seeds"):
        for page in sorted(folder.glob("*.txt")):
            expected = folder / "expected" / (page.stem + ".json")
            if expected.exists():
                out.append((page, json.loads(expected.read_text(encoding="utf-8"))))
    return out


def _split_url(text: str) -> tuple[str | None, str]:
    """(URL, rest): real excerpts start with the page's URL line, seeds do not."""
    first, _, rest = text.partition("\n")
    return (first.strip(), rest) if first.startswith("http") else (None, text)


def _as_article(text: str) -> str:
    """The text as a CMS article page: lines as paragraphs, runs of pipe rows as one table."""
    _, body = _split_url(text)
    parts, rows = [], []
    for line in body.split("\n") + [""]:
        cells = line.strip()
        if cells.startswith("|") and cells.endswith("|") and len(cells) > 1:
            rows.append("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in cells[1:-1].split("|")) + "</tr>")
            continue
        if rows:
            parts.append("<table>" + "".join(rows) + "</table>")
            rows = []
        parts.append(f"<p>{html.escape(line)}</p>")
    return ("<html><head><meta charset='utf-8'><title></title></head><body><div class='TRS_Editor'>"
            + "\n".join(parts) + "</div></body></html>")


def _indent(text: str) -> str:
    return "\n".join("\u3000\u3000" + line if line and not line.startswith(("|", "http")) else line
                     for line in text.split("\n"))


def _in_site_chrome(text: str) -> str:
    """The page as a portal prints it around the article: breadcrumb, source/views, tools, neighbour articles
    and footer (nothing in them that contradicts the page: no other date, no other place)."""
    url, body = _split_url(text)
    return ((url + "\n" if url else "") + "网站首页 > 政务公开 > 政府信息公开年报\n来源:本网 浏览次数:128\n"
            "【字体:大 中 小】 【打印】 【关闭】\n" + body + "\n上一篇:关于印发2021年工作要点的通知\n"
            "下一篇:2020年政府信息公开工作年度报告\n版权所有 © 2022 网站标识码:3300000001 ICP备12345678号")


def _full_width_digits(text: str) -> str:
    url, body = _split_url(text)
    return (url + "\n" if url else "") + body.translate(_FULL_WIDTH)


_VARIANTS = {
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "full-width digits": _full_width_digits,
    "ideographic indent": _indent,
    "no-break spaces": lambda t: t.replace(" ", "\u00a0"),
    "blank lines": lambda t: t.replace("\n", "\n\n"),
    "trailing spaces": lambda t: t.replace("\n", "  \n"),
    "gb18030": lambda t: t.encode("gb18030"),
    "utf-8 bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16 bom": lambda t: t.encode("utf-16"),
    "utf-16le no bom": lambda t: t.encode("utf-16-le"),
    "traditional": lambda t: opencc.OpenCC("s2t").convert(t),
    "html article": _as_article,
    "site chrome": _in_site_chrome,
}


@pytest.fixture(scope="module")
def plain_scores(shared_dir):
    score = _scorer()
    out = {}
    for page, expected in _pages():
        tally = score.Tally(False)
        score.score_record(page.stem, expected, parse(page.read_text(encoding="utf-8"), path=str(page)), tally)
        out[page] = tally.ok
    return out


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_a_real_page_served_another_way_reads_the_same(variant, plain_scores):
    score = _scorer()
    pages = _pages()
    assert len(pages) >= 73
    lost = []
    for page, expected in pages:
        text = page.read_text(encoding="utf-8")
        url, _ = _split_url(text)
        record = parse(_VARIANTS[variant](text), path=str(page), url=url if variant == "html article" else None)
        tally = score.Tally(False)
        score.score_record(page.stem, expected, record, tally)
        if tally.ok < plain_scores[page]:
            lost.append((page.name, tally.misses))
        assert tally.silent == 0, (page.name, tally.misses)
    assert not lost, lost
