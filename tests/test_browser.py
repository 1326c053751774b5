"""JavaScript sites and challenges through Debian's Chromium (scrapy-playwright), archived the archivist's way."""
import json
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from gikfixtures.jsreplica import build_js_site
from gikfixtures.replica import Page, ReplicaServer

from conftest import ROOT
from crawl_helpers import FAST, assert_matches_truth, by_path, crawl, minimal_entry, write_sites

pytestmark = pytest.mark.skipif(not __import__("os").path.exists("/usr/bin/chromium"),
                                reason="Debian's chromium is not installed (.ci/run installs it)")


def check_all_found(items, server, site):
    got = by_path(items, server)
    assert set(got) == set(site.reports)
    for path, truth in site.reports.items():
        assert_matches_truth(got[path], truth)


@pytest.mark.parametrize("kind, render", [("inline", "lists"), ("json", "lists"), ("pager", "lists"),
                                          ("inline", True)])
def test_script_built_lists_are_crawled_through_the_browser(tmp_path, kind, render):
    site = build_js_site(kind)
    with ReplicaServer(site) as server:
        entry = dict(minimal_entry(server, site), render=render)
        items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: entry}), site.key)
        check_all_found(items, server, site)
        plain, _ = crawl(tmp_path / "plain", write_sites(tmp_path / "p.yaml", {site.key: minimal_entry(server, site)}),
                         site.key)
    assert plain == []                                   # without the browser these lists show nothing
    assert "'playwright/page_count/closed'" in log
    records, payloads = [], {}
    for w in (tmp_path / "archive").glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                payloads[rec.rec_headers.get_header("WARC-Record-ID")] = rec.raw_stream.read()
                records.append(rec)
    doms = [r for r in records if r.rec_type == "resource"]
    assert doms and all(r.rec_headers.get_header("WARC-Gikcrawl-Rendered") == "DOM" for r in doms)
    network = {r.rec_headers.get_header("WARC-Record-ID"): r for r in records if r.rec_type == "response"
               and r.rec_headers.get_header("WARC-Gikcrawl-Rendered")}
    for dom in doms:                                     # each DOM linked to the network response it came from
        resp = network[dom.rec_headers.get_header("WARC-Concurrent-To")]
        assert resp.rec_headers.get_header("WARC-Target-URI") == dom.rec_headers.get_header("WARC-Target-URI")
        if dom.rec_headers.get_header("WARC-Target-URI").endswith(site.start_path):
            sent = payloads[resp.rec_headers.get_header("WARC-Record-ID")]
            assert b"<script>" in sent and b"<li>" not in sent       # as the server sent it: script not run
            assert b"<li>" in payloads[dom.rec_headers.get_header("WARC-Record-ID")]   # the DOM after it ran


def test_rendered_crawl_replays_offline_to_the_same_records(tmp_path):
    site = build_js_site("inline", n_reports=4)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: dict(minimal_entry(server, site), render=True)})
        items, _ = crawl(tmp_path, yaml_path, site.key)
    out = tmp_path / "replayed.jsonl"
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
                          "-s", f"SITES_CONFIG={yaml_path}", "-s", f"REPLAY_FROM={tmp_path / 'archive'}",
                          "-s", f"ARCHIVE_DIR={tmp_path / 'r'}", *FAST, "-O", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "replay/served_dom" in run.stderr
    replayed = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    key = lambda r: r["source"]["url"]
    assert sorted(replayed, key=key) == sorted(items, key=key)
    cli = subprocess.run([str(ROOT / ".venv" / "bin" / "gikcrawl") if (ROOT / ".venv").exists() else "gikcrawl",
                          "replay", str(tmp_path / "archive"), "-o", str(tmp_path / "cli.jsonl"),
                          "--config", str(yaml_path)], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    cli_records = [json.loads(line) for line in (tmp_path / "cli.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(cli_records, key=key) == sorted(items, key=key)


def test_javascript_challenge_passed_once_then_plain_requests_with_its_cookie(tmp_path):
    site = build_js_site("challenge")
    with ReplicaServer(site) as server:
        items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}),
                           site.key)
        check_all_found(items, server, site)
        report_gets = [p for m, p in server.access_log if p in site.reports]
    assert "'gikcrawl/challenges/detected': 1" in log and "'gikcrawl/challenges/passed': 1" in log
    assert len(report_gets) == len(site.reports)          # report pages: one plain request each, cookie carried


def test_challenge_the_browser_cannot_pass_is_reported_not_looped(tmp_path):
    site = build_js_site("challenge")
    never = Page(412, {"Content-Type": "text/html"}, b"<html><script>var x = 1;</script></html>")
    for path in list(site.handlers):
        site.handlers.pop(path)
        site.pages[path] = never
    with ReplicaServer(site) as server:
        items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}),
                           site.key, returncode=1)       # the only site failed: exit status 1
        start_hits = [p for _, p in server.access_log if p == site.start_path]
    assert items == []
    assert f"site {site.key}: 0 reports" in log and "FAILED: nothing usable fetched (challenge_failed 1)" in log
    assert "'gikcrawl/challenges/failed': 1" in log and "'gikcrawl/failures/challenge_failed': 1" in log
    assert len(start_hits) == 2                           # once plain, once through the browser: no loop


def test_missing_browser_is_one_clear_error(tmp_path):
    site = build_js_site("inline")
    yaml_path = write_sites(tmp_path / "s.yaml", {site.key: {"name": "x", "start_urls": ["http://127.0.0.1:9/x/"],
                                                             "allowed_domains": ["127.0.0.1"], "render": True}})
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", f"site={site.key}",
                          "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={tmp_path}",
                          "-s", 'PLAYWRIGHT_LAUNCH_OPTIONS={"executable_path": "/nonexistent/chromium"}'],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "Chromium not found at /nonexistent/chromium: install Debian's package (apt-get install chromium)" \
        in run.stderr


def test_screenshots_archived_when_asked(tmp_path):
    site = build_js_site("inline", n_reports=2)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: dict(minimal_entry(server, site), render="lists")})
        crawl(tmp_path, yaml_path, site.key, "-s", "WARC_SCREENSHOTS=True")
    shots, doms = [], {}
    for w in (tmp_path / "archive").glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                data = rec.raw_stream.read()
                if rec.rec_type == "resource" and rec.rec_headers.get_header("Content-Type") == "image/png":
                    shots.append((rec, data))
                elif rec.rec_type == "resource":
                    doms[rec.rec_headers.get_header("WARC-Record-ID")] = rec
    assert len(shots) == 1                               # one rendered list page
    rec, png = shots[0]
    assert png.startswith(b"\x89PNG") and rec.rec_headers.get_header("WARC-Concurrent-To") in doms
