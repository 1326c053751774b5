"""CMS families (domain.md §3), one module each, and their registry.

A family module declares a `FAMILY` (cms/family.py): the markers that recognise it, its content containers,
the pager its script writes, the POST list endpoint its pages configure, its metadata field labels. The
generic rules (discovery.py, parser/) stay generic and ask the registry for the family-specific parts,
aggregated over the families in the registry's order. Adding a family: a module here, its line in
`REGISTRY`, its tests (tests/test_cms.py).

The parser reads the aggregates once, at import (module-level tuples and compiled patterns), never per page.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import gkmlpt, hanweb, jiyue, trs
from .family import Endpoint, Family, ListEndpoint, Marker, Pager

__all__ = ["Endpoint", "Family", "ListEndpoint", "Marker", "Pager", "REGISTRY", "Registry", "GENERIC"]

GENERIC = "generic"          # what the probe writes when no family is recognised


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class Registry:
    """The families in a fixed order (containers are tried in it: a more specific selector first)."""

    def __init__(self, families: Iterable[Family]):
        self._families = tuple(families)
        self._by_name = {f.name: f for f in self._families}
        if len(self._by_name) != len(self._families) or GENERIC in self._by_name:
            raise ValueError(f"CMS family names must be unique and not {GENERIC!r}: "
                             f"{[f.name for f in self._families]}")

    def __iter__(self) -> Iterator[Family]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Family:
        return self._by_name[name]

    def get(self, name: str | None) -> Family | None:
        return self._by_name.get(name) if name else None

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    # --- recognising a family
    def markers(self, url: str, html: str) -> dict[str, list[str]]:
        """family name -> the markers one page shows (its URL and its HTML)."""
        out = {}
        for family in self._families:
            seen = family.markers_seen(url, html)
            if seen:
                out[family.name] = seen
        return out

    def family_of(self, markers: dict[str, set[str]]) -> str:
        """The family with most distinct markers (over one page or all pages of a site); GENERIC when none
        shows or two tie (say nothing rather than guess)."""
        if not markers:
            return GENERIC
        ranked = sorted(markers.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(ranked) > 1 and len(ranked[0][1]) == len(ranked[1][1]):
            return GENERIC
        return ranked[0][0]

    def detect(self, html: str, url: str = "") -> Family | None:
        """The family one page belongs to, or None (no marker, or a tie)."""
        return self.get(self.family_of({k: set(v) for k, v in self.markers(url, html).items()}))

    # --- what discovery asks for
    def pager_urls(self, html: str, base: str, max_pages: int | None = None) -> list[str]:
        """List pages announced by the families' pager scripts (each at most max_pages + 1)."""
        urls: list[str] = []
        for family in self._families:
            if family.pager is not None:
                urls += family.pager.urls(html, base, max_pages)
        return urls

    def pager_style(self, html: str, base: str) -> str | None:
        """The first family pager or list endpoint the page uses, by its style name."""
        for family in self._families:
            if family.pager is not None and family.pager.urls(html, base, 0):
                return family.pager.style
        for family in self._families:
            if family.endpoint is not None and family.endpoint.find(html, base) is not None:
                return family.endpoint.style
        return None

    def list_endpoint(self, html: str, base: str) -> ListEndpoint | None:
        """The POST list endpoint a list page configures (the first family's that finds one)."""
        for family in self._families:
            if family.endpoint is not None:
                found = family.endpoint.find(html, base)
                if found is not None:
                    return found
        return None

    # --- what the parser asks for (once, at import)
    def containers(self) -> tuple[str, ...]:
        return _unique(c for f in self._families for c in f.containers)

    def date_labels(self) -> tuple[str, ...]:
        return _unique(x for f in self._families for x in f.date_labels)

    def title_labels(self) -> tuple[str, ...]:
        return _unique(x for f in self._families for x in f.title_labels)


# #zoomcon (jiyue) before #zoom (hanweb): the more specific id first, as the parser always tried them
REGISTRY = Registry((trs.FAMILY, jiyue.FAMILY, hanweb.FAMILY, gkmlpt.FAMILY))

get = REGISTRY.get
names = REGISTRY.names
markers = REGISTRY.markers
family_of = REGISTRY.family_of
detect = REGISTRY.detect
pager_urls = REGISTRY.pager_urls
pager_style = REGISTRY.pager_style
list_endpoint = REGISTRY.list_endpoint
containers = REGISTRY.containers
date_labels = REGISTRY.date_labels
title_labels = REGISTRY.title_labels
