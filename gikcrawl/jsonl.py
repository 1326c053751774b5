"""JSON Lines output written atomically (kept for old imports: gikcrawl.output writes every format)."""
from __future__ import annotations

import json

from .output import record_writer


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


def jsonl_writer(path: str | None):
    """Yields write(record): JSON lines through Scrapy's exporter, atomically (see gikcrawl.output)."""
    return record_writer(path, "jsonlines")
