"""`gikcrawl export`, `-O out.csv` and `gikcrawl report` on real archives: the demo's, and a replica crawl
with two years of reports per agency (gikcrawl/fixtures/yearpairs.py). The report page is checked in headless
Chromium; its screenshot is kept in out/test-artifacts/ (or $GIKCRAWL_TEST_ARTIFACTS)."""
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_valid
from crawl_helpers import by_path, crawl, minimal_entry, write_sites
from dataset_helpers import (
    assert_codebook_covers,
    assert_round_trip,
    read_csv,
    read_parquet,
)

from gikcrawl.cli import main
from gikcrawl.dataset.columns import FIGURE_NAMES, REPORT_COLUMN_NAMES
from gikfixtures.replica import ReplicaServer
from gikfixtures.yearpairs import BROKEN, build_pairs_site

ARTIFACTS = Path(os.environ.get("GIKCRAWL_TEST_ARTIFACTS", ROOT / "out" / "test-artifacts"))


def catalog_records(archive: Path) -> list[dict]:
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        return [assert_valid(json.loads(r)) for (r,) in db.execute("SELECT record FROM reports")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "archive"
    run = subprocess.run([sys.executable, "-m", "gikcrawl.cli", "demo", "--out", str(out)], cwd=out.parent,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pairs")
    fixture = build_pairs_site()
    with ReplicaServer(fixture.site) as server:
        yaml_path = write_sites(tmp / "sites.yaml", {fixture.site.key: minimal_entry(server, fixture.site)})
        items, _ = crawl(tmp, yaml_path, fixture.site.key, "-O", str(tmp / "flat.csv"))
        items = by_path(items, server)
    return tmp, fixture, items


def test_demo_archive_exports_cell_by_cell(demo, tmp_path):
    out = tmp_path / "ds"
    assert main(["export", str(demo), "-o", str(out)]) == 0
    records = catalog_records(demo)
    got = assert_round_trip(records, out)
    assert got["reports"] == len(records) == 18 and got["cells"] > 2500
    assert_codebook_covers(out)
    # the demo's 长兴镇 / 长兴镇人民政府 / 松源县长兴镇人民政府 are one agency
    rows = read_csv(out / "reports.csv")
    assert len({r["agency_id"] for r in rows if r["agency_norm"] == "长兴镇"}) == 1
    # (the parser already writes a bare 长兴镇 as 长兴镇人民政府; the county-prefixed spelling remains)
    assert len({r["agency"] for r in rows if r["agency_norm"] == "长兴镇"}) >= 2
    # typed Parquet: counts are integers, money decimals, dates dates
    import pyarrow.parquet as pq
    schema = pq.read_schema(out / "reports.parquet")
    assert str(schema.field("t3_granted_total").type) == "int64"
    assert str(schema.field("t2_fees_amount").type) == "decimal128(24, 6)"
    assert str(schema.field("published").type) == "date32[day]"
    assert str(schema.field("canonical").type) == "bool"


def test_pairs_crawl_export_round_trips_and_checks_across_years(pairs):
    tmp, fixture, items = pairs
    assert set(items) == set(fixture.truths)
    out = tmp / "ds"
    assert main(["export", str(tmp / "archive"), "-o", str(out)]) == 0
    records = catalog_records(tmp / "archive")
    assert assert_round_trip(records, out)["reports"] == len(fixture.truths) == 11
    assert_codebook_covers(out)
    reports = {"/" + r["url"].split("/", 3)[3]: r for r in read_parquet(out / "reports.parquet")}
    # an agency-year published twice is judged by its canonical copy, the newest capture: which of the two
    # the crawl fetched last varies from run to run
    canonical = {r["dup_group"]: r for r in reports.values() if r["canonical"]}
    yearly = {path: canonical[r["dup_group"]] for path, r in reports.items()}
    checks = read_parquet(out / "checks.parquet")
    # the parser's own checks all hold: every report is internally consistent
    assert all(c["ok"] for c in checks if c["scope"] == "report")
    # one agency id per agency across both years, with the official codes of its county
    codes = {"维西傈僳族自治县": ("530000", "533400", "533423"), "林西县": ("150000", "150400", "150424")}
    for agency, (first, second) in {**fixture.consistent, **fixture.broken}.items():
        a, b = yearly[first], yearly[second]
        assert a["agency_id"] == b["agency_id"] and b["year"] == a["year"] + 1
        county = next(c for c in codes if agency.startswith(c))
        assert (a["province_code"], a["city_code"], a["county_code"]) == codes[county]
        rules = {c["rule"]: c for c in checks if c["report_id"] == b["report_id"] and c["scope"] == "cross_year"}
        both2021 = fixture.truths[first].format == fixture.truths[second].format == "2021"
        if agency in fixture.broken:
            assert not rules["carried_over_continuity"]["ok"]
            assert not rules["in_force_continuity"]["ok"]
            assert b["cross_checks_failed"] == 3        # carried over, and in force for both items
        else:
            assert rules["carried_over_continuity"]["ok"], rules
            assert rules["carried_over_continuity"]["other_report_id"] == a["report_id"]
            assert ("in_force_continuity" in rules) == both2021
            assert all(c["ok"] for c in rules.values())
            assert b["cross_checks_failed"] == 0
    assert {county for county, _ in BROKEN} == {"林西县"}
    # the same agency and year at two URLs: grouped, one canonical (same quality: the newest capture), flagged
    first, second = (reports[p] for p in fixture.duplicate)
    assert first["dup_group"] == second["dup_group"] and first["dup_count"] == second["dup_count"] == 2
    assert first["canonical"] != second["canonical"]
    canonical, other = (first, second) if first["canonical"] else (second, first)
    assert canonical["fetched_at"] >= other["fetched_at"]
    assert canonical["dup_differs"] and other["dup_differs"]
    dup = [c for c in checks if c["scope"] == "duplicate"]
    assert len(dup) == 1 and dup[0]["report_id"] == other["report_id"] and not dup[0]["ok"]
    assert "t4_review_other" in dup[0]["detail"] and "t4_review_total" in dup[0]["detail"]
    assert dup[0]["other_report_id"] == canonical["report_id"]
    # year-on-year change from the canonical report of the year before
    for _agency, (p1, p2) in fixture.consistent.items():
        a, b = yearly[p1], yearly[p2]
        assert b["applications_yoy"] == pytest.approx(b["applications"] / a["applications"] - 1)
    agencies = read_csv(out / "agencies.csv")
    assert len(agencies) == 5 and sorted(int(a["reports"]) for a in agencies) == [2, 2, 2, 2, 3]


def test_feed_csv_has_the_flat_reports_columns(pairs):
    tmp, _fixture, items = pairs
    flat = read_csv(tmp / "flat.csv")
    with open(tmp / "flat.csv", encoding="utf-8-sig") as f:
        assert f.readline().strip() == ",".join(REPORT_COLUMN_NAMES)
    assert len(flat) == len(items)
    exported = {r["report_id"]: r for r in read_csv(tmp / "ds" / "reports.csv")} if (tmp / "ds").exists() else None
    if exported is None:
        assert main(["export", str(tmp / "archive"), "-o", str(tmp / "ds")]) == 0
        exported = {r["report_id"]: r for r in read_csv(tmp / "ds" / "reports.csv")}
    for row in flat:
        assert not any(v.startswith(("{", "[")) for v in row.values())     # no Python reprs of nested fields
        ex = exported[row["report_id"]]
        for name in FIGURE_NAMES + ["agency_id", "county_code", "year", "template", "warc_file", "warc_offset",
                                    "applications", "share_granted", "warnings", "checks_failed"]:
            assert row[name] == ex[name], (name, row[name], ex[name])
        for name in ("dup_group", "canonical", "cross_checks_failed", "applications_yoy"):
            assert row[name] == ""          # needs other reports: `gikcrawl export` fills it


def test_report_page_in_headless_chromium(demo, tmp_path):
    from playwright.sync_api import sync_playwright
    page_path = demo / "report.html"
    assert main(["report", str(demo), "--replay-url", "http://127.0.0.1:9/gik/{timestamp}/{url}"]) == 0
    records = catalog_records(demo)
    recognised = [r for r in records if r["format"] != "unknown"]
    import lxml.html
    doc = lxml.html.fromstring(page_path.read_bytes())
    assert not doc.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe")      # self-contained
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors, requested = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requested.append(r.url) if not r.url.startswith("file:") else None)
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                       else route.continue_())                                 # nothing but the file itself
            page.goto(page_path.as_uri())
            page.wait_for_selector("#check-failures .main-svg", timeout=30000)
            assert page.locator(".plotly-graph-div").count() == 4
            assert page.locator(".plotly-graph-div .main-svg").count() >= 4
            by_year = page.evaluate("document.getElementById('reports-by-year').data"
                                    ".reduce((n, t) => n + t.y.reduce((a, b) => a + b, 0), 0)")
            assert by_year == len(recognised)
            assert page.locator("#reports tbody tr.rep").count() == len(records)
            assert page.text_content("#n-records") == str(len(records))
            assert page.locator("#runs tbody tr").count() == 1
            page.fill("#search", "长兴镇")
            want = sum(1 for r in records if "长兴镇" in (r["agency"] or "") + (r["title"] or ""))
            assert page.text_content("#shown") == str(want) and want >= 3
            page.fill("#search", "")
            first = page.locator("#reports tbody tr.rep").first
            first.locator("a.show-record").click()
            shown = json.loads(page.locator("tr.record pre").first.text_content())
            assert shown["title"] == first.locator("td").nth(1).text_content() or shown["agency"] == \
                first.locator("td").nth(1).text_content()
            capture = first.locator("a.capture").get_attribute("href")
            assert (page_path.parent / capture).exists()
            assert first.locator("a.replay").get_attribute("href").startswith("http://127.0.0.1:9/gik/")
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert not requested, requested
    assert (ARTIFACTS / "report.png").stat().st_size > 10000
