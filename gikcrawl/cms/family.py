"""What a CMS family module declares: the markers that recognise the family, and the family-specific parts
the generic rules ask for (discovery: pagers written by script, POST list endpoints; the parser: content
containers and metadata field labels)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Marker:
    name: str                 # what the probe's report prints ("createPageHTML", "#zoomcon")
    pattern: re.Pattern

    def seen(self, url: str, html: str) -> bool:
        return bool(self.pattern.search(url) or self.pattern.search(html))


class ListEndpoint(Protocol):
    """A list served by a POST endpoint the page only configures (Hanweb's dataproxy.jsp)."""
    url: str
    params: dict
    perpage: int

    def page_url(self, start: int, pages: int = 1) -> tuple[str, int]:
        """The URL asking for records start … start + pages × perpage − 1, and that last record's number."""
        ...

    def records(self, text: str, base: str) -> tuple[list, int | None]:
        """The links of an answer and the total record count it announces."""
        ...


PagerUrls = Callable[[str, str, "int | None"], list[str]]       # (html, base, max_pages) -> list page URLs


@dataclass(frozen=True)
class Pager:
    """List pages a family's own script announces (not links: the generic rules follow those)."""
    style: str                # as the probe reports it ("createPageHTML")
    urls: PagerUrls


@dataclass(frozen=True)
class Endpoint:
    style: str                # as the probe reports it ("dataproxy")
    find: Callable[[str, str], ListEndpoint | None]     # (html, base) -> the endpoint a list page configures


@dataclass(frozen=True)
class Family:
    name: str                             # the `cms:` value of a site entry
    label: str                            # who makes it, for people
    markers: tuple[Marker, ...]
    containers: tuple[str, ...] = ()      # CSS selectors of the article body, most specific first
    pager: Pager | None = None
    endpoint: Endpoint | None = None
    date_labels: tuple[str, ...] = ()     # metadata-table labels of the publication date
    title_labels: tuple[str, ...] = ()    # metadata-table labels of the document's name
    agency_labels: tuple[str, ...] = ()   # metadata-table labels of the publishing body

    def markers_seen(self, url: str, html: str) -> list[str]:
        return [m.name for m in self.markers if m.seen(url, html)]
