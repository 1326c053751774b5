"""大汉 Hanweb JCMS (domain.md §3): columns /col/colNNN/index.html, details /art/YYYY/M/D/art_<col>_<id>.html;
list data from POST /module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage= answering XML with
CDATA records (the column page holds only the jpage config); an annual-report module
/module/xxgk/xxgkAnnualReport.jsp?area=<unit code>&fbtime=<year>; the body in #zoom."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin

from .family import Endpoint, Family, Marker

_DATAPROXY = re.compile(r"""["']?(/[^"'\s]*dataproxy\.jsp)["']?""")
_DATAPROXY_PARAM = re.compile(r"""["']?(columnid|unitid|webid|path|webname|permissiontype|col|appid|"""
                              r"""sourceContentType|perpage|proxyurl)["']?\s*[:=]\s*["']?([^"',}\s<]*)""")
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")


def records(xml: str, base: str) -> tuple[list, int | None]:
    """Links in a dataproxy answer and the total record count it announces."""
    from parsel import Selector        # the parser imports this package for its containers; it needs no parsel

    from ..links import anchors
    links = []
    for record in _RECORD.findall(xml):
        links += list(anchors(Selector(text=record), base))
    total = _TOTAL.search(xml)
    return links, int(total.group(1)) if total else None


@dataclass(frozen=True)
class DataProxy:
    url: str
    params: dict
    perpage: int

    def page_url(self, start: int, pages: int = 1) -> tuple[str, int]:
        end = start + self.perpage * pages - 1
        return f"{self.url}?{urlencode({'startrecord': start, 'endrecord': end, 'perpage': self.perpage})}", end

    def records(self, text: str, base: str) -> tuple[list, int | None]:
        return records(text, base)


def dataproxy(html: str, base: str) -> DataProxy | None:
    """The dataproxy a list page configures. The form parameters come from the query string of the
    <nextgroup> link or of a `params: '…'` string, else from object-literal pairs (columnid: 1234, unitid: …)."""
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


FAMILY = Family(
    name="hanweb",
    label="大汉 Hanweb JCMS",
    markers=(Marker("/col/colN/ columns", re.compile(r"/col/col\d+/")),
             Marker("/art/Y/M/D/art_ details", re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html")),
             Marker("jpage dataproxy", re.compile(r"dataproxy\.jsp|jquery\.jpage|jpage\(")),
             Marker("xxgkAnnualReport module", re.compile(r"/module/xxgk/xxgkAnnualReport\.jsp")),
             Marker("hanweb", re.compile(r"hanweb", re.IGNORECASE))),
    containers=("#zoom",),
    endpoint=Endpoint("dataproxy", dataproxy),
)
