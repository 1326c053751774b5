"""Reports carried by attachments: one record per report whatever the carriers.

attachment_record() turns an archived attachment (any carrier of gikcrawl.carriers) into a parser
record through gikcrawl.documents; merge() joins a report page's record with its attachments' records
(gikcrawl.report.build_report is the one caller on every path):
the figures come from the most structured carrier that has tables (HTML, then DOCX/XLSX, then DOC/WPS/RTF,
then PDF/OFD text, then OCR: carriers.rank), the record lists every carrier seen, and where two carriers disagree on a figure
the record says so in its warnings. Pure functions: the live crawl and replay call them alike.
"""
from __future__ import annotations

import copy
import re

from . import carriers
from .carriers import filename_of, of_response as response_carrier  # noqa: F401 - their old home
from .meta import KIND
from .parser import parse_document


def _source(url: str, site_key: str | None, content_type, warc: dict | None) -> dict:
    from .items import utc_now
    warc = warc or {}
    return dict(url=url, site=site_key, fetched_at=warc.get("date") or utc_now(),
                content_type=(content_type or "").split(";")[0].strip() or None, warc_file=warc.get("file"),
                warc_offset=warc.get("offset"), warc_record_id=warc.get("record_id"),
                payload_digest=warc.get("payload_digest"))


def unreadable_record(reason: str, *, url: str, site_key: str | None, content_type, warc: dict | None,
                      disposition=None, link_text: str = "", carrier: str | None = None) -> dict:
    """The record of an attachment that could not be read: format "unknown", the reason as its warning."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    record = parse_document([], [], [link_text] if link_text else [],
                            **_source(url, site_key, content_type, warc))
    record["warnings"] = [f"{carrier_label(carrier, url)}: {reason}; it gave no figures"]
    record["carrier"] = carrier
    return record


class DocumentKindMiddleware:
    """Downloader middleware (above the WARC writer): a response that is a document is an attachment to
    the crawl whatever its link was (a report link answering with a PDF, an image report, a download.jsp
    with Content-Disposition), so it is archived with its referer and parsed by the attachment path."""

    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response, spider=None):
        kind = request.meta.get(KIND)
        if kind in ("report", "list") and not request.meta.get("playwright") and 200 <= response.status < 300:
            carrier = carriers.of_response(response.body, response.url, response.headers.get(b"Content-Type"),
                                           response.headers.get(b"Content-Disposition"),
                                           response.headers.get(b"Content-Encoding"))
            if carrier is not None:
                request.meta.update(kind="attachment", linked_as=kind)
                if self.stats:
                    self.stats.inc_value(f"gikcrawl/attachments/classified_by_response/{carrier}")
        return response


def attachment_record(body: bytes, *, url: str, site_key: str | None, content_type, warc: dict | None,
                      disposition=None, link_text: str = "", max_pages: int = 200, timeout: float = 120) -> dict:
    """The parser record of one attachment. A document that cannot be read gives a record with format
    "unknown" and a warning saying why (the raw file stays archived)."""
    from .documents import DocumentError, extract
    from .report_images import too_small
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    name = filename_of(url, disposition)
    carrier = carriers.sniff(body, name, content_type)
    label = carrier_label(carrier, url)
    try:
        if carrier is None:
            raise DocumentError(f"not a document this crawler reads ({name or url})")
        if carriers.get(carrier).image and (small := too_small(body)):
            raise DocumentError(small)
        doc = extract(body, carrier, filename=name, max_pages=max_pages, timeout=timeout)
    except DocumentError as e:
        return unreadable_record(str(e), url=url, site_key=site_key, content_type=content_type, warc=warc,
                                 disposition=disposition, link_text=link_text, carrier=carrier)
    titles = [link_text] if link_text else []
    record = parse_document(doc.lines, doc.lines, titles, **_source(url, site_key, content_type, warc))
    record["carrier"] = doc.carrier
    label = carrier_label(doc.carrier, url)
    record["warnings"] = [f"{label}: {w}" for w in doc.warnings + record["warnings"]]
    if doc.ocr_confidence is not None:
        record["ocr_confidence"] = round(doc.ocr_confidence, 1)
        if record["tables"]:
            record["warnings"].append(f"{label}: every figure was read by OCR (mean confidence "
                                      f"{doc.ocr_confidence:.0f}%): check it against the image")
    return record


def carrier_label(carrier: str | None, url: str | None) -> str:
    """How a warning names the carrier it comes from: format and URL (a local file has none: its path is in
    the record's source)."""
    kind = (carrier or "unknown").upper()
    return f"{kind} attachment {url}" if url else f"{kind} file"


def _cells(tables: dict) -> dict:
    out = {}
    for name, table in tables.items():
        if name == "active_disclosure":
            out.update({(name, c["clause"], c["item"], c["column"]): c["value"] for c in table})
        elif name == "legacy":
            out.update({(name, n, r["indicator"]): r["value"] for n, r in enumerate(table)})
        else:
            out.update({(name, row, col): v for row, cols in table.items() for col, v in cols.items()})
    return out


def _carrier_entry(record: dict, carrier: str) -> dict:
    src = record["source"]
    entry = {"carrier": carrier, "url": src.get("url"), "format": record["format"],
             "tables": sorted(record["tables"]), "warc_file": src.get("warc_file"),
             "warc_offset": src.get("warc_offset"), "payload_digest": src.get("payload_digest")}
    if record.get("ocr_confidence") is not None:
        entry["ocr_confidence"] = record["ocr_confidence"]
    return entry


# What a page's parse says about its own tables, and no longer holds once a carrier gave the figures.
_PAGE_TABLE_WARNING = re.compile(r"^(?:report (?:published as images only|page without report text) \(|not recognised as a "
                                 r"|(?:active_disclosure|applications|review_litigation): table not found$)")


def _page_warnings(warnings: list[str], carrier: str, url: str | None) -> list[str]:
    """The page's warnings when another carrier gave the figures: those saying the page itself had no
    tables are said once, with where the figures come from instead."""
    kept = [w for w in warnings if not _PAGE_TABLE_WARNING.match(w)]
    if len(kept) < len(warnings):
        kept.append(f"the page's own text holds no statistics tables; the record's figures come from "
                    f"{carrier.upper()} {url}")
    return kept


def merge(page: dict | None, attachments: list[dict]) -> dict:
    """One record for a report from its page (None for a report published only as a file) and its
    attachments' records (in URL order)."""
    attachments = sorted(attachments, key=lambda r: r["source"].get("url") or "")
    candidates = ([("html", page)] if page else []) + [(a.get("carrier") or "unknown", a) for a in attachments]
    with_tables = [(carriers.rank(c), n, c, r) for n, (c, r) in enumerate(candidates) if r["tables"]]
    result = copy.deepcopy(page if page is not None else attachments[0])
    if with_tables:
        _, _, best_carrier, best = min(with_tables)
        if best is not page:
            for key in ("tables", "format", "checks", "script_normalized"):
                result[key] = copy.deepcopy(best[key])
            if not result["sections"]:
                result["sections"], result["preamble"] = copy.deepcopy(best["sections"]), best.get("preamble", "")
            for key in ("title", "agency", "region", "year", "published", "index_no"):
                if result.get(key) is None:
                    result[key] = best.get(key)
            if best.get("ocr_confidence") is not None:
                result["ocr_confidence"] = best["ocr_confidence"]
        result["figures_from"] = {"carrier": best_carrier, "url": best["source"].get("url")}
        if page is not None and best is not page:
            result["warnings"] = _page_warnings(page["warnings"], best_carrier, best["source"].get("url"))
        ours = _cells(best["tables"])
        for _, _, carrier, other in with_tables:
            if other is best:
                continue
            theirs = _cells(other["tables"])
            differ = [k for k in ours if k in theirs and None not in (ours[k], theirs[k]) and ours[k] != theirs[k]]
            if differ:
                shown = "; ".join(f"{'.'.join(map(str, k))}: {ours[k]} vs {theirs[k]}" for k in differ[:5])
                result["warnings"].append(f"carriers disagree ({best_carrier} {best['source'].get('url')} vs "
                                          f"{carrier} {other['source'].get('url')}) on {len(differ)} figures: {shown}")
    else:
        result["figures_from"] = None
    result["carriers"] = [_carrier_entry(r, c) for c, r in candidates]
    best_carrier = result["figures_from"]["carrier"] if result["figures_from"] else None
    best_url = result["figures_from"]["url"] if result["figures_from"] else None
    for _carrier, r in candidates:
        if r is page:
            continue
        # each carrier's warnings say whether the record's figures came from it, so a complete page
        # record is not flagged by the warnings of an attachment it did not need
        if best_url is None:
            role = "no carrier gave figures"
        elif r["source"].get("url") == best_url:
            role = "the record's figures come from it"
        else:
            role = (f"its figures not used, the record's come from {best_carrier.upper()} {best_url}"
                    if r["tables"] else f"gave no figures, the record's come from {best_carrier.upper()} {best_url}")
        tagged = [f"{w} [{role}]" for w in r["warnings"]]
        if page is None and r is attachments[0]:       # result is its copy: its warnings are r's
            result["warnings"] = [w for w in result["warnings"] if w not in r["warnings"]] + tagged
        else:
            result["warnings"] += [w for w in tagged if w not in result["warnings"]]
    return result
