"""Offline replay: `gikcrawl replay` and `-s REPLAY_FROM` give the live crawl's records, with no network."""
import io
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gikfixtures.replica import ReplicaServer, build_site

from conftest import ROOT, assert_valid
from crawl_helpers import FAST, crawl, minimal_entry, write_sites

TOOLS = Path(sys.executable).parent


def replay(*args, check=True):
    run = subprocess.run([str(TOOLS / "gikcrawl"), "replay", *map(str, args)], capture_output=True, text=True,
                         timeout=600)
    if check:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


def read(path):
    records = [assert_valid(json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return {r["source"]["url"]: r for r in records}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    sites = [build_site("trs", seed=7), build_site("hanweb", seed=8)]
    with ReplicaServer(*sites) as server:
        yaml_path = write_sites(tmp / "sites.yaml", {s.key: minimal_entry(server, s) for s in sites})
        items, _ = crawl(tmp, yaml_path, "all")
        urls = {s.key: server.url(s, s.start_path) for s in sites}
    # the server is gone from here on: any attempt to reach it fails
    return tmp, yaml_path, {i["source"]["url"]: i for i in items}, urls


def test_replay_gives_the_live_records_field_for_field(live, tmp_path):
    tmp, yaml_path, items, _ = live
    replay(tmp / "archive", "-o", tmp_path / "out.jsonl", "--config", yaml_path)
    assert read(tmp_path / "out.jsonl") == items


def test_two_jobs_give_the_same_records(live, tmp_path):
    tmp, yaml_path, items, _ = live
    replay(tmp / "archive", "-o", tmp_path / "out.jsonl", "--config", yaml_path, "--jobs", "2")
    assert read(tmp_path / "out.jsonl") == items


def test_spider_replay_serves_from_the_archive_without_network(live, tmp_path):
    tmp, yaml_path, items, urls = live
    out = tmp_path / "spider.jsonl"
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=all",
                          "-s", f"SITES_CONFIG={yaml_path}", "-s", f"REPLAY_FROM={tmp / 'archive'}",
                          "-s", f"ARCHIVE_DIR={tmp_path / 'cat'}", *FAST, "-O", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert read(out) == items
    assert "ConnectionRefused" not in run.stderr and "replay/served" in run.stderr
    assert not list((tmp_path / "cat").glob("*.warc.gz"))         # replay does not archive again


def test_url_missing_from_archive_is_counted_not_faked(live, tmp_path):
    tmp, yaml_path, _, urls = live
    missing = urls["trs"].replace("index.html", "never-captured.html")
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=trs", "-a",
                          f"start_urls={missing}", "-s", f"SITES_CONFIG={yaml_path}",
                          "-s", f"REPLAY_FROM={tmp / 'archive'}", "-s", f"ARCHIVE_DIR={tmp_path}", *FAST,
                          "-O", str(tmp_path / "o.jsonl")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1                           # its only page is not in the archive: the site failed
    assert run.stderr.strip().splitlines()[-1] == "scrapy crawl county: all 1 sites failed: trs"
    assert "'replay/missing': 1" in run.stderr and "'gikcrawl/failures/NotInArchive': 1" in run.stderr
    assert "http_404" not in run.stderr


def test_newest_capture_wins_unless_all_captures(tmp_path):
    site = build_site("trs", seed=9)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "sites.yaml", {site.key: minimal_entry(server, site)})
        first, _ = crawl(tmp_path, yaml_path, site.key)
        time.sleep(1.1)                               # a new WARC file name (timestamped to the second)
        second, _ = crawl(tmp_path, yaml_path, site.key)
    assert len(list((tmp_path / "archive").glob("*.warc.gz"))) == 2
    replay(tmp_path / "archive", "-o", tmp_path / "newest.jsonl", "--config", yaml_path)
    assert read(tmp_path / "newest.jsonl") == {i["source"]["url"]: i for i in second}
    replay(tmp_path / "archive", "-o", tmp_path / "all.jsonl", "--config", yaml_path, "--all-captures")
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(first) + len(second)
    replay(tmp_path / "archive", "-o", tmp_path / "none.jsonl", "--since", "2999-01-01")
    assert (tmp_path / "none.jsonl").read_text() == ""
    replay(tmp_path / "archive", "-o", tmp_path / "other.jsonl", "--site", "elsewhere")
    assert (tmp_path / "other.jsonl").read_text() == ""


def test_revisit_resolves_to_the_original_response(tmp_path):
    from gikfixtures.reportgen import make_report, render_html
    truth = make_report(31, "2021")
    body = render_html(truth).encode("utf-8")
    warc = tmp_path / "x-20240101000000-00000.warc.gz"
    with open(warc, "wb") as f:
        w = WARCWriter(f, gzip=True, warc_version="1.1")
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                          ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        resp = w.create_warc_record("http://a.gov.cn/r.html", "response", payload=io.BytesIO(body),
                                    length=len(body), http_headers=http,
                                    warc_headers_dict={"WARC-Date": "2024-01-01T00:00:00Z"})
        w.write_record(resp)
        digest = resp.rec_headers.get_header("WARC-Payload-Digest")
        revisit = w.create_revisit_record("http://a.gov.cn/r.html", digest, "http://a.gov.cn/r.html",
                                          "2024-01-01T00:00:00Z", http_headers=http,
                                          warc_headers_dict={"WARC-Date": "2025-03-01T00:00:00Z"})
        revisit.rec_headers.add_header("WARC-Refers-To", resp.rec_headers.get_header("WARC-Record-ID"))
        w.write_record(revisit)
    replay(tmp_path, "-o", tmp_path / "out.jsonl")
    [record] = read(tmp_path / "out.jsonl").values()
    assert record["tables"] == truth.tables
    src = record["source"]
    assert src["fetched_at"] == "2025-03-01T00:00:00Z"                        # the newest capture…
    assert src["warc_record_id"] == resp.rec_headers.get_header("WARC-Record-ID")  # …whose bytes are here
    assert src["warc_offset"] == 0 and src["payload_digest"] == digest


def test_damaged_inputs_reported_and_skipped(live, tmp_path):
    tmp, yaml_path, items, _ = live
    archive = tmp_path / "archive"
    shutil.copytree(tmp / "archive", archive, ignore=shutil.ignore_patterns("*.sqlite"))
    warcs = sorted(archive.glob("*.warc.gz"))
    data = bytearray(warcs[0].read_bytes())
    # corrupt one record in the middle of the first file, cut the second file short
    from gikcrawl.archive.reader import gzip_members
    from gikcrawl.archive.reader import record_of
    members = list(gzip_members(bytes(data)))

    def uri_of(m):
        rec = record_of(m.data)
        h = rec.rec_headers
        return h.get_header("WARC-Target-URI") if (rec.rec_type == "response" and
                                                   h.get_header("WARC-Gikcrawl-Kind") == "report") else None

    # the damaged record: a report page without attachments, so exactly its record is lost
    victim = next(m for m in members if uri_of(m) in items and len(items[uri_of(m)]["carriers"]) == 1)
    lost = uri_of(victim)
    data[victim.start + 20: victim.start + 60] = b"\x00" * 40
    warcs[0].write_bytes(bytes(data))
    other = warcs[1].read_bytes()
    last = list(gzip_members(other))[-1]         # a crawl killed while writing its last record (a request)
    assert b"WARC-Type: request" in last.data
    warcs[1].write_bytes(other[:last.start + (len(other) - last.start) // 2])
    (archive / "notes.warc").write_text("not a WARC\n", encoding="utf-8")
    (archive / "empty.warc.gz").write_bytes(b"")
    run = replay(archive, "-o", tmp_path / "out.jsonl", "--config", yaml_path, check=False)
    assert run.returncode == 1
    assert f"{warcs[0]}: offset {victim.start}: corrupt gzip data" in run.stderr
    assert f"{warcs[1]}: offset" in run.stderr and "incomplete record" in run.stderr
    assert f"{archive / 'notes.warc'}: not readable as WARC" in run.stderr
    assert f"{archive / 'empty.warc.gz'}: empty file" in run.stderr
    got = read(tmp_path / "out.jsonl")
    assert lost not in got and set(got) <= set(items) and len(got) >= len(items) - 3
    assert all(got[u] == items[u] for u in got)


def test_output_is_never_half_written(live, tmp_path):
    tmp, yaml_path, _, _ = live
    out = tmp_path / "out.jsonl"
    out.write_text("previous complete output\n", encoding="utf-8")
    proc = subprocess.Popen([str(TOOLS / "gikcrawl"), "replay", str(tmp / "archive"), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.8)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    text = out.read_text(encoding="utf-8")
    assert text == "previous complete output\n" or all(json.loads(line) for line in text.splitlines())
    assert not list(tmp_path.glob(".tmp-*"))


def test_progress_lines_when_not_a_terminal(live, tmp_path):
    tmp, yaml_path, items, _ = live
    run = replay(tmp / "archive", "-o", tmp_path / "out.jsonl")
    assert f"gikcrawl replay: {len(items)} records" in run.stderr
    progress = [line for line in run.stderr.splitlines() if "captures," in line]
    assert progress and progress[-1].startswith("replay: ") and f", {len(items)} reports, " in progress[-1]
    assert "reports/s" in run.stderr and "\x1b[" not in run.stderr        # plain lines, no terminal codes
