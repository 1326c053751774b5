"""`gikcrawl sites check`: working entries pass; the path drift real sites show is named per entry (a column
that moved, 404s, a redirect to a new host, a column emptied, every sampled report gone)."""
import json
import subprocess
import sys

from conftest import ROOT
from crawl_helpers import FAST, minimal_entry, write_sites

from gikfixtures.replica import Page, ReplicaServer, build_site


def check(tmp_path, sites_yaml, spec=None):
    cmd = [sys.executable, "-m", "gikcrawl.cli", "sites", "check", *([spec] if spec else []), "--config",
           str(sites_yaml), "--report", str(tmp_path / "check.json"), *FAST]
    run = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    path = tmp_path / "check.json"
    return run, {c["key"]: c for c in json.loads(path.read_text(encoding="utf-8"))} if path.exists() else {}


def test_working_and_drifted_entries(tmp_path):
    sites = {s: build_site(s, key=f"{s}-c", seed=21) for s in ("trs", "hanweb", "jiyue")}
    moved_host = build_site("trs", key="newhost", seed=22)
    with ReplicaServer(*sites.values()) as server, ReplicaServer(moved_host) as other:
        entries = {s.key: minimal_entry(server, s) for s in sites.values()}
        for e in entries.values():
            e["allowed_domains"] = [f"127.0.0.1:{server.port}"]
        trs = sites["trs"]
        # moved: the old column path answers 404
        entries["gone"] = {**entries["trs-c"], "start_urls": [server.url(trs, "zfxxgk/gknb_old/index.html")]}
        # moved within the site: a 301 to the new column
        server.mutate(trs, "/trs-c/old/gknb/", Page(301, {"Location": server.url(trs, trs.start_path)}))
        entries["moved"] = {**entries["trs-c"], "start_urls": [server.url(trs, "/trs-c/old/gknb/")]}
        # moved host: a 301 to another server (not in allowed_domains)
        server.mutate(trs, "/trs-c/rehost/", Page(301, {"Location": other.url(moved_host)}))
        entries["rehosted"] = {**entries["trs-c"], "start_urls": [server.url(trs, "/trs-c/rehost/")]}
        # emptied: the start page is a news list now
        entries["emptied"] = {**entries["trs-c"], "start_urls": [server.url(trs, "zwdt/index.html")]}
        yaml_path = write_sites(tmp_path / "sites.yaml", entries)
        run, found = check(tmp_path, yaml_path, "all")
    assert run.returncode == 1, run.stdout + run.stderr
    for key in ("trs-c", "hanweb-c", "jiyue-c"):
        assert found[key]["status"] in ("ok", "moved"), found[key]
        assert found[key]["reports_ok"] >= 1 and not found[key]["problems"], found[key]
        assert found[key]["requests"] <= 10
    assert found["gone"]["status"] == "broken"
    assert any("HTTP 404" in p for p in found["gone"]["problems"])
    assert found["moved"]["status"] == "moved"
    assert any("update start_urls" in w for w in found["moved"]["warnings"])
    assert found["rehosted"]["status"] == "broken"
    assert any(f"127.0.0.1:{other.port}" in p and "outside allowed_domains" in p for p in found["rehosted"]["problems"])
    assert found["emptied"]["status"] == "broken"
    assert any("column moved or was emptied" in p for p in found["emptied"]["problems"])
    assert "4/7 entries work; broken: emptied, gone, rehosted" in run.stdout


def test_every_sampled_report_gone(tmp_path):
    site = build_site("hanweb", key="stale", seed=23)
    with ReplicaServer(site) as server:
        for path in list(site.reports):
            server.mutate(site, path, None)
        for old in list(site.redirects):
            server.mutate(site, old, None)
        yaml_path = write_sites(tmp_path / "sites.yaml", {"stale": minimal_entry(server, site)})
        run, found = check(tmp_path, yaml_path)
    assert run.returncode == 1
    assert found["stale"]["status"] == "broken" and found["stale"]["reports_ok"] == 0
    assert all("HTTP 404" in p for p in found["stale"]["problems"]) and found["stale"]["problems"]


def test_unknown_key(tmp_path):
    yaml_path = write_sites(tmp_path / "sites.yaml", {"x": {"name": "x", "start_urls": ["http://127.0.0.1:9/x/"],
                                                           "allowed_domains": ["127.0.0.1"]}})
    run, _ = check(tmp_path, yaml_path, "nosuch")
    assert run.returncode == 2 and "unknown site 'nosuch'" in run.stderr
