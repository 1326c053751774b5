"""The shared parser: report text or HTML → one record following report.schema.json.

Pure functions, content in, record out. The live item pipeline, WARC replay and `gikcrawl parse` all call
`parse`, so the three paths give the same record for the same content.
"""
from __future__ import annotations

import re

from ..encoding import UndecodableError, decode
from .cells import TEXT, cells_of
from .checks import run_checks
from .chrome import clean_lines, mirror_domain
from .htmlbody import body_by_trafilatura
from .htmldoc import drop_link_lines, looks_like_html, parse_html
from .metadata import (agency_from, find_title, index_no_from, published_from, region_from, title_from,
                       year_from)
from .normalize import normalize_text, to_simplified
from .sections import heading_number, split_sections
from .active import ActiveRead, finish_active_disclosure, read_active_disclosure
from .tables import TableRead, read_applications, read_legacy, read_review
from . import templates as T

__all__ = ["parse", "parse_document", "SOURCE_FIELDS"]

SOURCE_FIELDS = ("url", "site", "fetched_at", "warc_file", "warc_offset", "warc_record_id", "payload_digest",
                 "path", "content_type")
_REPORTISH = re.compile(r"政府信息公开|政务公开|信息公开")
_REPORT_WORDS = re.compile(r"年度报告|年报|工作报告")
_URL_LINE = re.compile(r"^\s*https?://\S+\s*$")


# whitespace str.strip() removes that normalize_text leaves as it is (it collapses the others to one " "):
# str.isspace's characters but " " and "\n", spelled out (a positive class scans ~2x faster than [^\S \n])
_OTHER_SPACE = re.compile("[\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def _normalized_lines(lines: list[str]) -> tuple[list[str], bool]:
    text, converted = normalize_text("\n".join(lines))
    if _OTHER_SPACE.search(text):
        return [line.strip() for line in text.split("\n")], converted
    # runs are one " " now: each line loses at most one at either end
    return text.replace(" \n", "\n").replace("\n ", "\n").strip(" ").split("\n"), converted


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _to_text(content: str | bytes, charset: str | None) -> str:
    """Text with the characters no page can hold (control characters, lone surrogates) blanked out."""
    if isinstance(content, bytes):
        try:
            content = decode(content, declared=charset)[0]
        except UndecodableError:
            content = content.decode("utf-8", errors="replace")
    return _UNPRINTABLE.sub(" ", content)


def _detect_format(ad, apps, review, legacy, year, is_report, warnings) -> str:
    if legacy.data and len(legacy.data) >= 3:
        return "legacy"
    if ad.data or apps.data or review.data or ad.layout:
        if ad.layout and apps.layout and ad.layout != apps.layout and apps.layout == "2019":
            warnings.append(f"format: the 主动公开 table follows the {ad.layout} template but the applications "
                            f"table has the 2019 layout")
        if ad.layout:
            return ad.layout
        if apps.layout == "2019":
            return "2019"
        if year and year <= 2020:
            warnings.append("format: no template-specific columns; 2019 template assumed from the year")
            return "2019"
        return "2021"
    return "narrative" if is_report else "unknown"


def _page_lines(page_lines: list[str], body_lines: list[str], body: list[str]) -> list[str]:
    """The whole page normalised, reusing the normalised body where the page holds the body's lines as one
    run of the same objects (htmldoc shares them), so a large report is not normalised twice."""
    first = body_lines[0] if body_lines else None
    at = next((i for i, line in enumerate(page_lines) if line is first), None)
    end = None if at is None else at + len(body_lines)
    if at is None or page_lines[end - 1] is not body_lines[-1]:
        return _normalized_lines(page_lines)[0]
    return _normalized_lines(page_lines[:at])[0] + body + _normalized_lines(page_lines[end:])[0]


def _missing_ad_rows(rows: list[dict], fmt: str, warnings: list[str]) -> None:
    printed = {(r["clause"], r["item"]) for r in rows}
    for block in T.AD_TEMPLATES[fmt]:
        for item in block.items:
            if (block.clause, item) not in printed:
                warnings.append(f"active_disclosure: {block.clause} {item} not found (table cut short or "
                                f"row omitted)")


def parse(content: str | bytes, *, charset: str | None = None, container: str | None = None, **source) -> dict:
    """Parse one report (plain text or HTML, str or bytes) into a record: the one way from content to a
    record, used by the crawl, replay, attachments and `gikcrawl parse`.

    source: provenance fields copied into record["source"] (url, site, fetched_at, path, …).
    charset: the encoding declared by the transport (HTTP header), tried after UTF-8 for bytes.
    container: a CSS or XPath selector for an HTML page's report body (a site's `content`); else the
    known CMS containers, else trafilatura's main text with our own table grids.
    """
    text = _to_text(content, charset)
    if looks_like_html(text):
        doc = parse_html(text, container)
        body, removed = doc.body, doc.removed
        if body is None:
            body = body_by_trafilatura(text, doc.tables)
            if body is not None:
                body, removed = drop_link_lines(body, doc.link_texts)
        return parse_document(doc.lines, body, doc.titles, images=doc.images, published=doc.published,
                              removed=removed, content_source=doc.content_source, **source)
    lines = text.split("\n")
    return parse_document(lines, lines, [], **source)


def parse_document(page_lines: list[str], body_lines: list[str] | None, html_titles: list[str], *,
                   images: int = 0, published: str | None = None, removed: list[str] = (),
                   content_source: str | None = None, **source) -> dict:
    """The parser proper, on lines: the whole page (for metadata) and the report body (None: the page)."""
    warnings: list[str] = []
    if body_lines is None:
        body_lines = page_lines
    lines, script_normalized = _normalized_lines(body_lines)
    page = _page_lines(page_lines, body_lines, lines) if page_lines is not body_lines else lines
    html_titles = [to_simplified(normalize_text(t)[0], force=script_normalized)[0] for t in html_titles]

    first_heading = next((i for i, line in enumerate(lines) if heading_number(line) is not None), len(lines))
    found_title = find_title(lines, min(first_heading, 80))
    title_span = range(found_title[0], found_title[1] + 1) if found_title else range(0)
    url_line = next((line for line in lines[:3] if _URL_LINE.match(line)), None)
    cleaned = clean_lines(lines, keep_from=found_title[0] if found_title else 0,
                          mirror=mirror_domain(source.get("url")) or mirror_domain(url_line))
    cells = cells_of(cleaned.lines)
    joined = "".join(c.key for c in cells if c.kind == TEXT)
    # each reader only where its table's words are printed at all (most pages lack some tables)
    ad = read_active_disclosure(cells) if "信息内容" in joined or "第二十条" in joined else ActiveRead()
    apps = read_applications(cells) if "申请" in joined else TableRead()
    review = read_review(cells) if "行政复议" in joined else TableRead()
    legacy = read_legacy(cells) if "单位" in joined else TableRead(data=[])

    skip = set(cleaned.chrome) | set(title_span)
    for read in (ad, apps, review, legacy):
        if read.first_line is not None:
            skip.update(range(read.first_line, read.last_line + 1))
    preamble, sections = split_sections(cleaned.lines, skip)

    page_text = "\n".join(page)
    body_text = "\n".join([preamble] + [s["heading"] + "\n" + s["text"] for s in sections])
    title = title_from(page, found_title[2] if found_title else None, html_titles)
    year = year_from(title, body_text, warnings)
    last_lines = sections[-1]["text"].split("\n")[-4:] if sections else []
    opening = (preamble + "\n" + (sections[0]["text"] if sections else ""))[:600]
    agency = agency_from(title, body_text, last_lines, opening, page, content_source)
    other_title = bool(html_titles) and not title        # the page has a title, and it is not a report's
    is_report = bool(title) or (not other_title and bool(_REPORTISH.search(body_text)) and (
        bool(_REPORT_WORDS.search(body_text[:2000])) or len(sections) >= 3))

    fmt = _detect_format(ad, apps, review, legacy, year, is_report, warnings)
    text_chars = len("".join(body_text.split()))
    empty_report = fmt == "narrative" and text_chars < 100
    if empty_report:
        fmt = "unknown"
        warnings.append(f"report {'published as images only' if images else 'page without report text'}"
                        f" ({images} images, {text_chars} characters of text): nothing to parse")
    tables: dict = {}
    if fmt == "legacy":
        tables["legacy"] = legacy.data
        warnings += legacy.warnings
    elif fmt in ("2021", "2019"):
        if ad.data:
            tables["active_disclosure"] = finish_active_disclosure(ad.data, fmt)
            _missing_ad_rows(tables["active_disclosure"], fmt, warnings)
        if apps.data:
            tables["applications"] = apps.data
        if review.data:
            tables["review_litigation"] = review.data
        for read in (ad, apps, review):
            warnings += read.warnings
        for name in ("active_disclosure", "applications", "review_litigation"):
            if name not in tables:
                warnings.append(f"{name}: table not found")
    if fmt != "legacy" and legacy.first_line is not None and not legacy.data:
        warnings += legacy.warnings
    if fmt == "unknown" and not empty_report:
        warnings.append("not recognised as a 政府信息公开工作年度报告: no report title, no statistics tables")

    return {
        "title": title,
        "agency": agency,
        "region": region_from(agency, title, page_text),
        "year": year,
        "published": published_from(page_text, published),
        "index_no": index_no_from(page_text),
        "format": fmt,
        "script_normalized": script_normalized,
        "sections": sections,
        "preamble": preamble,
        "tables": tables,
        "checks": run_checks(tables, apps.layout if fmt in ("2021", "2019") else None,
                             {"applications": apps.unknown, "review_litigation": review.unknown}),
        "warnings": warnings,
        "removed": [*removed, *cleaned.removed],
        "source": {name: source.get(name) for name in SOURCE_FIELDS},
    }
