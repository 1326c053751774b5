"""A link found on a page (URL, label, the viewer it came through) and the anchors of a page. Shared by the
generic discovery rules and the CMS families' list endpoints (gikcrawl/cms/)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from parsel import Selector


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    via: str | None = None       # the viewer page the document was linked through (sent as its Referer)


def anchors(sel: Selector, base: str) -> Iterator[Link]:
    """Every followable <a href> with its label: its text, or its title when that is longer."""
    for a in sel.xpath("//a[@href]"):
        href = (a.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        text = " ".join(" ".join(a.xpath(".//text()").getall()).split())
        title = (a.attrib.get("title") or "").strip()
        yield Link(urljoin(base, href).split("#")[0], title if len(title) > len(text) else text)
