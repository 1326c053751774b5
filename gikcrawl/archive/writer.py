"""WARC/1.1 files: <prefix>-<UTC timestamp>-<serial>.warc.gz, one gzip member per record, flushed after
every record (a killed crawl leaves complete records plus at most one partial one), rolled over at a size
limit, a warcinfo record first in every file, a CDXJ index written beside each file when it is closed."""
from __future__ import annotations

import gzip
import io
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.warcwriter import WARCWriter

from .cdxj import write_index
from .records import WARC_VERSION, warcinfo_record


def warc_date(dt: datetime | None = None) -> str:
    dt = dt or datetime.now(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}Z"


@dataclass(frozen=True)
class Written:
    """Where a record went: what a parsed item and the catalog point at."""
    file: str            # relative to the archive directory
    offset: int
    record_id: str
    date: str
    payload_digest: str | None

    def as_meta(self) -> dict:
        return {"file": self.file, "offset": self.offset, "record_id": self.record_id, "date": self.date,
                "payload_digest": self.payload_digest}


class WarcFile:
    """One open WARC file."""

    def __init__(self, path: Path, root: Path, info: dict, compresslevel: int):
        self.path = path
        self.name = str(path.relative_to(root))
        self.compresslevel = compresslevel
        self.fh = open(path, "ab")
        self.size = self.fh.tell()
        self.write(warcinfo_record(path.name, info))

    def write(self, record) -> int:
        """Write one record as its own gzip member; returns its offset."""
        buf = io.BytesIO()
        WARCWriter(buf, gzip=False, warc_version=WARC_VERSION).write_record(record)
        data = gzip.compress(buf.getvalue(), compresslevel=self.compresslevel, mtime=0)
        offset = self.size
        self.fh.write(data)
        self.fh.flush()
        self.size += len(data)
        return offset

    def close(self, index: bool = True) -> None:
        if not self.fh.closed:
            self.fh.close()
            if index:
                write_index(self.path)


class WarcWriterSet:
    """The WARC files of one crawl: one series per prefix (a site key), rolled over at max_size bytes."""

    def __init__(self, root: str | os.PathLike, info: dict, *, max_size: int = 1 << 30, compresslevel: int = 6,
                 worker: str | None = None, stamp: str | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.info = info
        self.max_size = max_size
        self.compresslevel = compresslevel
        self.worker = worker
        self.open_files: dict[str, WarcFile] = {}
        self.serials: dict[str, int] = {}
        self.stamp = stamp or datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")   # the run id

    def _new_file(self, prefix: str) -> WarcFile:
        serial = self.serials.get(prefix, 0)
        self.serials[prefix] = serial + 1
        parts = [re.sub(r"[^A-Za-z0-9_.\-]", "_", prefix), self.stamp] + ([self.worker] if self.worker else [])
        path = self.root / f"{'-'.join(parts)}-{serial:05d}.warc.gz"
        while path.exists():                  # another run in the same second: never append to its file
            serial += 1
            self.serials[prefix] = serial + 1
            path = self.root / f"{'-'.join(parts)}-{serial:05d}.warc.gz"
        info = dict(self.info, isPartOf=prefix)
        return WarcFile(path, self.root, info, self.compresslevel)

    def file_for(self, prefix: str) -> WarcFile:
        f = self.open_files.get(prefix)
        if f is not None and f.size >= self.max_size:
            f.close()
            f = None
        if f is None:
            f = self.open_files[prefix] = self._new_file(prefix)
        return f

    def close(self) -> None:
        for f in self.open_files.values():
            f.close()
        self.open_files.clear()


def software_info(settings_info: dict) -> dict:
    """warcinfo fields common to every file of a crawl."""
    import platform
    from importlib.metadata import version

    from .. import __version__
    from .http import NOTES
    info = {
        "software": f"gikcrawl/{__version__} (Scrapy/{version('scrapy')}; warcio/{version('warcio')}; "
                    f"Python/{platform.python_version()})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "hostname": socket.gethostname(),
        "http-records": NOTES,
    }
    info.update({k: v for k, v in settings_info.items() if v is not None})
    return info
