"""拓尔思 TRS WCM (domain.md §3): details /<column>/YYYYMM/tYYYYMMDD_<id>.html; list pages index.html,
index_1.html, … whose pager is written by inline JavaScript createPageHTML(pageCount, current, "index",
"html") (no links in the markup); the body in .TRS_Editor or .Custom_UnionStyle."""
from __future__ import annotations

import re
from urllib.parse import urljoin

from .family import Family, Marker, Pager

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_JS_VAR = r"(?:var\s+|let\s+|const\s+)?{name}\s*=\s*(\d+)"


def _js_int(arg: str, script: str) -> int | None:
    arg = arg.strip().strip("'\"")
    if arg.isdigit():
        return int(arg)
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        m = re.search(_JS_VAR.format(name=re.escape(arg)), script)
        return int(m.group(1)) if m else None
    return None


def create_page_urls(html: str, base: str, max_pages: int | None = None) -> list[str]:
    """List pages announced by createPageHTML(pageCount, current, "index", "html") (also the variant with an
    element id first); at most max_pages + 1 of them, so a caller bounding a column sees that the bound was
    passed (never a silent cut)."""
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


FAMILY = Family(
    name="trs",
    label="拓尔思 TRS WCM",
    markers=(Marker("createPageHTML", re.compile(r"createPageHTML\s*\(")),
             Marker("TRS_Editor / Custom_UnionStyle",
                    re.compile(r"class=[\"'][^\"']*(?:TRS_Editor|Custom_UnionStyle)")),
             Marker("tYYYYMMDD_N.html details", re.compile(r"/t20\d{6}_\d+\.s?html?")),
             Marker("TRS meta", re.compile(r"<meta[^>]+(?:TRS|trs\.com\.cn)", re.IGNORECASE))),
    containers=(".TRS_Editor", ".Custom_UnionStyle"),
    pager=Pager("createPageHTML", create_page_urls),
)
