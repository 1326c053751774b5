"""Responses that fail after their headers: archived with what was received, marked WARC-Truncated.

Two ways a body is cut short, and how each reaches the WARC middleware:

- the connection ends before the announced length (a reset, a short body, a chunked body never finished):
  Twisted calls it data loss. The middleware asks for such responses anyway (`download_fail_on_dataloss`
  False in the request's meta, unless the request set it), so it gets them with their real status, headers
  and the partial body (flag "dataloss"); it archives them `WARC-Truncated: disconnect` and then turns them
  back into the failure they are (retried like any download failure, then ResponseDataLossError);
- the download fails with no response at all (timeout after the headers, a cancelled oversized body):
  Scrapy keeps only what its `headers_received`/`bytes_received` signals showed, and the status line that
  gikcrawl's HTTP/1.1 handler (statusline.py) put in the meta just before that signal. With it the capture
  is a `response` record of the status, headers and partial body (`WARC-Truncated: time` or `length`);
  without it (another download handler) a `resource` record of the partial body and a `metadata` record
  with the headers received.
"""
from __future__ import annotations

import io
import weakref

from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, ResponseDataLossError

try:                                     # Twisted's own timeout (the handler may raise either)
    from twisted.internet.error import TimeoutError as TwistedTimeoutError
except ImportError:                      # pragma: no cover
    TwistedTimeoutError = DownloadTimeoutError

from ..meta import RECEIVED_STATUS

META_FLAG = "gikcrawl_dataloss_archived"


def truncation_cause(exc: BaseException) -> str:
    """WARC-Truncated value for a download that failed after its headers (WARC 1.1 §5.13)."""
    if isinstance(exc, (DownloadTimeoutError, TwistedTimeoutError, TimeoutError)):
        return "time"
    if isinstance(exc, DownloadCancelledError):
        return "length"                 # DOWNLOAD_MAXSIZE
    return "disconnect"


class ReceivedSoFar:
    """Headers and the first body bytes of the downloads in flight, from Scrapy's signals.

    Held per request object, weakly: a download that ends on a path that never asks for it (a middleware
    closer to the downloader answering first) does not keep its bytes alive. At most KEEP bytes are held per
    download — a truncated record of a long download keeps its beginning — so a crawl of many large bodies
    costs no more than Scrapy's own buffers.
    """
    KEEP = 4 * 1024 * 1024

    def __init__(self, crawler):
        self.inflight: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    def headers_received(self, headers, body_length, request, spider):
        self.inflight[request] = [headers, [], 0, request.meta.pop(RECEIVED_STATUS, None)]

    def bytes_received(self, data, request, spider):
        got = self.inflight.get(request)
        if got is not None and got[2] < self.KEEP:
            got[1].append(data[:self.KEEP - got[2]])
            got[2] += len(data)

    def pop(self, request) -> tuple[object, bytes, tuple[int, str] | None] | None:
        """(headers, body received, (status, protocol) or None when the handler did not say), or None."""
        got = self.inflight.pop(request, None)
        return None if got is None else (got[0], b"".join(got[1]), got[3])


def headerless_records(builder, url: str, date: str, ext: dict, headers, body: bytes, cause: str,
                       error: str) -> list:
    """A resource record of the partial body and a metadata record with the HTTP headers received."""
    ctype = (headers.get(b"Content-Type") or b"application/octet-stream").decode("latin-1")
    lines = "".join(f"{k.decode('latin-1')}: {v.decode('latin-1')}\r\n" for k, vs in headers.items() for v in vs)
    res = builder.create_warc_record(url, "resource", payload=io.BytesIO(body), length=len(body),
                                     warc_content_type=ctype,
                                     warc_headers_dict=dict({"WARC-Date": date, "WARC-Truncated": cause,
                                                             "WARC-Gikcrawl-Note": f"download failed after the "
                                                             f"headers ({error}); the HTTP status is not known"},
                                                            **ext))
    meta_body = lines.encode("latin-1")
    meta = builder.create_warc_record(url, "metadata", payload=io.BytesIO(meta_body), length=len(meta_body),
                                      warc_content_type="text/plain; charset=iso-8859-1",
                                      warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To":
                                                         res.rec_headers.get_header("WARC-Record-ID")})
    return [res, meta]


class ChunkedBodyCut(ResponseDataLossError):
    """A chunked body that ended before its last chunk (bad chunk framing, or the connection cut mid-body):
    counted as bad_chunking (gikcrawl/failures.py), where a body short of its Content-Length is short_body."""
