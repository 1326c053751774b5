"""The catalog: SQLite at ARCHIVE_DIR/catalog.sqlite.

fetches  one row per fetched URL per run: what the server answered, when, and the payload digest.
reports  one row per parsed report (latest parse of each URL): key fields and the whole record as JSON.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS fetches (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    site          TEXT,
    kind          TEXT,              -- column | list | report | attachment | robots | other
    status        INTEGER,           -- HTTP status; NULL when the download failed
    error         TEXT,              -- failure cause when status is NULL or >= 400
    fetched_at    TEXT NOT NULL,     -- ISO 8601 UTC
    content_type  TEXT,
    length        INTEGER,           -- bytes of the body as received
    payload_digest TEXT,             -- sha1:BASE32 of the body as received (the WARC payload digest)
    warc_file     TEXT,
    warc_offset   INTEGER,
    warc_record_id TEXT,
    referer       TEXT               -- the page that linked here (report page of an attachment)
);
CREATE INDEX IF NOT EXISTS fetches_url ON fetches(url);
CREATE TABLE IF NOT EXISTS reports (
    url           TEXT PRIMARY KEY,
    site          TEXT,
    title         TEXT,
    agency        TEXT,
    region        TEXT,
    year          INTEGER,
    published     TEXT,
    format        TEXT,
    checks_failed INTEGER NOT NULL,  -- number of consistency checks that failed
    warnings      INTEGER NOT NULL,  -- number of warnings
    fetched_at    TEXT,
    payload_digest TEXT,
    warc_file     TEXT,
    warc_offset   INTEGER,
    record        TEXT NOT NULL      -- the whole record (report.schema.json) as JSON
);
"""


class Catalog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path))
        self.db.executescript(SCHEMA)

    def add_fetch(self, **row) -> None:
        cols = ", ".join(row)
        self.db.execute(f"INSERT INTO fetches ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def add_report(self, record: dict) -> None:
        src = record.get("source") or {}
        self.db.execute(
            "INSERT OR REPLACE INTO reports (url, site, title, agency, region, year, published, format, "
            "checks_failed, warnings, fetched_at, payload_digest, warc_file, warc_offset, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (src.get("url"), src.get("site"), record.get("title"), record.get("agency"), record.get("region"),
             record.get("year"), record.get("published"), record.get("format"),
             sum(1 for c in record.get("checks") or [] if not c.get("ok")), len(record.get("warnings") or []),
             src.get("fetched_at"), src.get("payload_digest"), src.get("warc_file"), src.get("warc_offset"),
             json.dumps(record, ensure_ascii=False)))

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.commit()
        self.db.close()
