"""`gikcrawl warc verify`: check WARC files, and cut off a partial trailing record (--repair).

Per file: every record read through warcio with digest checking, counts by record type, WARC version,
response/request pairing, and for .warc.gz the gzip member structure (each record is one member, so a
crawl killed mid-write leaves exactly one incomplete member at the end, which --repair truncates).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from .cdxj import index_path, write_index
from .reader import gzip_members


@dataclass
class Verdict:
    path: Path
    records: Counter = field(default_factory=Counter)
    digests_ok: int = 0
    problems: list[str] = field(default_factory=list)
    partial_at: int | None = None        # offset where an incomplete trailing record starts
    repaired: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        counts = ", ".join(f"{n} {t}" for t, n in sorted(self.records.items()))
        head = "OK" if self.ok else "INVALID"
        text = f"{head} {self.path}: {sum(self.records.values())} records ({counts or 'none'}), " \
               f"{self.digests_ok} digests valid"
        if self.problems:
            text += "; problems: " + "; ".join(self.problems[:5])
            if len(self.problems) > 5:
                text += f"; … {len(self.problems) - 5} more"
        if self.repaired:
            text += f"; repaired: {self.repaired}"
        return text


def _check_records(stream, verdict: Verdict, stop: int) -> int:
    """Read every record that starts before stop; returns the offset just past the last one read."""
    end = 0
    concurrent: dict[str, str] = {}
    responses: set[str] = set()
    it = ArchiveIterator(stream, check_digests=True)
    for record in it:
        try:
            content = record.raw_stream.read()    # the stored payload, still content-coded
        except Exception:
            if end >= stop:                       # the known incomplete trailing record
                break
            raise
        offset = it.get_record_offset()          # (only after reading: warcio reads to the end here)
        if offset >= stop:
            break
        rtype = record.rec_type
        verdict.records[rtype] += 1
        version = record.rec_headers.protocol
        if version != "WARC/1.1":
            verdict.problems.append(f"offset {offset}: {version} record (expected WARC/1.1)")
        if record.digest_checker.passed is False:
            verdict.problems.append(f"offset {offset}: {'; '.join(map(str, record.digest_checker.problems))}")
        elif record.digest_checker.passed:
            verdict.digests_ok += 1
        rid = record.rec_headers.get_header("WARC-Record-ID")
        if rtype == "response":
            responses.add(rid)
            declared = record.http_headers.get_header("Content-Length") if record.http_headers else None
            if declared is not None and declared.isdigit() and int(declared) != len(content):
                verdict.problems.append(f"offset {offset}: HTTP Content-Length {declared} but {len(content)} "
                                        f"bytes stored")
            if record.http_headers and record.http_headers.get_header("Transfer-Encoding"):
                verdict.problems.append(f"offset {offset}: Transfer-Encoding header on a stored (de-chunked) body")
        elif rtype == "request":
            concurrent[rid] = record.rec_headers.get_header("WARC-Concurrent-To")
        end = offset + it.get_record_length()
    dangling = [r for r, to in concurrent.items() if to not in responses]
    if dangling:
        verdict.problems.append(f"{len(dangling)} request records whose response is not in the file")
    return end


def verify(path: str | Path, repair: bool = False) -> Verdict:
    path = Path(path)
    verdict = Verdict(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        verdict.problems.append(f"cannot read: {e.strerror or e}")
        return verdict
    if not data:
        verdict.problems.append("empty file")
        return verdict
    gz = data[:2] == b"\x1f\x8b"
    good_end = len(data)
    if gz:
        damaged = [m for m in gzip_members(data) if m.data is None]
        if damaged and damaged[-1].problem.startswith("incomplete") and damaged[-1] is damaged[0]:
            verdict.partial_at = good_end = damaged[-1].start
        for m in damaged:
            if m.start != verdict.partial_at:
                verdict.problems.append(f"offset {m.start}: {m.problem}")
        if verdict.problems:
            return verdict
    try:
        with open(path, "rb") as stream:      # (warcio reads some gzip members short from a BytesIO)
            end = _check_records(stream, verdict, good_end)
        if not gz and end < good_end:
            verdict.partial_at, good_end = end, end
    except Exception as e:                               # warcio's errors for damaged data vary
        verdict.problems.append(f"unreadable record after offset {good_end if not verdict.records else ''}: "
                                f"{type(e).__name__}: {e}".replace("offset : ", ""))
        return verdict
    if verdict.partial_at is not None:
        cut = len(data) - verdict.partial_at
        if repair:
            with open(path, "r+b") as f:
                f.truncate(verdict.partial_at)
            verdict.repaired = f"cut an incomplete trailing record of {cut} bytes at offset {verdict.partial_at}"
            write_index(path)
        else:
            verdict.problems.append(f"incomplete trailing record at offset {verdict.partial_at} ({cut} bytes); "
                                    f"--repair cuts it off")
    elif repair and not index_path(path).exists() and verdict.ok:
        write_index(path)
        verdict.repaired = "CDXJ index written"
    return verdict


def warc_files(paths) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(x for x in p.rglob("*") if x.name.endswith((".warc", ".warc.gz")))
        else:
            out.append(p)
    return out
