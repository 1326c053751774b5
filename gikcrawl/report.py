"""The one report builder: a report page's record and its carriers (each attachment's record, or why it
could not be read) → the one record of the report. Pure; the live spider, spider-level replay
(REPLAY_FROM), `gikcrawl replay` and `gikcrawl parse` all build reports through it.

Records come from captures by two pure functions: ``items.report_item`` (a page body) and
``attachments.attachment_record`` (a document body), each given the capture's WARC location. Which documents
are reports of their own is one rule, ``standalone``, the same live and in replay.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .attachments import merge
from .discovery import is_report_title
from .items import is_report


@dataclass(frozen=True)
class Carrier:
    """One attachment of a report: its record, or None and the problem (HTTP 404, a timeout, …)."""
    url: str
    record: dict | None
    problem: str | None = None


def build_report(page: dict | None, carriers: Iterable[Carrier]) -> dict:
    """The record of a report from its page's record (None: a report published only as a file) and its
    carriers (any order, duplicates allowed). Carriers that could not be read are named in the warnings."""
    carriers = list({c.url: c for c in carriers}.values())
    records = [c.record for c in carriers if c.record is not None]
    if page is None and not records:
        raise ValueError("a report needs its page or at least one readable carrier")
    merged = merge(page, records)
    merged["warnings"] += [f"attachment {c.url} not read ({c.problem}): it gave no figures"
                           for c in sorted(carriers, key=lambda c: c.url) if c.record is None]
    return merged


def standalone(carrier: Carrier, link_text: str = "") -> bool:
    """A document reached from a list page (or from a page that is not a report) is a report of its own when
    it reads as one or its link says so; a document linked from a report page is one of that page's carriers
    (a document linked both ways is both)."""
    return carrier.record is not None and (is_report(carrier.record) or is_report_title(link_text or ""))
