"""Where records come from: an archive's catalog (its `reports` table) or JSONL files of records."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path


class SourceError(Exception):
    """An input that cannot be read at all (missing, not a catalog, not JSONL)."""


def catalog_path(path: Path) -> Path | None:
    if path.is_dir():
        path = path / "catalog.sqlite"
    return path if path.suffix in (".sqlite", ".db") or path.name == "catalog.sqlite" else None


def warc_record_ids(paths: list[str | Path]) -> dict[tuple[str, int], str]:
    """(warc_file, warc_offset) → WARC-Record-ID from the catalogs among paths (for attachment carriers)."""
    out: dict[tuple[str, int], str] = {}
    for p in map(Path, paths):
        cat = catalog_path(p) if p.exists() else None
        if cat is None or not cat.exists():
            continue
        with sqlite3.connect(f"file:{cat}?mode=ro", uri=True) as db:
            out.update({(f, o): r for f, o, r in db.execute(
                "SELECT warc_file, warc_offset, warc_record_id FROM fetches WHERE warc_record_id IS NOT NULL")})
    return out


def load_records(paths: list[str | Path]) -> tuple[list[dict], list[str]]:
    """(records, problems): a line that is not a JSON object is a problem naming file and line, and the
    other lines are still read."""
    records: list[dict] = []
    problems: list[str] = []
    for p in map(Path, paths):
        if not p.exists():
            raise SourceError(f"{p}: no such file or directory")
        cat = catalog_path(p)
        if cat is not None:
            if not cat.exists():
                raise SourceError(f"{p}: no catalog.sqlite here (is it an ARCHIVE_DIR?)")
            try:
                with sqlite3.connect(f"file:{cat}?mode=ro", uri=True) as db:
                    rows = db.execute("SELECT url, record FROM reports ORDER BY url").fetchall()
            except sqlite3.DatabaseError as e:
                raise SourceError(f"{cat}: not a gikcrawl catalog ({e})") from None
            for url, text in rows:
                try:
                    records.append(_object(json.loads(text)))
                except (ValueError, TypeError) as e:
                    problems.append(f"{cat}: report {url}: record is not a JSON object ({e}); skipped")
            continue
        if p.is_dir():
            raise SourceError(f"{p}: a directory without catalog.sqlite")
        with open(p, "rb") as f:
            for n, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:                       # json.loads reads UTF-8 bytes (and says so when they are not)
                    records.append(_object(json.loads(raw)))
                except (ValueError, TypeError) as e:
                    problems.append(f"{p}:{n}: not a JSON record ({e}); skipped")
    return records, problems


def _object(value) -> dict:
    if not isinstance(value, dict) or "tables" not in value or "source" not in value:
        raise TypeError("not a report record (needs tables and source)")
    return value
