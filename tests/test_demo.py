"""`gikcrawl demo`: the README's command 1 job, offline, on the bundled replica."""
import json
import sqlite3
import subprocess
import sys

from gikfixtures import docgen
from gikfixtures.replica import build_demo_site

from conftest import assert_valid


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
        if path in site.image_only:                         # tables only as an image: read by OCR, in the pool
            ok, total = docgen.field_accuracy(truth, record)
            assert record["year"] == truth.year and record["figures_from"]["carrier"] == "image"
            assert total == 200 and ok / total >= 0.97, (path, ok, total)
            assert any("read by OCR" in w for w in record["warnings"])
        else:
            assert (record["title"], record["year"], record["tables"]) == (truth.title, truth.year, truth.tables)
    assert f"reports found:   {len(records)}" in run.stdout
    db = sqlite3.connect(out / "catalog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == len(records)


def test_the_frozen_demo_site_is_what_the_generator_builds():
    """gikcrawl/demo_site/ is `python -m gikfixtures.freeze` output: regenerate it after changing the generator."""
    from gikcrawl.siteserver import load_site
    from gikfixtures.freeze import demo_probes
    built, frozen = build_demo_site(), load_site()
    assert (frozen.key, frozen.start_path, frozen.host_path_prefix) == (built.key, built.start_path,
                                                                         built.host_path_prefix)
    assert frozen.pages == built.pages
    for path, queries in demo_probes(built).items():
        for query in queries:
            from urllib.parse import parse_qs
            assert frozen.handlers[path]("POST", parse_qs(query), b"") == built.handlers[path]("POST", parse_qs(query), b"")
    assert frozen.handlers[path]("POST", {"startrecord": ["999"]}, b"").status == 404   # never asked: not invented


def test_a_crawl_that_cannot_start_says_why_in_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "gikcrawl.cli", "archive", "--sites", "demo",
                          "-s", f"SITES_CONFIG={tmp_path / 'missing.yaml'}", "-s", f"ARCHIVE_DIR={tmp_path / 'a'}",
                          "-s", "LOG_LEVEL=ERROR"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "Crawler.stats" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == (f"gikcrawl archive: {tmp_path / 'missing.yaml'}: "
                                                   "cannot read sites config: No such file or directory")
