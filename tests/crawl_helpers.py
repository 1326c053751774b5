"""Running `scrapy crawl county` against replica sites, and comparing items with the replicas' truth."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, assert_valid

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0",
        "-s", "LOG_LEVEL=INFO"]


def write_sites(path: Path, entries: dict) -> Path:
    import yaml
    path.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    return path


def minimal_entry(server, site) -> dict:
    return {"name": f"replica {site.key}", "start_urls": [server.url(site, site.start_path)],
            "allowed_domains": ["127.0.0.1"]}


def assert_provenance(items: list[dict], archive: Path) -> None:
    """Every item's (warc_file, warc_offset) opens the response record of its URL (for a page rendered by the
    browser: the resource record of the DOM the spider parsed); an item dated later than that record was
    captured unchanged, as a revisit record of its own date that refers to it."""
    from warcio.archiveiterator import ArchiveIterator
    revisits = {}                       # (uri, date) → the record id a revisit record refers to
    for w in archive.glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "revisit":
                    h = rec.rec_headers
                    revisits[(h.get_header("WARC-Target-URI"), h.get_header("WARC-Date"))] = \
                        h.get_header("WARC-Refers-To")
    for item in items:
        src = item["source"]
        with open(archive / src["warc_file"], "rb") as f:
            f.seek(src["warc_offset"])
            rec = next(iter(ArchiveIterator(f)))
        rendered = rec.rec_type == "resource" and rec.rec_headers.get_header("WARC-Gikcrawl-Rendered") == "DOM"
        assert (rec.rec_type == "response" or rendered) and rec.rec_headers.get_header("WARC-Target-URI") == src["url"]
        assert rec.rec_headers.get_header("WARC-Record-ID") == src["warc_record_id"]
        assert rec.rec_headers.get_header("WARC-Payload-Digest") == src["payload_digest"]
        if rec.rec_headers.get_header("WARC-Date") != src["fetched_at"]:
            # an unchanged page: archived as a revisit dated fetched_at, pointing at these bytes
            assert revisits.get((src["url"], src["fetched_at"])) == src["warc_record_id"], src


def crawl(tmp_path: Path, sites_yaml: Path, site_spec: str, *extra: str, returncode: int = 0) -> tuple[list[dict], str]:
    """The crawl's items and log; returncode: the exit status expected (1 when every site fails)."""
    out = tmp_path / "items.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site_spec}",
           "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", *FAST, *extra,
           "-O", str(out)]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == returncode, run.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    for item in items:
        assert_valid(item)
    if "WARC_ENABLED=False" not in extra:
        assert_provenance(items, tmp_path / "archive")
    return items, run.stderr


def by_path(items, server) -> dict:
    out = {}
    for item in items:
        url = item["source"]["url"]
        assert url.startswith(server.base_url), url
        assert url[len(server.base_url):] not in out, f"{url} emitted twice"
        out[url[len(server.base_url):]] = item
    return out


def assert_matches_truth(item: dict, truth) -> None:
    for key in ("title", "agency", "region", "year", "published", "index_no", "format"):
        assert item[key] == getattr(truth, key), (key, item[key], getattr(truth, key), item["source"]["url"])
    assert item["tables"] == truth.tables, item["source"]["url"]
