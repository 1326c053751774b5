"""`gikcrawl wacz ARCHIVE_DIR -o FILE.wacz`: the archive as one WACZ 1.1.1 file (py-wacz), for ReplayWeb.page
and Browsertrix users.

The WACZ holds every WARC, the index py-wacz builds from them (with the same revisit corrections as the
CDXJ beside each WARC, see gikcrawl.archive.cdxj: py-wacz indexes the WARCs itself), `pages/pages.jsonl` with
one page per parsed report (title, URL and capture time from the catalog) and `pages/extraPages.jsonl` with
the list pages the reports were found on.
"""
from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import re
import sqlite3
import tempfile
import typing
from pathlib import Path

import wacz.main as wacz_main
from wacz.waczindexer import WACZIndexer

from .archive.cdxj import index_path
from .archive.convert import Stored, to_response
from .extract import decode_body
from .serve import ServeError, ensure_indexes

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.DOTALL | re.IGNORECASE)


class WaczError(Exception):
    """The WACZ cannot be made (no WARCs, no catalog, py-wacz failed)."""


def corrected_lines(warcs: list[Path]) -> dict[tuple[str, str], tuple[str, dict]]:
    """(filename, offset of the record) → (urlkey, entry) of every revisit line of the CDXJ beside the WARCs."""
    out = {}
    for warc in warcs:
        if not index_path(warc).exists():
            continue
        for line in index_path(warc).read_text(encoding="utf-8").splitlines():
            urlkey, _, data = line.split(" ", 2)
            entry = json.loads(data)
            own = entry.get("revisit") or entry
            if own.get("mime") == "warc/revisit":
                out[(own["filename"], str(own["offset"]))] = (urlkey, entry)
    return out


class _CorrectedIndexer(WACZIndexer):
    """py-wacz's indexer writing the corrected line for each revisit (fixes set by write_wacz)."""
    fixes: typing.ClassVar[dict] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_digests: dict = {}

    def _do_write(self, urlkey, ts, index, out):
        key = (index.get("filename"), str(index.get("offset")))
        self.record_digests[key] = index.get("recordDigest")
        fix = self.fixes.get(key)
        if fix is not None:
            urlkey, entry = fix[0], dict(fix[1])
            if "revisit" in entry:          # points at the original: its record digest, not the revisit's
                digest = self.record_digests.get((entry["filename"], str(entry["offset"])))
                entry.pop("recordDigest", None)
                if digest:
                    entry["recordDigest"] = digest
            else:
                entry["recordDigest"] = index.get("recordDigest")
            for name in ("referrer", "req.http:cookie"):
                if name in index:
                    entry[name] = index[name]
            index = entry
        super()._do_write(urlkey, ts, index, out)


def pages_from_catalog(archive_dir: Path) -> tuple[list[dict], list[dict]]:
    """(report pages, list pages) for the WACZ: each report with its title and capture time; each list page
    (GET, answered 200) at its newest capture."""
    path = archive_dir / "catalog.sqlite"
    if not path.exists():
        raise WaczError(f"no catalog at {path}: the pages of the WACZ come from it (crawl with gikcrawl)")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        reports = [{"url": url, "title": title or url, "ts": fetched_at}
                   for url, title, fetched_at in db.execute(
                       "SELECT url, title, fetched_at FROM reports WHERE fetched_at IS NOT NULL ORDER BY url")]
        lists = [{"url": url, "title": _title(archive_dir / f, offset) or url, "ts": fetched_at, "id": _page_id(url)}
                 for url, fetched_at, f, offset in db.execute(
                     "SELECT url, MAX(fetched_at), warc_file, warc_offset FROM fetches WHERE kind IN ('list', 'column') "
                     "AND status = 200 AND warc_file IS NOT NULL GROUP BY url ORDER BY url")]
    finally:
        db.close()
    return reports, lists


def _page_id(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:22]


def _title(warc: Path, offset: int) -> str | None:
    """The <title> of the archived page (list pages have no title in the catalog)."""
    try:
        response = to_response(Stored.at(warc, offset), decode=True)
        m = _TITLE.search(decode_body(response.body[:65536], response.headers.get(b"Content-Type")))
    except Exception:          # an unreadable capture still is a page; its URL stands for the title
        return None
    return " ".join(html.unescape(m.group(1)).split()) or None if m else None


def _post_only(warcs: list[Path]) -> set[str]:
    """URLs captured only by POST (a dataproxy list): not pages a visitor can open."""
    methods: dict[str, set] = {}
    for warc in warcs:
        if not index_path(warc).exists():
            continue
        for line in index_path(warc).read_text(encoding="utf-8").splitlines():
            entry = json.loads(line.split(" ", 2)[2])
            if "url" not in entry:         # a warcinfo line
                continue
            methods.setdefault(entry["url"], set()).add(entry.get("method", "GET"))
    return {url for url, m in methods.items() if "GET" not in m}


def write_wacz(archive_dir: str | os.PathLike, output: str | os.PathLike, title: str | None = None) -> str:
    """Write the WACZ (atomically); returns a one-line summary. Pages that match no capture are an error."""
    archive_dir, output = Path(archive_dir), Path(output)
    try:
        warcs = ensure_indexes(archive_dir)
    except ServeError as e:
        raise WaczError(str(e)) from None
    reports, lists = pages_from_catalog(archive_dir)
    post_only = _post_only(warcs)
    lists = [p for p in lists if p["url"] not in post_only]
    with tempfile.TemporaryDirectory(prefix="gikcrawl-wacz-") as tmp:
        pages, extra = Path(tmp, "pages.jsonl"), Path(tmp, "extraPages.jsonl")
        pages.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in reports), encoding="utf-8")
        header = {"format": "json-pages-1.0", "id": "extra-pages", "title": "list pages"}
        extra.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in [header] + lists), encoding="utf-8")
        partial = output.with_name(output.name + ".part")
        args = ["create", "-o", str(partial), "-p", str(pages), "--title", title or f"gikcrawl archive {archive_dir.name}"]
        if lists:
            args += ["-e", str(extra)]
        log = io.StringIO()
        _CorrectedIndexer.fixes = corrected_lines(warcs)
        saved, wacz_main.WACZIndexer = wacz_main.WACZIndexer, _CorrectedIndexer    # py-wacz has no hook for it
        try:
            with contextlib.redirect_stdout(log):
                status = wacz_main.main(args + [str(w) for w in warcs])
        except Exception as e:
            partial.unlink(missing_ok=True)
            raise WaczError(f"py-wacz failed: {type(e).__name__}: {e}") from None
        finally:
            wacz_main.WACZIndexer = saved
            _CorrectedIndexer.fixes = {}
        unmatched = [line for line in log.getvalue().splitlines() if line.startswith("Invalid passed page")]
        if status or unmatched:
            partial.unlink(missing_ok=True)
            raise WaczError(f"py-wacz: {'; '.join(unmatched[:5]) or log.getvalue()[-500:]}"
                            + (f" (and {len(unmatched) - 5} more)" if len(unmatched) > 5 else ""))
        partial.replace(output)
    return (f"{output}: {len(warcs)} WARC files, {len(reports)} report pages, {len(lists)} list pages "
            f"(WACZ {wacz_main.WACZ_VERSION})")
