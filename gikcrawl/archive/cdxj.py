"""CDXJ indexes beside the WARCs (pywb's format), made by cdxj-indexer from the finished files."""
from __future__ import annotations

from pathlib import Path

from cdxj_indexer import CDXJIndexer


def index_path(warc: Path) -> Path:
    name = warc.name
    for suffix in (".warc.gz", ".warc"):
        if name.endswith(suffix):
            return warc.with_name(name[: -len(suffix)] + ".cdxj")
    return warc.with_name(name + ".cdxj")


def write_index(warc: str | Path) -> Path:
    """Sorted CDXJ of one WARC file, written atomically next to it."""
    warc = Path(warc)
    out = index_path(warc)
    tmp = out.with_name(out.name + ".tmp")
    CDXJIndexer(output=str(tmp), inputs=[str(warc)], sort=True, post_append=True).process_all()
    tmp.replace(out)
    return out
