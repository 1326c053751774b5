"""Records written through Scrapy's item exporters (the classes `scrapy crawl -O` uses), atomically: a crash
or Ctrl-C never leaves a half-written file. A new output format is one exporter in FEED_EXPORTERS."""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from scrapy.settings import Settings
from scrapy.utils.misc import load_object

# by file name ending, as `scrapy crawl -O FILE` guesses the format
_BY_SUFFIX = {".jsonl": "jsonlines", ".jl": "jsonlines", ".json": "json", ".csv": "csv", ".xml": "xml",
              ".pickle": "pickle", ".marshal": "marshal"}


def exporter_class(fmt: str) -> type:
    exporters = Settings().getwithbase("FEED_EXPORTERS")
    try:
        return load_object(exporters[fmt])
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}; known: {', '.join(sorted(exporters))}") from None


def format_for(path: str | None, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    return _BY_SUFFIX.get(os.path.splitext(path or "")[1].lower(), "jsonlines")


@contextmanager
def record_writer(path: str | None, fmt: str | None = None) -> Iterator[Callable[[dict], None]]:
    """Yields write(record). With a path, records go to a temporary file renamed into place on success;
    without (or "-"), to standard output. fmt: a FEED_EXPORTERS name; default from the path's ending."""
    cls = exporter_class(format_for(path, fmt))
    if path in (None, "-"):
        out = sys.stdout.buffer
        exporter = cls(out, encoding="utf-8")
        exporter.start_exporting()
        yield exporter.export_item
        exporter.finish_exporting()
        out.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            exporter = cls(f, encoding="utf-8")
            exporter.start_exporting()
            yield exporter.export_item
            exporter.finish_exporting()
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
