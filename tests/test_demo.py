"""`gikcrawl demo`: the README's command 1 job, offline, on the bundled replica."""
import json
import sqlite3
import subprocess
import sys

from gikcrawl.fixtures.replica import build_demo_site

from conftest import ROOT, assert_valid


def test_demo_crawls_archives_and_parses_the_bundled_site(tmp_path):
    out = tmp_path / "archive"
    run = subprocess.run([sys.executable, "-m", "gikcrawl.cli", "demo", "--out", str(out)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    site = build_demo_site()
    records = [assert_valid(json.loads(line)) for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(site.reports)
    for record in records:
        path = "/" + record["source"]["url"].split("/", 3)[3]
        truth = site.reports[path]
        if truth is None:                                   # the image-only report
            assert record["format"] == "unknown" and record["warnings"]
        else:
            assert (record["title"], record["year"], record["tables"]) == (truth.title, truth.year, truth.tables)
    assert f"reports found:   {len(records)}" in run.stdout
    db = sqlite3.connect(out / "catalog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == len(records)
