"""Report items: the parser record of a report page's response with its provenance.

The one place where a response body becomes an item, used by the live spider, spider-level replay and
`gikcrawl replay`, so all three give the same record for the same archived bytes.
"""
from __future__ import annotations

from datetime import datetime, timezone

from .extract import report_record
from .sites import SiteConfig


_HTML_TYPES = ("text/html", "application/xhtml", "text/xml", "application/xml", "text/plain")


def is_html_type(content_type: bytes | str | None) -> bool:
    """A page to parse (no Content-Type at all counts: many old servers send none)."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    return not content_type or content_type.strip().lower().startswith(_HTML_TYPES)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def report_item(body: bytes | str, *, url: str, site_key: str | None, site: SiteConfig | None,
                content_type: bytes | str | None, warc: dict | None) -> dict:
    """body: the response body after content decoding (what a spider callback sees)."""
    warc = warc or {}
    return report_record(body, encoding=site.encoding if site else None, container=site.content if site else None,
                         url=url, site=site_key,
                         fetched_at=warc.get("date") or utc_now(), content_type=content_type,
                         warc_file=warc.get("file"), warc_offset=warc.get("offset"),
                         warc_record_id=warc.get("record_id"), payload_digest=warc.get("payload_digest"))


def is_report(record: dict) -> bool:
    """A page worth an item: a report (image-only and attachment-only ones included, with a warning), not a
    notice, an explanation (解读) or a list page."""
    return not (record["title"] is None and record["format"] == "unknown")
