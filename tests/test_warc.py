"""The WARC archive on the fixture server: what the server sent, standard tools' approval, provenance."""
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from gikcrawl.archive.verify import verify
from gikfixtures.replica import ReplicaServer, build_large_site

from conftest import ROOT
from crawl_helpers import FAST, minimal_entry, write_sites
from warc_fixture import CASES, FixtureServer, entity

TOOLS = Path(sys.executable).parent
QUERY = "/search?q=%E5%B9%B4%E6%8A%A5&page=2"


def records(path):
    """(offset, record, raw payload) of every record in a WARC file."""
    out = []
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        for rec in it:
            raw = rec.raw_stream.read()
            out.append((it.get_record_offset(), rec, raw))
    return out


@pytest.fixture(scope="module")
def fixture_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warc")
    server = FixtureServer()
    try:
        urls = [server.base + p for p in CASES if not p.startswith("/redirect2")] + [server.base + QUERY]
        out = tmp / "items.jsonl"
        run = subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(ROOT / "tests" / "warc_spider.py"),
                              "-a", "urls=" + ",".join(urls), "-s", f"ARCHIVE_DIR={tmp / 'archive'}", *FAST,
                              "-s", "RETRY_TIMES=0", "-O", str(out)], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        warcs = sorted((tmp / "archive").glob("*.warc.gz"))
        yield server, items, warcs, tmp / "archive"
    finally:
        server.close()


def gzip_members_of(path):
    """Each record's bytes, decompressed member by member."""
    data, out = Path(path).read_bytes(), []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def by_uri(warcs):
    found = {}
    for w in warcs:
        for _offset, rec, raw in records(w):
            uri = rec.rec_headers.get_header("WARC-Target-URI")
            found.setdefault((rec.rec_type, uri), []).append((rec, raw))
    return found


def test_standard_tools_accept_every_file(fixture_crawl):
    _, _, warcs, archive = fixture_crawl
    assert warcs
    for w in warcs:
        check = subprocess.run([str(TOOLS / "warcio"), "check", "-v", str(w)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "digest pass" in check.stdout
        index = subprocess.run([str(TOOLS / "warcio"), "index", str(w)], capture_output=True, text=True)
        assert index.returncode == 0 and len(index.stdout.splitlines()) > len(CASES)
        cdxj = subprocess.run([str(TOOLS / "cdxj-indexer"), str(w)], capture_output=True, text=True)
        assert cdxj.returncode == 0 and cdxj.stdout.strip()
        assert w.with_name(w.name.replace(".warc.gz", ".cdxj")).read_text().strip()   # index kept beside it
        assert verify(w).ok, verify(w).line()
        for _, rec, _ in records(w):
            assert rec.rec_headers.protocol == "WARC/1.1"


@pytest.mark.parametrize("path", ["/plain", "/gzip", "/chunked", "/gzip-chunked", "/missing", "/broken",
                                  "/cookies", "/nonascii", "/report.pdf"])
def test_stored_payload_is_what_the_server_sent(fixture_crawl, path):
    server, _, warcs, _ = fixture_crawl
    [(rec, raw)] = by_uri(warcs)[("response", server.base + path)]
    status, headers, body, coding, chunked = CASES[path]
    assert raw == entity(path)                                   # content-coded bytes, de-chunked
    assert rec.http_headers.get_statuscode() == str(status)
    assert rec.http_headers.get_header("Content-Length") == str(len(raw))
    assert rec.http_headers.get_header("Transfer-Encoding") is None
    if coding:
        assert rec.http_headers.get_header("Content-Encoding") == "gzip"
        assert gzip.decompress(raw) == body
    assert rec.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"


def test_repeated_and_non_ascii_headers_survive(fixture_crawl):
    server, _, warcs, _ = fixture_crawl
    found = by_uri(warcs)
    [(rec, _)] = found[("response", server.base + "/cookies")]
    assert [v for k, v in rec.http_headers.headers if k.lower() == "set-cookie"] == ["a=1; Path=/",
                                                                                   "b=2; Path=/; HttpOnly"]
    # the stored header bytes are the server's UTF-8 bytes (not percent-encoded, not re-encoded)
    [member] = [block for w in warcs for block in gzip_members_of(w) if b"/nonascii" in block.split(b"\r\n\r\n")[0]
                and b"WARC-Type: response" in block]
    assert 'filename="年度报告.pdf"'.encode("utf-8") in member
    assert "X-Report-Title: 维西县2021年报".encode("utf-8") in member


def test_requests_as_sent_with_query_string_linked_to_responses(fixture_crawl):
    server, _, warcs, _ = fixture_crawl
    found = by_uri(warcs)
    [(req, _)] = found[("request", server.base + QUERY)]
    assert req.http_headers.protocol == "GET" and req.http_headers.statusline.startswith(QUERY + " ")
    [(resp, _)] = found[("response", server.base + QUERY)]
    assert req.rec_headers.get_header("WARC-Concurrent-To") == resp.rec_headers.get_header("WARC-Record-ID")
    assert req.http_headers.get_header("Accept-Encoding") == "gzip, deflate"       # nothing warcio cannot decode
    assert "gikcrawl/" in req.http_headers.get_header("User-Agent")
    assert req.http_headers.get_header("Host") == server.base.split("//")[1]


def test_redirect_chain_robots_and_errors_archived(fixture_crawl):
    server, _, warcs, _ = fixture_crawl
    found = by_uri(warcs)
    for path, status in (("/redirect1", "302"), ("/redirect2", "301"), ("/plain?via=redirect", "200"),
                         ("/robots.txt", "200"), ("/missing", "404"), ("/broken", "500")):
        [(rec, _)] = found[("response", server.base + path)]
        assert rec.http_headers.get_statuscode() == status
    info = [rec for w in warcs for _, rec, _ in records(w) if rec.rec_type == "warcinfo"]
    assert len(info) == len(warcs)


def test_every_item_points_at_its_response_record(fixture_crawl):
    server, items, warcs, archive = fixture_crawl
    assert len(items) == len(CASES)                # every answer reaches the spider, 4xx/5xx included
    for item in items:
        w = item["warc"]
        with open(archive / w["file"], "rb") as f:
            f.seek(w["offset"])
            rec = next(iter(ArchiveIterator(f)))
            assert rec.rec_type == "response"
            assert rec.rec_headers.get_header("WARC-Target-URI") == item["url"]
            assert rec.rec_headers.get_header("WARC-Record-ID") == w["record_id"]
            assert rec.rec_headers.get_header("WARC-Payload-Digest") == w["payload_digest"]


def test_killed_crawl_leaves_repairable_warcs(tmp_path):
    site = build_large_site(1200)
    with ReplicaServer(site) as server:
        sites_yaml = write_sites(tmp_path / "sites.yaml", {site.key: minimal_entry(server, site)})
        archive = tmp_path / "archive"
        proc = subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
                                 "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={archive}", *FAST,
                                 "-s", "WARC_MAX_SIZE=400000", "-s", "LOG_LEVEL=WARNING"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and len(server.access_log) < 400:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    warcs = sorted(archive.glob("*.warc.gz"))
    assert len(warcs) >= 2                          # rolled over at WARC_MAX_SIZE
    repair = subprocess.run([str(TOOLS / "gikcrawl"), "warc", "verify", "--repair", str(archive)],
                            capture_output=True, text=True)
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert len(repair.stdout.splitlines()) == len(warcs)
    for w in warcs:
        check = subprocess.run([str(TOOLS / "warcio"), "check", str(w)], capture_output=True, text=True)
        assert check.returncode == 0, (w, check.stdout)
        assert verify(w).ok
        assert w.with_name(w.name.replace(".warc.gz", ".cdxj")).exists()


def test_partial_trailing_record_is_reported_and_cut(fixture_crawl, tmp_path):
    _, _, warcs, _ = fixture_crawl
    damaged = tmp_path / "damaged.warc.gz"
    data = warcs[0].read_bytes()
    damaged.write_bytes(data[:-150])                # a crawl killed in the middle of its last write
    before = verify(damaged)
    assert not before.ok and before.partial_at is not None and "incomplete trailing record" in before.line()
    run = subprocess.run([str(TOOLS / "gikcrawl"), "warc", "verify", "--repair", str(damaged)], capture_output=True,
                         text=True)
    assert run.returncode == 0 and "repaired: cut an incomplete trailing record" in run.stdout
    assert damaged.stat().st_size == before.partial_at
    assert subprocess.run([str(TOOLS / "warcio"), "check", str(damaged)], capture_output=True).returncode == 0
    assert sum(verify(damaged).records.values()) == len(records(warcs[0])) - 1


def test_verify_reports_non_warc_input(tmp_path):
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not a warc file at all\n" * 10)
    run = subprocess.run([str(TOOLS / "gikcrawl"), "warc", "verify", str(junk)], capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout.startswith(f"INVALID {junk}")
