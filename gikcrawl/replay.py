"""`gikcrawl replay`: reparse archived report pages with today's code, offline.

Phase 1 scans the WARCs (damaged records are reported with file and offset, and skipped); phase 2 parses
the selected captures — in this process, or in N worker processes that each read their records from the
files by offset. A capture is parsed exactly as the live crawl parses a report page (gikcrawl.items), so
the records are identical to the live crawl's items, provenance included.

Which captures: responses the crawl fetched as report pages (WARC-Gikcrawl-Kind: report); in WARCs made by
other tools, every HTML 200 response whose parsed title is a report title. A URL captured several times
gives its newest capture unless --all-captures. A revisit record stands for the response it refers to: the
record is parsed from that response's bytes and points at it.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .archive.cdxj import index_path, own_entry
from .archive.convert import Stored, to_response
from .archive.reader import headers_at, iter_records, read_member, record_of
from .archive.verify import warc_files
from .discovery import is_report_title
from .encoding import UndecodableError
from parsel import Selector

from .attachments import attachment_record
from .discovery import attachment_links, report_links
from .report import Carrier, build_report, standalone
from .report_images import carrier_links
from .extract import decode_body
from .items import is_html_type, is_report, report_item
from .sites import SiteConfigError, load_sites

log = logging.getLogger("gikcrawl.replay")


@dataclass
class Capture:
    path: str            # the WARC file
    rel: str             # its name as recorded in items (relative to the archive directory)
    offset: int
    uri: str
    date: str
    record_id: str
    payload_digest: str | None
    site: str | None
    kind: str | None
    status: int | None
    content_type: str | None
    refers_to: tuple | None = None     # a revisit: (record id, uri, date) of the original
    original: "Capture | None" = None
    referer: str | None = None         # for an attachment: the page that linked it
    link_text: str = ""


def _http_info(rec):
    if not rec.http_headers:
        return None, None
    try:
        status = int(rec.http_headers.get_statuscode())
    except (TypeError, ValueError):
        status = None
    return status, rec.http_headers.get_header("Content-Type")


def scan(paths, problems: list[str]) -> list[Capture]:
    """Every response and revisit record of the inputs, in file order."""
    files = warc_files(paths)
    roots = {f: _root_of(f, paths) for f in files}
    out = []
    for f in files:
        cdxj = index_path(f)
        if f.name.endswith(".gz") and cdxj.exists() and cdxj.stat().st_mtime >= f.stat().st_mtime:
            try:
                out += _scan_indexed(f, roots[f], cdxj)
                continue
            except (OSError, ValueError, EOFError, zlib.error) as e:
                log.info("%s: index not usable (%s); reading the whole file", f, e)
        out += _scan_file(f, roots[f], problems)
    return out


def _capture(f: Path, rel: str, offset: int, warc: dict, status: int | None, ctype: str | None,
             file_site: str | None) -> Capture | None:
    """A capture from a record's WARC fields: a response, a revisit, or a rendered DOM (resource record
    marked by gikcrawl); None for the other records (and for the network response of a rendered page,
    which the DOM stands for)."""
    rtype = warc.get("WARC-Type")
    rendered = warc.get("WARC-Gikcrawl-Rendered")
    if warc.get("WARC-Truncated"):               # a body cut short: the live crawl failed it
        return None
    if rtype == "resource" and rendered == "DOM":
        status = int(warc["WARC-Gikcrawl-Status"]) if str(warc.get("WARC-Gikcrawl-Status", "")).isdigit() else None
        ctype = warc.get("Content-Type")
    elif rtype not in ("response", "revisit") or rendered:
        return None
    cap = Capture(str(f), rel, offset, warc.get("WARC-Target-URI"), warc.get("WARC-Date"), warc.get("WARC-Record-ID"),
                  warc.get("WARC-Payload-Digest"), warc.get("WARC-Gikcrawl-Site") or file_site,
                  warc.get("WARC-Gikcrawl-Kind"), status, ctype)
    if rtype == "revisit":
        cap.refers_to = (warc.get("WARC-Refers-To"), warc.get("WARC-Refers-To-Target-URI"),
                         warc.get("WARC-Refers-To-Date"))
    cap.referer = warc.get("WARC-Gikcrawl-Referer")
    cap.link_text = unquote(warc.get("WARC-Gikcrawl-Link-Text") or "")
    return cap


def _scan_indexed(f: Path, rel: str, cdxj: Path) -> list[Capture]:
    """Captures listed in an up-to-date CDXJ index, reading only each record's headers."""
    out = []
    first = record_of(read_member(f, 0))
    file_site = _warcinfo_field(first.raw_stream.read(), "isPartOf") if first.rec_type == "warcinfo" else None
    with open(f, "rb") as fh:
        offsets = sorted(int(own_entry(json.loads(line.split(" ", 2)[2]))["offset"])
                         for line in cdxj.read_text(encoding="utf-8").splitlines() if line.strip())
        for offset in offsets:
            warc, status_line, http = headers_at(fh, offset)
            words = (status_line or "").split()
            status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            cap = _capture(f, rel, offset, warc, status, http.get("Content-Type"), file_site)
            if cap:
                out.append(cap)
    return out


def _scan_file(f: Path, rel: str, problems: list[str]) -> list[Capture]:
    """Every record of the file, read through (damage reported and skipped)."""
    out, file_site = [], None
    for offset, rec, payload in iter_records(f, problems):
        if rec.rec_type == "warcinfo":
            file_site = _warcinfo_field(payload, "isPartOf") or file_site
            continue
        status, ctype = _http_info(rec)
        cap = _capture(f, rel, offset, dict(rec.rec_headers.headers), status, ctype, file_site)
        if cap:
            out.append(cap)
    return out


def _warcinfo_field(payload: bytes, name: str) -> str | None:
    for line in payload.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip() or None
    return None


def _root_of(f: Path, paths) -> str:
    """The file's name relative to the directory given on the command line (its archive directory)."""
    for p in map(Path, paths):
        if p.is_dir() and p in f.parents:
            return str(f.relative_to(p))
    return f.name


def resolve_revisits(captures: list[Capture], problems: list[str]) -> list[Capture]:
    by_id = {c.record_id: c for c in captures if c.refers_to is None}
    by_uri_date = {(c.uri, c.date): c for c in captures if c.refers_to is None}
    out = []
    for c in captures:
        if c.refers_to is not None:
            rid, uri, date = c.refers_to
            c.original = by_id.get(rid) or by_uri_date.get((uri, date))
            if c.original is None:
                problems.append(f"{c.path}: offset {c.offset}: revisit of {uri} ({date}) whose original record is "
                                f"not among the inputs; skipped")
                continue
            c.status, c.content_type = c.original.status, c.original.content_type
        out.append(c)
    return out


def _kind(c: Capture) -> str | None:
    return c.kind or (c.original.kind if c.original else None)


def _newest(captures: list[Capture], all_captures: bool) -> list[Capture]:
    if all_captures:
        return captures
    newest: dict[str, Capture] = {}
    for c in captures:
        if c.uri not in newest or c.date > newest[c.uri].date:
            newest[c.uri] = c
    return [c for c in captures if newest[c.uri] is c]


def select(captures: list[Capture], *, site=None, since=None, until=None,
           all_captures=False) -> tuple[list[Capture], list[Capture]]:
    """(report pages, documents): HTML pages the crawl fetched as reports, and attachments — plus report
    links that answered with a file — each the newest capture of its URL unless all_captures."""
    pages, documents = [], []
    for c in captures:
        kind = _kind(c)
        if kind not in (None, "report", "attachment") or c.status is None or not 200 <= c.status < 300:
            continue
        if site and (c.site or (c.original.site if c.original else None)) != site:
            continue
        day = (c.date or "")[:10]
        if (since and day < since) or (until and day > until):
            continue
        if kind == "attachment" or (kind == "report" and not is_html_type(c.content_type)):
            documents.append(c)
        elif is_html_type(c.content_type):
            pages.append(c)
    return _newest(pages, all_captures), _newest(documents, all_captures)


# --- phase 2: parse (runs in worker processes with --jobs N) -----------------------------------------

_SITES = None
_DOCUMENTS: dict = {}          # url → newest document capture (attachments), for merging into their pages
_FAILED: dict = {}             # url → HTTP status of an attachment whose newest capture is an error


def _init_worker(sites_config, documents=None, failed=None):
    global _SITES, _DOCUMENTS, _FAILED
    _DOCUMENTS, _FAILED = documents or {}, failed or {}
    try:
        _SITES = load_sites(sites_config).sites
    except SiteConfigError:
        _SITES = {}


def _warc_of(c: Capture) -> dict:
    source = c.original or c
    return {"file": source.rel, "offset": source.offset, "record_id": source.record_id, "date": c.date,
            "payload_digest": source.payload_digest}


def _response(c: Capture):
    """The response a capture stands for, its body as the live callback saw it (Content-Encoding decoded)."""
    source = c.original or c
    return to_response(Stored.at(source.path, source.offset), url=c.uri, decode=True)


def _document_record(c: Capture):
    source = c.original or c
    try:
        response = _response(c)
        return attachment_record(response.body, url=c.uri, site_key=c.site or source.site,
                                 content_type=response.headers.get(b"Content-Type"), warc=_warc_of(c),
                                 link_text=c.link_text, disposition=response.headers.get(b"Content-Disposition")), None
    except Exception as e:
        return None, f"{source.path}: offset {source.offset}: {c.uri}: cannot read ({type(e).__name__}: {e})"


def _listed_documents(sel, url: str, site) -> list[str]:
    """What a list page links as reports: those whose capture is a document (by its URL, or classified by
    the response live: DocumentKindMiddleware) are reports of their own when they read as one."""
    return [link.url for link in report_links(sel, url, site)]


def parse_list_capture(c: Capture) -> list[str]:
    source = c.original or c
    try:
        response = _response(c)
        site = (_SITES or {}).get(c.site or source.site)
        text = decode_body(response.body, response.headers.get(b"Content-Type"), site.encoding if site else None)
    except Exception:               # an unreadable list: its documents are judged without it
        return []
    return _listed_documents(Selector(text=text), c.uri, site)


def parse_capture(c: Capture):
    """(record or None, problem or None, documents this page makes candidates for reports of their own:
    those of a page that is not a report) for one page — built as the live spider builds it."""
    source = c.original or c
    try:
        response = _response(c)
    except Exception as e:
        return None, f"{source.path}: offset {source.offset}: cannot read ({type(e).__name__}: {e})", None
    site_key = c.site or source.site
    site = (_SITES or {}).get(site_key)
    content_type = response.headers.get(b"Content-Type")
    try:
        text = decode_body(response.body, content_type, site.encoding if site else None)
    except UndecodableError as e:
        return None, f"{source.path}: offset {source.offset}: {c.uri}: {e}", None
    record = report_item(text, url=c.uri, site_key=site_key, site=site, content_type=content_type,
                         warc=_warc_of(c))
    sel = Selector(text=text)
    links = attachment_links(sel, c.uri, site)
    if not is_report(record):
        candidates = [link.url for link in links]
        if len(report_links(sel, c.uri, site)) >= 2:          # a year sub-column: read as a list live
            candidates += _listed_documents(sel, c.uri, site)
        return None, None, candidates
    if _kind(c) is None and not is_report_title(record["title"] or ""):
        return None, None, []                   # a foreign WARC's page that is not a report
    # the page's carriers: its attachment links that were captured
    problems, carriers = [], []
    for link in carrier_links(sel, c.uri, site, record):
        doc = _DOCUMENTS.get(link.url)
        if link.url in _FAILED:
            carriers.append(Carrier(link.url, None, f"HTTP {_FAILED[link.url]}"))
        elif doc is not None:
            rec, problem = _document_record(doc)
            carriers.append(Carrier(link.url, rec, None if rec is not None else "cannot read its capture"))
            if problem:
                problems.append(problem)
    return build_report(record, carriers), "; ".join(problems) or None, []


def parse_document_capture(args):
    """A document reached from a list (or a page that is not a report; or a report link that answered with
    a file): a report of its own when it reads as one (report.standalone, as live)."""
    c, listed = args
    if _kind(c) != "report" and c.uri not in listed:
        return None, None, []
    rec, problem = _document_record(c)
    carrier = Carrier(c.uri, rec, problem)
    if not standalone(carrier, c.link_text):
        return None, problem, []
    return build_report(None, [carrier]), None, []


class Progress:
    """A rich progress bar on a terminal, plain log lines every few seconds otherwise."""

    def __init__(self, total: int):
        self.total, self.done, self.reports, self.t0, self.last = total, 0, 0, time.time(), 0.0
        self.bar = None
        if sys.stderr.isatty():
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeRemainingColumn)
            self.bar = Bar(TextColumn("replay"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[rate]} reports/s"), TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task("replay", total=total, rate="0")
            self.bar.start()

    def step(self, emitted: bool) -> None:
        self.done += 1
        self.reports += emitted
        rate = self.reports / max(time.time() - self.t0, 1e-9)
        if self.bar:
            self.bar.update(self.task, advance=1, rate=f"{rate:.0f}")
        elif time.time() - self.last > 5 or self.done == self.total:
            self.last = time.time()
            print(f"replay: {self.done}/{self.total} captures, {self.reports} reports, {rate:.0f} reports/s",
                  file=sys.stderr)

    def close(self) -> None:
        if self.bar:
            self.bar.stop()


def replay(paths, write, *, jobs=1, site=None, since=None, until=None, all_captures=False, sites_config=None,
           progress=True, on_record=None) -> tuple[int, list[str]]:
    """Replays into write(record); returns (number of records, problems)."""
    problems: list[str] = []
    captures_all = resolve_revisits(scan(paths, problems), problems)
    pages, documents = select(captures_all, site=site, since=since, until=until, all_captures=all_captures)
    newest_documents = {c.uri: c for c in _newest(documents, False)}
    failed = {}
    for c in sorted(captures_all, key=lambda c: c.date or ""):
        if _kind(c) == "attachment" and c.status is not None:
            if c.status >= 400 and (c.uri not in newest_documents or c.date > newest_documents[c.uri].date):
                failed[c.uri] = c.status
            elif c.status < 400:
                failed.pop(c.uri, None)
    lists = [c for c in captures_all if _kind(c) == "list" and c.status == 200 and is_html_type(c.content_type)]
    bar = Progress(len(pages) + len(documents)) if progress else None
    n, listed = 0, set()

    def take(result):
        nonlocal n
        record, problem, candidates = result
        listed.update(candidates)
        if problem:
            problems.append(problem)
        if record is not None:
            write(record)
            if on_record:
                on_record(record)
            n += 1
        if bar:
            bar.step(record is not None)

    try:
        if jobs <= 1:
            _init_worker(sites_config, newest_documents, failed)
            for c in lists:
                listed.update(parse_list_capture(c))
            for c in pages:
                take(parse_capture(c))
            for c in documents:
                take(parse_document_capture((c, listed)))
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(jobs, initializer=_init_worker, initargs=(sites_config, newest_documents, failed)) as pool:
                for urls in pool.imap(parse_list_capture, lists, chunksize=16):
                    listed.update(urls)
                for result in pool.imap(parse_capture, pages, chunksize=16):
                    take(result)
                frozen = frozenset(listed)
                for result in pool.imap(parse_document_capture, [(c, frozen) for c in documents], chunksize=4):
                    take(result)
    finally:
        if bar:
            bar.close()
    return n, problems
