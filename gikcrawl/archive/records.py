"""WARC records of what crossed the downloader, built from Scrapy's Request/Response: no crawler state.

Every function returns warcio records (not yet written); gikcrawl/archive/storage.py decides which to build
and writes them. HTTP blocks come from gikcrawl/archive/http.py, which keeps header bytes as Scrapy holds
them. Record ids are random and the dates are the caller's, so the same inputs give the same bytes but for
the WARC-Record-ID (and the WARC-Concurrent-To/-Refers-To that name one).
"""
from __future__ import annotations

import io
from urllib.parse import quote

from scrapy.http import Request, Response
from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from ..meta import BROWSER_DOCUMENT, KIND, LINK_TEXT, REFERER_PAGE, SITE
from .http import browser_request_block, browser_response_block, request_block, response_block

WARC_VERSION = "WARC/1.1"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

# warcio's record factory; it writes nothing (stream None) and keeps no state between records
_BUILDER = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)


def record_id(record: ArcWarcRecord) -> str:
    return record.rec_headers.get_header("WARC-Record-ID")


def warcinfo_record(filename: str, info: dict) -> ArcWarcRecord:
    return _BUILDER.create_warcinfo_record(filename, info)


def extension_fields(request: Request) -> dict:
    """gikcrawl's own WARC fields: the site, and what the page was to the crawl (list, report, attachment,
    with the report page an attachment belongs to and its link text), so replay treats each capture as live."""
    meta, ext = request.meta, {}
    if meta.get(SITE):
        ext["WARC-Gikcrawl-Site"] = meta[SITE]
    if meta.get(KIND):
        ext["WARC-Gikcrawl-Kind"] = meta[KIND]
    if meta.get(KIND) == "attachment" and meta.get(REFERER_PAGE):
        ext["WARC-Gikcrawl-Referer"] = meta[REFERER_PAGE]
    if meta.get(LINK_TEXT):
        ext["WARC-Gikcrawl-Link-Text"] = quote(meta[LINK_TEXT][:200])
    return ext


def request_record(request: Request, date: str, concurrent_to: str) -> ArcWarcRecord:
    """The request as sent, linked to the record of what answered it."""
    headers, body = request_block(request)
    return _BUILDER.create_warc_record(request.url, "request", payload=io.BytesIO(body), length=len(body),
                                       http_headers=headers, warc_headers_dict={"WARC-Date": date,
                                                                                "WARC-Concurrent-To": concurrent_to})


def _pair(url: str, date: str, ext: dict, resp_headers, body: bytes, req_headers, req_body: bytes,
          extra: dict | None = None) -> list[ArcWarcRecord]:
    """A response record and its request record, linked by WARC-Concurrent-To."""
    resp = _BUILDER.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                       http_headers=resp_headers,
                                       warc_headers_dict=dict({"WARC-Date": date}, **ext, **(extra or {})))
    req = _BUILDER.create_warc_record(url, "request", payload=io.BytesIO(req_body), length=len(req_body),
                                      http_headers=req_headers,
                                      warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id(resp)})
    return [resp, req]


def exchange_records(request: Request, response: Response, date: str, ext: dict,
                     extra: dict | None = None) -> list[ArcWarcRecord]:
    """[response, request]: the response as received (body before content decoding) and the request."""
    resp_headers, body = response_block(response)
    extra = dict(extra or {})
    ip = getattr(response, "ip_address", None)
    if ip is not None:
        extra["WARC-IP-Address"] = str(ip)
    req_headers, req_body = request_block(request)
    return _pair(request.url, date, ext, resp_headers, body, req_headers, req_body, extra)


def disconnect_fields(response: Response) -> dict:
    """The fields of a response whose connection ended before its body did (WARC 1.1 §5.13)."""
    announced = (response.headers.get(b"Content-Length") or b"?").decode("latin-1")
    return {"WARC-Truncated": "disconnect",
            "WARC-Gikcrawl-Note": f"connection ended after {len(response.body)} bytes of the body "
                                  f"(Content-Length announced: {announced})"}


def revisit_records(request: Request, response: Response, date: str, ext: dict, *, digest: str,
                    refers_to_date: str | None, refers_to_id: str | None) -> list[ArcWarcRecord]:
    """[revisit, request] instead of a second copy of an unchanged payload: identical-payload-digest for a
    2xx whose digest is the earlier capture's, server-not-modified for a 304."""
    resp_headers, _ = response_block(response)
    rec = _BUILDER.create_revisit_record(request.url, digest, request.url, refers_to_date, http_headers=resp_headers,
                                         warc_headers_dict=dict({"WARC-Date": date}, **ext))
    if response.status == 304:
        rec.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED)
    if refers_to_id:
        rec.rec_headers.add_header("WARC-Refers-To", refers_to_id)
    return [rec, request_record(request, date, record_id(rec))]


def _browser_pair(doc: dict, date: str, ext: dict, rendered: str, note: str) -> list[ArcWarcRecord]:
    resp_headers, body, decoded = browser_response_block(doc)
    req_headers, req_body = browser_request_block(doc)
    extra = {"WARC-Gikcrawl-Rendered": rendered}
    if decoded:
        extra["WARC-Gikcrawl-Note"] = note
    return _pair(doc["url"], date, ext, resp_headers, body, req_headers, req_body, extra)


def rendered_records(request: Request, response: Response, date: str,
                     ext: dict) -> tuple[list[ArcWarcRecord], int]:
    """A page rendered by the browser: the main document's network response (response + request records),
    the browser's other responses while passing a challenge, the rendered DOM as a resource record linked to
    the document, and a screenshot when one was taken. The DOM is what the spider parsed, so provenance points
    at it. Returns (records, index of the DOM record)."""
    records, linked = [], {}
    doc = request.meta.get(BROWSER_DOCUMENT)
    if doc:
        records += _browser_pair(doc, date, ext, "network response of a page rendered by the browser",
                                 "body as decoded by the browser; Content-Encoding removed "
                                 "(browsers do not expose coded bodies)")
        linked = {"WARC-Concurrent-To": record_id(records[0])}
    for other in request.meta.get("browser_exchanges") or ():
        records += _browser_pair(other, date, ext, "received by the browser while passing a challenge",
                                 "body as decoded by the browser; Content-Encoding removed")
    ctype = (response.headers.get(b"Content-Type") or b"text/html").decode("latin-1")
    dom = _BUILDER.create_warc_record(response.url, "resource", payload=io.BytesIO(response.body),
                                      length=len(response.body), warc_content_type=ctype,
                                      warc_headers_dict=dict({"WARC-Date": date, **ext, **linked,
                                                              "WARC-Gikcrawl-Status": str(response.status),
                                                              "WARC-Gikcrawl-Rendered": "DOM"}))
    records.append(dom)
    parsed = len(records) - 1
    for method in request.meta.get("playwright_page_methods") or ():
        if getattr(method, "method", None) == "screenshot" and isinstance(getattr(method, "result", None), bytes):
            records.append(_BUILDER.create_warc_record(
                f"urn:gikcrawl:screenshot:{response.url}", "resource", payload=io.BytesIO(method.result),
                length=len(method.result), warc_content_type="image/png",
                warc_headers_dict={"WARC-Date": date, **ext, "WARC-Concurrent-To": record_id(dom)}))
    return records, parsed


def headerless_records(url: str, date: str, ext: dict, headers, body: bytes, cause: str,
                       error: str) -> list[ArcWarcRecord]:
    """[resource, metadata] of a download that failed after its headers: the partial body (WARC-Truncated:
    cause) and the HTTP headers received; the status is not among what Scrapy's signals show."""
    ctype = (headers.get(b"Content-Type") or b"application/octet-stream").decode("latin-1")
    lines = "".join(f"{k.decode('latin-1')}: {v.decode('latin-1')}\r\n" for k, vs in headers.items() for v in vs)
    res = _BUILDER.create_warc_record(url, "resource", payload=io.BytesIO(body), length=len(body),
                                      warc_content_type=ctype,
                                      warc_headers_dict=dict({"WARC-Date": date, "WARC-Truncated": cause,
                                                              "WARC-Gikcrawl-Note": f"download failed after the "
                                                              f"headers ({error}); the HTTP status is not known"},
                                                             **ext))
    meta_body = lines.encode("latin-1")
    meta = _BUILDER.create_warc_record(url, "metadata", payload=io.BytesIO(meta_body), length=len(meta_body),
                                       warc_content_type="text/plain; charset=iso-8859-1",
                                       warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id(res)})
    return [res, meta]


def failed_download_records(request: Request, date: str, headers, body: bytes, cause: str, error: str,
                            status: tuple[int, str] | None = None) -> list[ArcWarcRecord]:
    """A download that failed after its headers: [response, request] of what was received (WARC-Truncated:
    cause) when its status line is known (status, protocol), else [resource, metadata, request]."""
    if status is not None:
        partial = Response(request.url, status=status[0], headers=headers, body=body, request=request,
                           protocol=status[1])
        announced = (headers.get(b"Content-Length") or b"?").decode("latin-1")
        return exchange_records(request, partial, date, extension_fields(request), {
            "WARC-Truncated": cause,
            "WARC-Gikcrawl-Note": f"download failed after {len(body)} bytes of the body (Content-Length "
                                  f"announced: {announced}): {error}"})
    records = headerless_records(request.url, date, extension_fields(request), headers, body, cause, error)
    return records + [request_record(request, date, record_id(records[0]))]
