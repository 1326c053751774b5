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


def anchors(sel: Selector, base: str, xpath: str = "//a[@href]", alt: bool = False) -> Iterator[Link]:
    """Every followable link (the elements xpath selects) with its label: its text, or its title when that is
    longer; with alt, a link with neither is labelled by the alt of its image (or its own, on an <area>)."""
    for a in sel.xpath(xpath):
        href = (a.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        text = " ".join(" ".join(a.xpath(".//text()").getall()).split())
        title = (a.attrib.get("title") or "").strip()
        label = title if len(title) > len(text) else text
        if alt and not label:
            label = " ".join(a.xpath(".//img/@alt | @alt").getall()).strip()
        yield Link(urljoin(base, href).split("#")[0], label)
