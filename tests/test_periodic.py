"""Periodic archival runs: incremental, deduplicated, resumable, with a report of what changed."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from gikfixtures import reportgen
from gikfixtures.replica import Page, ReplicaServer, build_site

from crawl_helpers import assert_provenance, minimal_entry, write_sites

GIKCRAWL = str(Path(sys.executable).parent / "gikcrawl")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0"]


def archive(yaml_path, archive_dir, *args, check=True):
    run = subprocess.run([GIKCRAWL, "archive", "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive_dir}",
                          *FAST, *args], capture_output=True, text=True, timeout=600)
    if check:
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return run


def last_report(archive_dir):
    latest = sorted((Path(archive_dir) / "runs").glob("*.json"))[-1]
    return json.loads(latest.read_text(encoding="utf-8"))


def records_of(archive_dir):
    out = []
    for w in sorted(Path(archive_dir).glob("*.warc.gz")):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                            rec.rec_headers.get_header("WARC-Profile")))
    return out


def linked_reports(site, list_path):
    body = site.pages[list_path].body.decode("utf-8")
    return [p for p in site.reports if site.reports[p] and f'href="{p}"' in body]


@pytest.fixture
def hanweb(tmp_path):
    site = build_site("hanweb", seed=12)
    with ReplicaServer(site) as server:
        yield server, site, write_sites(tmp_path / "sites.yaml", {site.key: minimal_entry(server, site)})


def test_second_run_fetches_only_what_changed_and_reports_it(hanweb, tmp_path):
    server, site, yaml_path = hanweb
    out = tmp_path / "archive"
    archive(yaml_path, out)
    first = last_report(out)["sites"][site.key]
    assert first["new_reports"] == len(site.reports) and first["changed"] == first["vanished"] == 0

    # the site changes: a new report, a corrected report, a removed report
    index = "/hanweb/col/col1234/index.html"
    changed, removed = linked_reports(site, index)[:2]
    page = site.pages[index]
    body = page.body.decode("utf-8")
    start = body.rfind("<li>", 0, body.index(f'href="{removed}"'))
    body = body[:start] + body[body.index("</li>", start) + 5:]
    truth = reportgen.make_report(999, "2021", year=2024, place=("丹霞县", "新村镇"))
    new_path = "/hanweb/art/2025/2/1/art_1234_999999.html"
    body = body.replace("<ul>", f'<ul><li><a href="{new_path}">{truth.title}</a><span>2025-02-01</span></li>', 1)
    server.mutate(site, index, Page(page.status, page.headers, body.encode("utf-8")))
    server.mutate(site, new_path, reportgen.render_html(truth))
    old = site.pages[changed]
    server.mutate(site, changed, Page(old.status, old.headers, old.body.replace(b"</body>", "<p>2025-03-01 更正</p></body>".encode("utf-8"))))
    server.mutate(site, removed, None)

    before = len(server.access_log)
    run = archive(yaml_path, out)
    second = last_report(out)["sites"][site.key]
    assert (second["new_reports"], second["changed"], second["vanished"]) == (1, 1, 1), run.stdout
    assert second["unchanged"] == first["new_reports"] + first["new_attachments"] - 2
    assert "new" in run.stdout and "vanished" in run.stdout              # the printed table
    gets = [p for m, p in server.access_log[before:]]
    assert gets.count(new_path) == 1 and gets.count(removed) == 1
    db = sqlite3.connect(out / "catalog.sqlite")
    run_id = last_report(out)["run_id"]
    full = {r[0] for r in db.execute("SELECT url FROM fetches WHERE run_id = ? AND kind = 'report' AND status = 200",
                                     (run_id,))}
    assert {u.split(server.base_url)[1] for u in full} == {new_path, changed}   # the only bodies downloaded again
    both = db.execute("SELECT COUNT(DISTINCT payload_digest) FROM fetches WHERE url = ? AND status = 200",
                      (server.url(site, changed),)).fetchone()[0]
    assert both == 2                                                     # both captures kept
    assert db.execute("SELECT COUNT(*) FROM runs WHERE finished IS NOT NULL").fetchone()[0] == 2
    profiles = [p for t, _, p in records_of(out) if t == "revisit"]
    # every unchanged report and attachment: a 304 archived as a server-not-modified revisit; unchanged
    # list pages (fetched whole every run) as identical-payload-digest revisits
    assert profiles.count("http://netpreserve.org/warc/1.1/revisit/server-not-modified") == second["unchanged"]
    assert set(profiles) <= {"http://netpreserve.org/warc/1.1/revisit/server-not-modified",
                             "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"}


def test_refresh_all_writes_identical_payload_revisits(hanweb, tmp_path):
    server, site, yaml_path = hanweb
    out = tmp_path / "archive"
    archive(yaml_path, out)
    server.etags = False           # no validators: everything comes back whole, unchanged payloads become revisits
    archive(yaml_path, out, "--refresh", "all")
    report = last_report(out)["sites"][site.key]
    # report pages, attachments, and the image that carries the image-only report
    docs = len(site.reports) + len(site.attachments) + len(site.image_only)
    assert (report["new_reports"], report["changed"], report["vanished"]) == (0, 0, 0)
    assert report["unchanged"] == docs
    revisits = [p for t, _, p in records_of(out) if t == "revisit"]
    identical = [p for p in revisits if p == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"]
    assert len(identical) >= docs and len(identical) == len(revisits)
    items = [json.loads(r[0]) for r in sqlite3.connect(out / "catalog.sqlite").execute("SELECT record FROM reports")]
    assert_provenance(items, out)


def test_killed_run_resumes_to_the_same_catalog_and_valid_warcs(tmp_path):
    def build():
        return build_site("jiyue", seed=21, n_reports=40)

    def catalog_view(out):
        db = sqlite3.connect(out / "catalog.sqlite")
        fetches = sorted(db.execute("SELECT url, status, payload_digest, change, kind FROM fetches"))
        reports = {}
        for url, record in db.execute("SELECT url, record FROM reports"):
            r = json.loads(record)
            run_fields = ("warc_file", "warc_offset", "warc_record_id", "fetched_at")
            r["source"] = {k: v for k, v in r["source"].items() if k not in run_fields}
            r["carriers"] = [{k: v for k, v in c.items() if k not in run_fields} for c in r.get("carriers", [])]
            reports[url] = r
        return fetches, reports

    straight = tmp_path / "straight"
    site = build()
    with ReplicaServer(site, port=0) as server:
        yaml_a = write_sites(tmp_path / "a.yaml", {site.key: minimal_entry(server, site)})
        archive(yaml_a, straight)
        base_a = server.base_url

    killed = tmp_path / "killed"
    site = build()
    with ReplicaServer(site) as server:
        yaml_b = write_sites(tmp_path / "b.yaml", {site.key: minimal_entry(server, site)})
        proc = subprocess.Popen([GIKCRAWL, "archive", "-s", f"SITES_CONFIG={yaml_b}", "-s", f"ARCHIVE_DIR={killed}",
                                 *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and len(server.access_log) < 30:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done_before = len(server.access_log)
        assert 0 < done_before < 60
        archived = {uri for t, uri, _ in records_of(killed) if t == "response"}
        run = archive(yaml_b, killed, "--resume")
        assert "resuming run" in run.stderr
        refetched = {server.base_url + p for _, p in server.access_log[done_before:]} & archived
        assert not refetched, refetched                      # nothing archived before the kill is fetched again
        base_b = server.base_url

    fa, ra = catalog_view(straight)
    fb, rb = catalog_view(killed)
    norm = lambda rows, base: sorted(tuple(v.replace(base, "") if isinstance(v, str) else v for v in row)
                                     for row in rows)
    assert norm(fa, base_a) == norm(fb, base_b)
    assert json.dumps(ra, sort_keys=True).replace(base_a, "") == json.dumps(rb, sort_keys=True).replace(base_b, "")
    for w in killed.glob("*.warc.gz"):
        check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(w)], capture_output=True)
        assert check.returncode == 0, w
    assert last_report(killed)["resumed"] is True


def test_site_failing_entirely_gives_nonzero_exit(tmp_path):
    yaml_path = write_sites(tmp_path / "s.yaml", {"dead": {"name": "dead", "start_urls": ["http://127.0.0.1:9/gknb/"],
                                                           "allowed_domains": ["127.0.0.1"]}})
    run = archive(yaml_path, tmp_path / "a", "-s", "RETRY_TIMES=0", check=False)
    assert run.returncode == 1 and "sites failed entirely: dead" in run.stderr
    assert "SITE FAILED" in run.stdout
