"""Reports carried by attachments: one record per report whatever the carriers.

attachment_record() turns an archived attachment (PDF, DOCX, XLS(X), DOC/WPS/RTF, image) into a parser
record through gikcrawl.documents; merge() joins a report page's record with its attachments' records:
the figures come from the most structured carrier that has tables (HTML, then DOCX/XLSX, then DOC/WPS/RTF,
then PDF text, then OCR), the record lists every carrier seen, and where two carriers disagree on a figure
the record says so in its warnings. Pure functions: the live crawl and replay call them alike.
"""
from __future__ import annotations

import copy
import re
from urllib.parse import unquote, urlsplit

from .parser import parse_document

RANK = {"html": 0, "docx": 1, "xlsx": 1, "xls": 1, "doc": 2, "wps": 2, "rtf": 2, "pdf": 3, "pdf-ocr": 4,
        "image": 4}
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8''|")?([^";]+)""", re.IGNORECASE)


def filename_of(url: str, content_disposition: str | bytes | None = None) -> str:
    if isinstance(content_disposition, bytes):
        content_disposition = content_disposition.decode("utf-8", "replace")
    m = _FILENAME.search(content_disposition or "")
    if m:
        return unquote(m.group(1)).strip()
    parts = urlsplit(url)
    for key_value in parts.query.split("&"):
        key, _, value = key_value.partition("=")
        if key.lower() in ("file", "filename", "path", "url") and "." in value:
            return unquote(value).rsplit("/", 1)[-1]
    return unquote(parts.path.rsplit("/", 1)[-1])


def is_document(body: bytes, url: str, content_type: str | bytes | None, disposition=None) -> bool:
    from .documents import sniff
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    return sniff(body[:8192], filename_of(url, disposition), content_type or "") is not None


def attachment_record(body: bytes, *, url: str, site_key: str | None, content_type, warc: dict | None,
                      disposition=None, link_text: str = "", max_pages: int = 200) -> dict:
    """The parser record of one attachment. A document that cannot be read gives a record with format
    "unknown" and a warning saying why (the raw file stays archived)."""
    from .documents import DocumentError, extract, sniff
    from .items import utc_now
    from .report_images import too_small
    warc = warc or {}
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    name = filename_of(url, disposition)
    source = dict(url=url, site=site_key, fetched_at=warc.get("date") or utc_now(),
                  content_type=(content_type or "").split(";")[0].strip() or None, warc_file=warc.get("file"),
                  warc_offset=warc.get("offset"), warc_record_id=warc.get("record_id"),
                  payload_digest=warc.get("payload_digest"))
    carrier = sniff(body, name, content_type or "")
    try:
        if carrier is None:
            raise DocumentError(f"not a document this crawler reads ({name or url})")
        if carrier == "image" and (small := too_small(body)):
            raise DocumentError(small)
        doc = extract(body, carrier, filename=name, max_pages=max_pages)
    except DocumentError as e:
        record = parse_document([], [], [link_text] if link_text else [], **source)
        record["warnings"] = [f"attachment {name}: {e}"]
        record["carrier"] = carrier
        return record
    titles = [link_text] if link_text else []
    record = parse_document(doc.lines, doc.lines, titles, **source)
    record["carrier"] = doc.carrier
    record["warnings"] = [f"attachment {name}: {w}" for w in doc.warnings] + record["warnings"]
    if doc.ocr_confidence is not None:
        record["ocr_confidence"] = round(doc.ocr_confidence, 1)
        if record["tables"]:
            record["warnings"].append(f"every figure of {name} was read by OCR (mean confidence "
                                      f"{doc.ocr_confidence:.0f}%): check it against the image")
    return record


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


def merge(page: dict | None, attachments: list[dict]) -> dict:
    """One record for a report from its page (None for a report published only as a file) and its
    attachments' records (in URL order)."""
    attachments = sorted(attachments, key=lambda r: r["source"].get("url") or "")
    candidates = ([("html", page)] if page else []) + [(a.get("carrier") or "unknown", a) for a in attachments]
    with_tables = [(RANK.get(c, 9), n, c, r) for n, (c, r) in enumerate(candidates) if r["tables"]]
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
    for _, r in candidates:
        if r is not result and r is not page:
            result["warnings"] += [w for w in r["warnings"] if w not in result["warnings"]]
    return result


class ReportAssembler:
    """Holds a crawl's report pages until their attachments are in, then gives the merged records."""

    def __init__(self):
        self.pending: dict[str, dict] = {}                # page url → {"page", "waiting", "got", "problems"}
        self.waiting_on: dict[str, set[str]] = {}          # attachment url → page urls
        self.done: dict[str, tuple] = {}                   # attachment url → (record or None, problem)
        self.requested: set[str] = set()

    def page(self, url: str, record: dict, attachment_urls: list[str]) -> list[dict]:
        entry = {"page": record, "waiting": set(), "got": [], "problems": []}
        self.pending[url] = entry
        for a in dict.fromkeys(attachment_urls):
            if a in self.done:
                self._take(entry, a, *self.done[a])
            else:
                entry["waiting"].add(a)
                self.waiting_on.setdefault(a, set()).add(url)
        return self._ready(url)

    def attachment(self, url: str, record: dict | None, problem: str | None = None) -> tuple[list[dict], bool]:
        """An attachment came in (or failed): the page records it completes, and whether a page waited."""
        self.done[url] = (record, problem)
        pages = self.waiting_on.pop(url, set())
        ready = []
        for page_url in sorted(pages):
            entry = self.pending[page_url]
            entry["waiting"].discard(url)
            self._take(entry, url, record, problem)
            ready += self._ready(page_url)
        return ready, bool(pages)

    @staticmethod
    def _take(entry, url, record, problem):
        if record is not None:
            entry["got"].append(record)
        else:
            entry["problems"].append(f"attachment {url} not read: {problem}")

    def _ready(self, page_url: str) -> list[dict]:
        entry = self.pending[page_url]
        if entry["waiting"]:
            return []
        del self.pending[page_url]
        merged = merge(entry["page"], entry["got"])
        merged["warnings"] += entry["problems"]
        return [merged]

    def awaited(self) -> list[str]:
        return sorted(self.waiting_on)
