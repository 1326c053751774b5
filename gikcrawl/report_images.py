"""Images that carry a report: the `<img>` of a report page's content container when the page's own text
holds no statistics tables (an image-only 图片版 report, or tables published as pictures).

They are fetched like attachments (archived with the page as referer, OCRed by gikcrawl.documents, merged
into the page's record by gikcrawl.attachments), by the live crawl and by `gikcrawl replay` alike: both
call `carrier_links`. Only the content container is looked in (the site's `content` selector, else the
known CMS containers): images elsewhere on a page are logos, banners and QR codes.
"""
from __future__ import annotations

import io
import re
from urllib.parse import urljoin

from parsel import Selector

from .discovery import Link, attachment_links
from .parser.htmldoc import CONTAINERS
from .sites import SiteConfig, is_xpath

MAX_IMAGES = 40                  # per page: a gallery is not a report
_MIN_SIDE = 120                  # px, when the page says: smaller ones are icons and rules
_CHROME = re.compile(r"logo|icon|banner|qr_?code|ewm|erweima|share|print|close|btn|button|arrow|spacer|blank|"
                     r"loading|weixin|weibo|wechat", re.IGNORECASE)


def too_small(data: bytes) -> str | None:
    """Why an image cannot carry a report (fewer than _MIN_SIDE px on a side), read from its header only;
    None when it may. OCR of it would cost seconds of the crawl's one thread for nothing."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None                          # the extractor says what is wrong with it
    return f"image of {w}x{h} px is too small to carry a report; not OCRed" if min(w, h) < _MIN_SIDE else None


def _containers(sel: Selector, site: SiteConfig | None):
    if site and site.content:
        found = sel.xpath(site.content) if is_xpath(site.content) else sel.css(site.content)
        if found:
            return found
    for css in CONTAINERS:
        found = [el for el in sel.css(css) if el.css("img")]
        if found:
            return found
    return []


def _small(img) -> bool:
    for name in ("width", "height"):
        value = (img.attrib.get(name) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < _MIN_SIDE:
            return True
    return False


def report_images(sel: Selector, base: str, site: SiteConfig | None = None) -> list[Link]:
    """The images of the page's content container, in page order (at most MAX_IMAGES)."""
    out, seen = [], set()
    for container in _containers(sel, site):
        for img in container.css("img"):
            src = (img.attrib.get("src") or img.attrib.get("data-src") or img.attrib.get("original") or "").strip()
            if not src or src.startswith(("data:", "javascript:")) or _small(img) or _CHROME.search(src):
                continue
            url = urljoin(base, src).split("#")[0]
            if url not in seen:
                seen.add(url)
                out.append(Link(url, (img.attrib.get("alt") or img.attrib.get("title") or "").strip()))
    return out[:MAX_IMAGES]


def carrier_links(sel: Selector, base: str, site: SiteConfig | None, record: dict) -> list[Link]:
    """Everything that may carry the report besides the page: its attachments, and its content images when
    the page's text has no tables."""
    links = attachment_links(sel, base, site)
    if not record.get("tables"):
        known = {link.url for link in links}
        links += [link for link in report_images(sel, base, site) if link.url not in known]
    return links
