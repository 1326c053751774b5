"""Reading WARC files record by record, robustly: damaged parts are reported and skipped, not fatal.

For .warc.gz (one gzip member per record, as warcio and gikcrawl write them) the members are found by
decompressing in bounded chunks, so a corrupt or truncated member costs that record only: reading resumes
at the next gzip header. Plain .warc files are read sequentially up to the first damage.
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass
class Member:
    start: int
    end: int | None          # None: damaged or incomplete
    data: bytes | None       # decompressed bytes of a complete member
    problem: str | None = None


def _inflate(mv: memoryview, pos: int) -> tuple[int | None, bytes | None, str | None]:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out, p, n = [], pos, len(mv)
    try:
        while p < n:
            chunk = mv[p:p + _CHUNK]
            out.append(d.decompress(chunk))
            if d.eof:
                return p + len(chunk) - len(d.unused_data), b"".join(out), None
            p += len(chunk)
    except zlib.error as e:
        return None, None, f"corrupt gzip data ({e})"
    return None, None, "incomplete record (truncated file)"


def gzip_members(data: bytes):
    """Yield every gzip member of a .warc.gz; after a damaged one, resume at the next gzip header."""
    mv, pos = memoryview(data), 0
    while pos < len(data):
        end, out, problem = _inflate(mv, pos)
        if end is not None:
            yield Member(pos, end, out)
            pos = end
            continue
        yield Member(pos, None, None, problem)
        nxt = data.find(_GZIP_MAGIC, pos + 1)
        if nxt < 0:
            return
        pos = nxt


def record_of(data: bytes):
    """The single WARC record in a decompressed member (warcio ArcWarcRecord)."""
    return next(iter(ArchiveIterator(io.BytesIO(data), arc2warc=False)))


def read_member(path: str | Path, offset: int) -> bytes:
    """The decompressed bytes of the gzip member at offset (one record)."""
    with open(path, "rb") as f:
        f.seek(offset)
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = []
        while not d.eof:
            chunk = f.read(_CHUNK)
            if not chunk:
                raise EOFError(f"{path}: incomplete record at offset {offset}")
            out.append(d.decompress(chunk))
        return b"".join(out)


def iter_records(path: str | Path, problems: list[str]):
    """Yield (offset, record, payload) for every readable record; damage goes to problems as
    'FILE: offset N: what'. payload: the record's raw body (for responses, still content-coded)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.append(f"{path}: cannot read: {e.strerror or e}")
        return
    if not data:
        problems.append(f"{path}: empty file")
        return
    if data[:2] == b"\x1f\x8b":
        for m in gzip_members(data):
            if m.data is None:
                problems.append(f"{path}: offset {m.start}: {m.problem}")
                continue
            try:
                rec = record_of(m.data)
                payload = rec.raw_stream.read()
            except Exception as e:          # warcio raises several kinds on damaged records
                problems.append(f"{path}: offset {m.start}: not a WARC record ({type(e).__name__}: {e})")
                continue
            yield m.start, rec, payload
        return
    try:
        with open(path, "rb") as f:
            it = ArchiveIterator(f)
            for rec in it:
                payload = rec.raw_stream.read()
                yield it.get_record_offset(), rec, payload
    except Exception as e:
        problems.append(f"{path}: not readable as WARC past this point ({type(e).__name__}: {e})")


def record_bytes(path: str | Path, offset: int) -> bytes:
    """The stored bytes of the one record at offset: a .warc.gz member decompressed, or a plain .warc
    record read to the end of its block (gikcrawl/archive/convert.py makes a Response of them)."""
    if str(path).endswith(".gz"):
        return read_member(path, offset)
    with open(path, "rb") as f:
        f.seek(offset)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = f.read(4096)
            if not chunk:
                raise EOFError(f"{path}: incomplete record at offset {offset}")
            head += chunk
        end = head.index(b"\r\n\r\n") + 4
        _, fields = _header_block(head[:end - 4])
        length = next((int(v) for k, v in fields.items() if k.lower() == "content-length"), 0)
        f.seek(offset)
        data = f.read(end + length)
        if len(data) < end + length:
            raise EOFError(f"{path}: incomplete record at offset {offset}")
        return data


def _header_block(block: bytes) -> tuple[str, dict]:
    lines = block.decode("utf-8", "replace").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip() not in fields:
            fields[name.strip()] = value.strip()
    return lines[0], fields


def headers_at(f, offset: int) -> tuple[dict, str | None, dict]:
    """WARC header fields, HTTP status line and HTTP header fields of the gzip-member record at offset,
    decompressing only as far as the headers (for scanning an archive through its CDXJ index)."""
    f.seek(offset)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    buf = b""
    while buf.count(b"\r\n\r\n") < 2 and not d.eof:
        chunk = f.read(4096)
        if not chunk:
            raise EOFError(f"incomplete record at offset {offset}")
        buf += d.decompress(chunk)
    parts = buf.split(b"\r\n\r\n", 2)
    _, warc = _header_block(parts[0])
    status_line, http = (_header_block(parts[1]) if len(parts) > 1 and parts[1][:5] == b"HTTP/" else (None, {}))
    return warc, status_line, http
