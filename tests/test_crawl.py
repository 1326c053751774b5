"""The county spider on replica sites of three CMS styles: every report found, no distractor emitted,
records equal to the replicas' truth."""
import sqlite3

import pytest

from gikfixtures.replica import ReplicaServer, build_site

from crawl_helpers import assert_matches_truth, by_path, crawl, minimal_entry, write_sites


@pytest.fixture(scope="module")
def replicas():
    sites = [build_site("trs", seed=1), build_site("hanweb", seed=2), build_site("jiyue", seed=3)]
    with ReplicaServer(*sites) as server:
        yield server, {s.style: s for s in sites}


def check_site(items, server, site):
    got = by_path(items, server)
    for path, truth in site.reports.items():
        assert path in got, f"report not found: {path}"
        if truth is None:                                  # image-only report: known to exist, nothing parsed
            assert got[path]["format"] == "unknown"
            assert any("images only" in w for w in got[path]["warnings"])
        else:
            assert_matches_truth(got[path], truth)
    for path in site.distractors + site.missing + list(site.redirects):
        assert path not in got, f"not a report but emitted: {path}"
    assert set(got) == set(site.reports)


@pytest.mark.parametrize("style", ["trs", "hanweb", "jiyue"])
def test_minimal_entry_finds_every_report(replicas, tmp_path, style):
    server, sites = replicas
    site = sites[style]
    assert len([t for t in site.reports.values() if t]) >= 10
    yaml_path = write_sites(tmp_path / "sites.yaml", {site.key: minimal_entry(server, site)})
    items, log = crawl(tmp_path, yaml_path, site.key)
    check_site(items, server, site)
    assert "gikcrawl/failures/http_404" in log                      # the dead link is counted, not hidden
    db = sqlite3.connect(tmp_path / "archive" / "catalog.sqlite")
    n_reports = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    statuses = {row[0] for row in db.execute("SELECT status FROM fetches")}
    assert n_reports == len(site.reports) and {200, 404} <= statuses
    for path in site.attachments:
        assert db.execute("SELECT COUNT(*) FROM fetches WHERE url = ?", (server.url(site, path) if not
                          path.startswith("http") else path,)).fetchone()[0] >= 1, f"attachment not fetched: {path}"


def test_several_sites_in_one_crawl(replicas, tmp_path):
    server, sites = replicas
    yaml_path = write_sites(tmp_path / "sites.yaml", {s.key: minimal_entry(server, s) for s in sites.values()})
    items, _ = crawl(tmp_path, yaml_path, "all")
    for site in sites.values():
        check_site([i for i in items if i["source"]["site"] == site.key], server, site)
