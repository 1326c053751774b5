"""The archive's three parts on their own: the record builder (gikcrawl/archive/records.py), the stored record
→ Response converter (convert.py) and the WARC storage (storage.py), built from a crawler."""
import gzip
import hashlib
import base64
import zlib

import pytest
from scrapy import Spider
from scrapy.http import Headers, HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from conftest import SHARED
from gikcrawl.archive import records
from gikcrawl.archive.convert import Stored, to_response
from gikcrawl.archive.reader import read_member
from gikcrawl.archive.storage import NotInArchive, WarcStorage, archive_storage
from gikcrawl.archive.writer import WarcWriterSet, warc_date
from gikcrawl.meta import BROWSER_DOCUMENT, KIND, LINK_TEXT, REFERER_PAGE, SITE, WARC

BASE = "http://127.0.0.1:8765"
DISPOSITION_UTF8 = 'attachment; filename="2023年政府信息公开工作年度报告.pdf"'.encode("utf-8")
DISPOSITION_GBK = 'attachment; filename="年度报告.doc"'.encode("gbk")          # not valid UTF-8


def _report_html() -> bytes:
    path = SHARED / "real" / "01.txt"
    lines = path.read_text(encoding="utf-8").splitlines()[1:40] if path.exists() else ["一、总体情况"]
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f"<html><head><meta charset=utf-8><title>某县2022年政府信息公开工作年度报告</title></head>"
            f"<body>{body}</body></html>").encode("utf-8")


def _pdf() -> bytes:
    content = zlib.compress("BT /F1 12 Tf (2023年度报告) Tj ET".encode("utf-16-be"))
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n4 0 obj\n<< /Length " + str(len(content)).encode()
            + b" /Filter /FlateDecode >>\nstream\n" + content + b"\nendstream\nendobj\n%%EOF\n")


def _digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _request(path="/gkml/2023/report.html", method="GET", **meta) -> Request:
    return Request(BASE + path, method=method, headers={"User-Agent": "gikcrawl/test", "Accept-Encoding": "gzip",
                                                        "Cookie": "JSESSIONID=A1B2"},
                   meta={SITE: "xian", KIND: "report", LINK_TEXT: "2023年 年度报告", **meta})


def _response(request, body: bytes, ctype=b"text/html; charset=utf-8", status=200, coded=True, extra=()) -> Response:
    headers = Headers()
    headers.appendlist(b"Content-Type", ctype)
    headers.appendlist(b"Set-Cookie", b"a=1; Path=/")
    headers.appendlist(b"Set-Cookie", b"b=2; Path=/")
    headers.appendlist(b"ETag", b'"5f3a-1"')
    for name, value in extra:
        headers.appendlist(name, value)
    if coded:
        headers.appendlist(b"Content-Encoding", b"gzip")
        body = gzip.compress(body, mtime=0)
    return Response(request.url, status=status, headers=headers, body=body, request=request)


def _blocks(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(WARC header block, HTTP header block, payload and record end) of one serialised record."""
    warc, http, payload = data.split(b"\r\n\r\n", 2)
    return warc, http + b"\r\n\r\n", payload


def _written(tmp_path, recs):
    """Write records through gikcrawl's WARC writer; their offsets and the file's path."""
    writers = WarcWriterSet(tmp_path / "a", {"software": "test"}, stamp="20240501000000")
    f = writers.file_for("xian")
    offsets = [f.write(r) for r in recs]
    writers.close()
    return f.path, offsets


# --- the record builder ------------------------------------------------------------------------------

def test_exchange_records_fields_digest_and_header_bytes(tmp_path):
    req = _request(**{KIND: "attachment", REFERER_PAGE: BASE + "/gkml/index.html"})
    html = _report_html()
    resp = _response(req, html, extra=[(b"Content-Disposition", DISPOSITION_UTF8), (b"Transfer-Encoding", b"chunked"),
                                       (b"Content-Length", b"99999")])
    date = warc_date()
    pair = records.exchange_records(req, resp, date, records.extension_fields(req))
    assert [r.rec_type for r in pair] == ["response", "request"]
    rec, req_rec = pair
    h = rec.rec_headers
    assert h.get_header("WARC-Target-URI") == req.url and h.get_header("WARC-Date") == date
    assert h.get_header("WARC-Gikcrawl-Site") == "xian" and h.get_header("WARC-Gikcrawl-Kind") == "attachment"
    assert h.get_header("WARC-Gikcrawl-Referer") == BASE + "/gkml/index.html"
    assert h.get_header("WARC-Gikcrawl-Link-Text") == "2023%E5%B9%B4%20%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A"
    assert h.get_header("WARC-Payload-Digest") == _digest(resp.body)           # the coded body, as received
    assert req_rec.rec_headers.get_header("WARC-Concurrent-To") == h.get_header("WARC-Record-ID")

    path, offsets = _written(tmp_path, pair)
    _, http, payload = _blocks(read_member(path, offsets[0]))
    assert http == (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nSet-Cookie: a=1; Path=/\r\n"
                    b"Set-Cookie: b=2; Path=/\r\nEtag: \"5f3a-1\"\r\nContent-Disposition: " + DISPOSITION_UTF8 +
                    b"\r\nContent-Encoding: gzip\r\nContent-Length: " + str(len(resp.body)).encode() + b"\r\n\r\n")
    assert payload == resp.body + b"\r\n\r\n"          # the coded body, then the record's end
    _, req_http, _ = _blocks(read_member(path, offsets[1]))
    assert req_http.startswith(b"GET /gkml/2023/report.html HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n")
    assert b"Cookie: JSESSIONID=A1B2\r\n" in req_http


def test_revisit_records_for_a_304_and_an_unchanged_payload():
    req = _request()
    earlier = {"digest": _digest(b"earlier body"), "refers_to_date": "2024-04-01T08:00:00.000000Z",
               "refers_to_id": "<urn:uuid:0f0e0d0c-0000-4000-8000-000000000001>"}
    for status, profile in ((304, records.SERVER_NOT_MODIFIED),
                            (200, "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")):
        rev, req_rec = records.revisit_records(req, _response(req, b"", status=status, coded=False), warc_date(),
                                               records.extension_fields(req), **earlier)
        h = rev.rec_headers
        assert rev.rec_type == "revisit" and h.get_header("WARC-Profile") == profile
        assert h.get_header("WARC-Payload-Digest") == earlier["digest"]
        assert h.get_header("WARC-Refers-To") == earlier["refers_to_id"]
        assert h.get_header("WARC-Refers-To-Date") == earlier["refers_to_date"]
        assert h.get_header("WARC-Refers-To-Target-URI") == req.url
        assert int(rev.http_headers.get_statuscode()) == status
        assert req_rec.rec_type == "request"
        assert req_rec.rec_headers.get_header("WARC-Concurrent-To") == h.get_header("WARC-Record-ID")


def test_rendered_records_link_the_dom_to_the_network_response():
    doc = {"url": BASE + "/gkml/list.html", "status": 200, "reason": "OK", "body": b"<html>raw</html>",
           "headers": [{"name": "Content-Type", "value": "text/html"}, {"name": "Content-Encoding", "value": "gzip"}],
           "request_headers": [{"name": "User-Agent", "value": "gikcrawl/test"}], "method": "GET"}
    req = _request("/gkml/list.html", playwright=True, **{BROWSER_DOCUMENT: doc, KIND: "list"})
    dom_html = _report_html()
    dom = HtmlResponse(req.url, status=200, headers={"Content-Type": "text/html; charset=utf-8"}, body=dom_html,
                       request=req)
    recs, parsed = records.rendered_records(req, dom, warc_date(), records.extension_fields(req))
    assert [r.rec_type for r in recs] == ["response", "request", "resource"] and parsed == 2
    network, dom_rec = recs[0], recs[parsed]
    assert "Content-Encoding removed" in network.rec_headers.get_header("WARC-Gikcrawl-Note")
    assert network.http_headers.get_header("Content-Encoding") is None
    h = dom_rec.rec_headers
    assert h.get_header("WARC-Gikcrawl-Rendered") == "DOM" and h.get_header("WARC-Gikcrawl-Status") == "200"
    assert h.get_header("WARC-Concurrent-To") == network.rec_headers.get_header("WARC-Record-ID")
    assert h.get_header("WARC-Payload-Digest") == _digest(dom_html)
    assert dom_rec.content_type == "text/html; charset=utf-8"       # a WARC field once written


def test_failed_download_records_keep_the_headers_received():
    req = _request("/files/big.pdf")
    headers = Headers({"Content-Type": "application/pdf", "Content-Length": "5000000"})
    recs = records.failed_download_records(req, warc_date(), headers, b"%PDF-1.7 partial", "time",
                                           "TimeoutError: Getting took longer than 60 seconds.")
    assert [r.rec_type for r in recs] == ["resource", "metadata", "request"]
    res, meta, req_rec = recs
    assert res.rec_headers.get_header("WARC-Truncated") == "time"
    assert res.content_type == "application/pdf"
    assert meta.raw_stream.read() == b"Content-Type: application/pdf\r\nContent-Length: 5000000\r\n"
    rid = res.rec_headers.get_header("WARC-Record-ID")
    assert meta.rec_headers.get_header("WARC-Concurrent-To") == rid == req_rec.rec_headers.get_header(
        "WARC-Concurrent-To")


# --- the converter -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, ctype, cls", [("/gkml/2023/report.html", b"text/html; charset=utf-8", HtmlResponse),
                                              ("/gkml/2023/report.txt", b"text/plain; charset=gbk", TextResponse),
                                              ("/files/2023.pdf", b"application/pdf", Response)])
def test_round_trip_same_status_headers_body_and_class(tmp_path, path, ctype, cls):
    req = _request(path)
    body = _report_html() if cls is not Response else _pdf()
    resp = _response(req, body, ctype=ctype, status=200,
                     extra=[(b"Content-Disposition", DISPOSITION_GBK), (b"X-Note", DISPOSITION_UTF8)])
    pair = records.exchange_records(req, resp, warc_date(), {})
    file, offsets = _written(tmp_path, pair)
    again = Request(req.url)
    back = to_response(Stored.at(file, offsets[0]), request=again, location=("xian.warc.gz", offsets[0]))
    assert type(back) is cls and back.status == 200 and back.url == req.url and back.body == resp.body
    stored = Headers(back.headers)
    assert stored.pop(b"Content-Length") == [str(len(resp.body)).encode()]
    assert stored == resp.headers              # byte for byte: GBK and UTF-8 values, repeated Set-Cookie
    assert back.meta[WARC] == {"file": "xian.warc.gz", "offset": offsets[0],
                               "record_id": pair[0].rec_headers.get_header("WARC-Record-ID"),
                               "date": pair[0].rec_headers.get_header("WARC-Date"),
                               "payload_digest": _digest(resp.body)}
    decoded = to_response(Stored.at(file, offsets[0]), decode=True)    # what a callback sees
    assert decoded.body == body and b"Content-Encoding" not in decoded.headers and type(decoded) is cls


def test_a_304_revisit_stands_for_the_earlier_capture(tmp_path):
    req = _request()
    html = _report_html()
    first = records.exchange_records(req, _response(req, html), "2024-04-01T08:00:00.000000Z", {})
    not_modified = _response(req, b"", status=304, coded=False)
    revisit = records.revisit_records(req, not_modified, "2024-05-01T08:00:00.000000Z", {},
                                      digest=first[0].rec_headers.get_header("WARC-Payload-Digest"),
                                      refers_to_date="2024-04-01T08:00:00.000000Z",
                                      refers_to_id=first[0].rec_headers.get_header("WARC-Record-ID"))
    file, offsets = _written(tmp_path, first + revisit)
    back = to_response(Stored.at(file, offsets[2]), Stored.at(file, offsets[0]), decode=True, flags=["not-modified"])
    assert back.status == 200 and back.body == html and type(back) is HtmlResponse
    assert back.headers[b"Content-Type"] == b"text/html; charset=utf-8" and "not-modified" in back.flags
    with pytest.raises(ValueError):                       # a revisit alone has no bytes to give
        to_response(Stored.at(file, offsets[2]))


def test_a_rendered_dom_becomes_the_response_the_browser_handler_gave(tmp_path):
    req = _request("/gkml/list.html", playwright=True)
    dom = HtmlResponse(req.url, status=203, headers={"Content-Type": "text/html; charset=utf-8"},
                       body=_report_html(), request=req)
    recs, parsed = records.rendered_records(req, dom, warc_date(), {})
    file, offsets = _written(tmp_path, recs)
    back = to_response(Stored.at(file, offsets[parsed]))
    assert type(back) is HtmlResponse and back.status == 203 and back.body == dom.body
    assert back.flags == ["playwright"] and back.headers[b"Content-Type"] == b"text/html; charset=utf-8"


# --- the storage ---------------------------------------------------------------------------------------

def _crawler(tmp_path, **settings):
    import gikcrawl.settings as project
    values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    values.update(ARCHIVE_DIR=str(tmp_path / "archive"), GIKCRAWL_RUN_ID="20240501000000", **settings)
    crawler = get_crawler(Spider, values)
    crawler.spider = Spider(name="xian")
    return crawler


def test_storage_from_a_crawler_holds_what_it_stored_and_nothing_else(tmp_path):
    writer = archive_storage(_crawler(tmp_path))
    assert isinstance(writer, WarcStorage) and writer.mode is None
    req = _request()
    html = _report_html()
    resp = _response(req, html)
    writer.store_response(writer.crawler.spider, req, resp)
    stored_at = dict(req.meta[WARC])
    post = _request("/gkml/dataproxy.jsp", method="POST")
    writer.store_response(writer.crawler.spider, post, _response(post, b"<datastore></datastore>",
                                                                 ctype=b"text/xml"))
    writer.close_spider()
    assert stored_at["file"].startswith("xian-20240501000000-") and stored_at["payload_digest"] == _digest(resp.body)

    reader = archive_storage(_crawler(tmp_path, REPLAY_FROM=str(tmp_path / "archive")))
    assert reader is not writer and reader.mode == "replay" and reader.writers is None
    again = _request()
    back = reader.retrieve_response(reader.crawler.spider, again)
    assert type(back) is HtmlResponse and back.status == 200 and back.body == resp.body    # still coded
    assert back.headers.getlist(b"Set-Cookie") == [b"a=1; Path=/", b"b=2; Path=/"]
    assert again.meta[WARC] == stored_at
    assert reader.retrieve_response(reader.crawler.spider, _request("/gkml/2023/other.html")) is None
    assert reader.retrieve_response(reader.crawler.spider, _request(method="POST")) is None    # method matters
    assert reader.retrieve_response(reader.crawler.spider, _request("/gkml/dataproxy.jsp", method="POST")).body \
        == gzip.compress(b"<datastore></datastore>", mtime=0)


def test_storage_a_revisit_without_its_original_is_not_in_the_archive(tmp_path):
    req = _request()
    revisit = records.revisit_records(req, _response(req, b"", status=304, coded=False), warc_date(), {},
                                      digest=_digest(b"gone"), refers_to_date="2020-01-01T00:00:00.000000Z",
                                      refers_to_id="<urn:uuid:0f0e0d0c-0000-4000-8000-000000000002>")
    writers = WarcWriterSet(tmp_path / "archive", {"software": "test"}, stamp="20240501000000")
    f = writers.file_for("xian")
    for rec in revisit:
        f.write(rec)
    writers.close()
    storage = archive_storage(_crawler(tmp_path, REPLAY_FROM=str(tmp_path / "archive")))
    with pytest.raises(NotInArchive):
        storage.retrieve_response(storage.crawler.spider, _request())


class _Recording(WarcStorage):
    """Another storage, swapped in by the setting."""


def test_storage_class_comes_from_the_setting(tmp_path):
    crawler = _crawler(tmp_path, ARCHIVE_STORAGE=_Recording)
    storage = archive_storage(crawler)
    assert type(storage) is _Recording and archive_storage(crawler) is storage       # one per crawler
