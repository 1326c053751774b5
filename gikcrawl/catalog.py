"""The catalog: SQLite at ARCHIVE_DIR/catalog.sqlite.

fetches  one row per fetched URL per run: what the server answered, when, the payload digest, and what
         changed since the previous capture.
reports  one row per parsed report (latest parse of each URL): key fields and the whole record as JSON.
runs     one row per run: when, which sites, how, and its run report.
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
    referer       TEXT,              -- the page that linked here (report page of an attachment)
    run_id        TEXT,              -- the run that fetched it (runs.run_id)
    change        TEXT,              -- new | unchanged | changed | vanished | gone (vs the previous capture)
    etag          TEXT,
    last_modified TEXT,
    request_id    TEXT,              -- distributed runs: <worker>:<attempt> that fetched it
    redo_of       TEXT               -- the attempt of a dead worker this one redid (merge drops that one's rows)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id        TEXT PRIMARY KEY,  -- UTC timestamp of the run's start, also in its WARC file names
    started       TEXT NOT NULL,
    finished      TEXT,              -- NULL while running, or when the run was killed (resume it)
    sites         TEXT NOT NULL,     -- comma-separated site keys
    refresh       TEXT NOT NULL,     -- new | all
    report        TEXT               -- the run report (JSON)
);
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
INDEXES = """
CREATE INDEX IF NOT EXISTS fetches_url ON fetches(url);
CREATE INDEX IF NOT EXISTS fetches_run ON fetches(run_id);
"""


class Catalog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path))
        self.db.execute("PRAGMA journal_mode=WAL")        # readers beside the crawl; cheap commits
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._migrate()
        self.db.executescript(INDEXES)

    def _migrate(self) -> None:
        """Catalogs made before a column existed get it (NULL for old rows)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(fetches)")}
        for column in ("run_id", "change", "etag", "last_modified", "request_id", "redo_of"):
            if column not in have:
                self.db.execute(f"ALTER TABLE fetches ADD COLUMN {column} TEXT")

    def add_fetch(self, **row) -> None:
        cols = ", ".join(row)
        self.db.execute(f"INSERT INTO fetches ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def mark_error(self, url: str, run_id: str | None, error: str) -> None:
        """Record the failure cause on the latest fetch of url in this run (a response the spider could not use)."""
        self.db.execute("UPDATE fetches SET error = ? WHERE id = (SELECT MAX(id) FROM fetches WHERE url = ? AND "
                        "run_id IS ?)", (error, url, run_id))

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

    # --- runs -------------------------------------------------------------------------------------

    def start_run(self, run_id: str, started: str, sites: list[str], refresh: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO runs (run_id, started, sites, refresh) VALUES (?, ?, ?, ?)",
                        (run_id, started, ",".join(sites), refresh))
        self.db.commit()

    def finish_run(self, run_id: str, finished: str, report: dict) -> None:
        self.db.execute("UPDATE runs SET finished = ?, report = ? WHERE run_id = ?",
                        (finished, json.dumps(report, ensure_ascii=False), run_id))
        self.db.commit()

    def unfinished_run(self) -> tuple | None:
        return self.db.execute("SELECT run_id, sites, refresh FROM runs WHERE finished IS NULL "
                               "ORDER BY run_id DESC LIMIT 1").fetchone()

    def previous_captures(self, before_run: str | None) -> dict:
        """url → the latest successful capture before this run: (payload_digest, fetched_at, warc_record_id,
        warc_file, warc_offset, etag, last_modified, kind, site)."""
        rows = self.db.execute(
            "SELECT url, payload_digest, fetched_at, warc_record_id, warc_file, warc_offset, etag, last_modified, "
            "kind, site FROM fetches WHERE status BETWEEN 200 AND 299 AND warc_file IS NOT NULL "
            "AND (run_id IS NULL OR run_id < ?) ORDER BY fetched_at", (before_run or "~",))
        return {row[0]: row[1:] for row in rows}

    def forget_run_fetches(self, run_id: str) -> None:
        """A resumed run writes its fetch rows again, from its own WARCs and the rest of the crawl."""
        self.db.execute("DELETE FROM fetches WHERE run_id = ?", (run_id,))
        self.db.commit()
