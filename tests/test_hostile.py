"""The hostile replica (gikcrawl/fixtures/faults.py): a crawl that ends by itself, finds every report, counts
every failure by its cause (stats, catalog, run report), stops the pager trap, stays under the memory
bound, never exceeds the per-domain concurrency and never requests another host."""
import json

import pytest

from gikfixtures.faults import (
    EXPECTED_FAILURES,
    FaultServer,
    build_hostile,
    crawl_measured,
    trap_query,
)
from gikfixtures.replica import ReplicaServer

PEAK_RSS_BOUND = 400 * 1024 * 1024


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile")
    with ReplicaServer() as offsite:
        site, faults = build_hostile(f"http://localhost:{offsite.port}/")
        with FaultServer(site, faults=faults) as server:
            result = crawl_measured(str(work), site, server, timeout=240)
        yield site, server, offsite, result, work


def test_crawl_ends_by_itself_and_finds_every_report(hostile):
    site, server, _, r, _ = hostile
    assert not r["timed_out"] and r["returncode"] == 0, r["log"][-3000:]
    assert "Spider closed (finished)" in r["log"]
    assert "GIKCRAWL_CONTACT is not set" not in r["log"]          # it is set for this crawl
    found = [i["source"]["url"][len(server.base_url):] for i in r["items"]]
    assert sorted(found) == sorted(site.reports)           # each report once, the slow/flaky/busy ones included
    for role in ("slow", "flaky", "busy"):
        assert site.roles[role] in found


def test_every_failure_counted_by_cause(hostile):
    site, _, _, r, work = hostile
    expected = {cause: len(names) for cause, names in EXPECTED_FAILURES.items()}
    expected["http_404"] = len(site.missing)
    failures = {k.rsplit("/", 1)[1]: v for k, v in r["stats"].items() if k.startswith("gikcrawl/failures/")}
    assert failures == expected
    report = json.loads(next((work / "archive" / "runs").glob("*.json")).read_text(encoding="utf-8"))
    assert report["sites"][site.key]["failures"] == expected          # the catalog holds the same causes
    assert f"site {site.key}: {len(site.reports)} reports" in r["log"]  # and the crawl's last lines


def test_pager_trap_stopped_and_reported(hostile):
    site, server, _, r, work = hostile
    trap_pages = [n for _, p in server.access_log if (n := trap_query(p)) is not None]
    assert r["stats"]["gikcrawl/limits/same_reports"] == 1
    assert max(trap_pages) <= 5 + 1                    # GIKCRAWL_STALE_PAGES pages, then no further
    assert f"site {site.key}, column {server.url(site, site.roles['trap'])}" in r["log"]
    report = json.loads(next((work / "archive" / "runs").glob("*.json")).read_text(encoding="utf-8"))
    assert report["sites"][site.key]["limits"]["reached"] == {"same_reports": 1}


def test_memory_politeness_and_hosts(hostile):
    site, server, offsite, r, _ = hostile
    assert r["peak_rss"] < PEAK_RSS_BOUND, r["peak_rss"]
    most, which = server.concurrency()
    assert most <= 2, which                            # CONCURRENT_REQUESTS_PER_DOMAIN with DOWNLOAD_DELAY=0
    assert offsite.access_log == []                    # links and images on another host: never requested
    assert all(p == "/robots.txt" or p.startswith(site.host_path_prefix) for _, p in server.access_log)
    assert r["stats"]["gikcrawl/offsite_links"] >= 2


def test_redirect_back_to_itself_with_a_cookie_is_not_a_loop(tmp_path):
    """A server that sets a cookie and redirects to the same URL (common before a report page) is followed
    once more; only a second return to a URL of the chain is a redirect loop."""
    from crawl_helpers import crawl, minimal_entry, write_sites

    from gikfixtures.replica import Page, build_site
    site = build_site("trs", seed=9)
    path = next(p for p, t in site.reports.items() if t is not None and p in site.pages)
    page = site.pages[path]

    def answer(method, query, data, headers):
        if "gk_visit=1" in (headers.get("Cookie") or ""):
            return page
        return Page(302, {"Location": path, "Set-Cookie": "gk_visit=1; path=/", "Content-Length": "0"}, b"")
    answer.wants_headers = True
    site.handlers[path] = answer
    with ReplicaServer(site) as server:
        items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}),
                           site.key)
        hits = [p for _, p in server.access_log if p == path]
    assert path in {i["source"]["url"][len(server.base_url):] for i in items}
    assert len(hits) == 2 and "redirect_loop" not in log


def test_bodies_cut_after_their_headers_are_archived_as_truncated_responses(hostile):
    from warcio.archiveiterator import ArchiveIterator
    site, server, _, _, work = hostile
    want = {name: server.base_url + site.roles[f"fault:{name}"] for name in ("short", "cut", "stall", "reset", "hang")}
    seen: dict[str, set] = {name: set() for name in want}
    for warc in (work / "archive").glob("*.warc.gz"):
        with open(warc, "rb") as f:
            for rec in ArchiveIterator(f):
                name = next((n for n, u in want.items() if u == rec.rec_headers.get_header("WARC-Target-URI")), None)
                if name and rec.rec_type != "request":
                    body = rec.content_stream().read()
                    seen[name].add((rec.rec_type, rec.rec_headers.get_header("WARC-Truncated"),
                                    rec.http_headers.get_statuscode() if rec.http_headers else None, len(body)))
    part = len(b"<html><body>") + 1000
    assert seen["short"] == seen["cut"] == {("response", "disconnect", "200", part)}     # every attempt alike
    assert seen["stall"] == {("response", "time", "200", part)}        # the timeout after the headers
    assert seen["reset"] == seen["hang"] == set()                      # nothing was received: nothing to keep
