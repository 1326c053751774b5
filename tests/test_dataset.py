"""The dataset built from records: flat rows, agency identity, duplicates, cross-year checks, indicators,
bad inputs. Records are made from reportgen truths (fast); archives are in test_dataset_archives.py."""
import copy
import json
from decimal import Decimal

import pytest
from conftest import assert_valid
from dataset_helpers import assert_codebook_covers, assert_round_trip, read_csv

from gikcrawl.cli import main
from gikcrawl.dataset.build import build
from gikcrawl.dataset.columns import REPORT_COLUMN_NAMES
from gikcrawl.dataset.flatten import flatten, report_id
from gikfixtures import reportgen


def record(t: reportgen.ReportTruth, url: str, *, agency=None, region="default", fetched="2024-03-01T00:00:00Z",
           warnings=(), checks=()) -> dict:
    return assert_valid({
        "title": t.title, "agency": agency or t.agency, "region": t.region if region == "default" else region,
        "year": t.year, "published": t.published, "format": t.format, "sections": [],
        "tables": copy.deepcopy(t.tables), "checks": list(checks), "warnings": list(warnings), "removed": [],
        "source": {"url": url, "site": "t", "fetched_at": fetched, "payload_digest": "sha1:" + url[-8:]}})


def pair(county="维西傈僳族自治县", town="塔城镇", years=(2021, 2022), seed=3, consistent=True):
    """Two reports of one agency; the second continues the first unless consistent is False."""
    a = reportgen.make_report(seed, "2021", year=years[0], place=(county, town))
    b = reportgen.make_report(seed + 1, "2021", year=years[1], place=(county, town))
    b = copy.deepcopy(b)
    cf = a.tables["applications"]["carried_forward"]
    co = b.tables["applications"]["carried_over"]
    for c in co:
        co[c] = cf[c] + (1 if not consistent and c in ("natural_person", "total") else 0)
    last = {(e["item"], e["column"]): e["value"] for e in a.tables["active_disclosure"]}
    cells = {(e["item"], e["column"]): e for e in b.tables["active_disclosure"]}
    for item in ("规章", "行政规范性文件"):
        cells[(item, "本年废止件数")]["value"] = 0
        cells[(item, "现行有效件数")]["value"] = (last[(item, "现行有效件数")] + cells[(item, "本年制发件数")]["value"]
                                            + (0 if consistent else 5))
    return a, b


def rows_by_url(ds):
    return {r["url"]: r for r in ds.reports}


def test_flat_row_has_every_column_and_empty_cells_for_other_templates():
    t = reportgen.make_report(11, "2019", year=2020)
    row, long, warns, _checks = flatten(record(t, "http://a/1"))
    assert list(row) == REPORT_COLUMN_NAMES
    assert row["t3_other_total"] == t.tables["applications"]["other"]["total"]
    assert row["t3_other_no_correction_total"] is None           # a 2021-only row: empty, not 0
    assert row["t2_rules_issued"] is None and row["t2_rules_made"] is not None
    assert row["t2_procurement_amount"] == Decimal(repr(next(e["value"] for e in t.tables["active_disclosure"]
                                                             if e["column"] == "采购总金额")))
    assert len(long) == len(t.tables["active_disclosure"]) + 23 * 7 + 15 and not warns


def test_a_cell_that_is_not_a_count_is_left_empty_with_a_warning():
    t = reportgen.make_report(12, "2021", year=2022)
    rec = record(t, "http://a/2")
    rec["tables"]["applications"]["granted"]["commercial"] = 2.5      # not a count (the schema says integer)
    row, _long, warns, _ = flatten(rec)
    assert row["t3_granted_commercial"] is None
    assert [w["detail"] for w in warns] == [("applications granted commercial: value 2.5 is not a whole count; "
                                            "left empty")]


def test_agency_spellings_are_one_agency_with_official_codes():
    base = reportgen.make_report(5, "2021", year=2022, place=("维西傈僳族自治县", "塔城镇"))
    recs = [record(base, "http://a/1", agency="塔城镇"), record(base, "http://a/2", agency="塔城镇人民政府"),
            record(base, "http://a/3", agency="维西傈僳族自治县塔城镇人民政府"),
            record(base, "http://a/4", agency="维西县塔城镇人民政府", region="维西县")]
    ds = build(recs)
    assert len({r["agency_id"] for r in ds.reports}) == 1
    for r in ds.reports:
        assert (r["province"], r["province_code"], r["city_code"], r["county"], r["county_code"]) == (
            "云南省", "530000", "533400", "维西傈僳族自治县", "533423")
        assert r["agency_norm"] == "塔城镇" and r["agency_level"] == "township"
    assert [a["reports"] for a in ds.agencies] == [4]


def test_unknown_region_stays_empty_with_a_warning_and_ambiguous_names_are_not_guessed():
    t = reportgen.make_report(6, "2021", year=2022, place=("松源县", "长兴镇"))     # invented county
    amb = reportgen.make_report(7, "2021", year=2022, place=("朝阳区", "双桥街道"))   # Beijing and Changchun
    ds = build([record(t, "http://a/1"), record(amb, "http://a/2")])
    for r in ds.reports:
        assert r["county_code"] is None and r["province_code"] is None and r["region_match"] == "none"
        assert r["agency_id"]            # still an agency, keyed by the region as published
    assert sum("region not found" in w["detail"] for w in ds.warnings) == 2
    assert {r["warnings"] for r in ds.reports} == {1}


def test_region_codes_follow_the_report_year():
    # 2014: 日喀则地区 became 日喀则市 (a prefecture-level city); its codes and names follow each year's divisions
    t13 = reportgen.make_report(8, "legacy", year=2013, place=("江孜县", "江孜镇"))
    t20 = reportgen.make_report(9, "2019", year=2020, place=("江孜县", "江孜镇"))
    ds = build([record(t13, "http://a/1"), record(t20, "http://a/2")])
    cities = {r["year"]: r["city"] for r in ds.reports}
    assert cities == {2013: "日喀则地区", 2020: "日喀则市"}


def test_cross_year_checks_pass_on_consistent_pairs_and_fail_on_disagreeing_ones():
    good = pair()
    bad = pair(town="保和镇", seed=21, consistent=False)
    ds = build([record(good[0], "http://g/1"), record(good[1], "http://g/2"), record(bad[0], "http://b/1"),
                record(bad[1], "http://b/2")])
    rows = rows_by_url(ds)
    got = {(c["report_id"], c["rule"]): c for c in ds.checks if c["scope"] == "cross_year"}
    g2, b2 = rows["http://g/2"]["report_id"], rows["http://b/2"]["report_id"]
    assert got[(g2, "carried_over_continuity")]["ok"] and got[(g2, "in_force_continuity")]["ok"]
    assert got[(g2, "carried_over_continuity")]["other_report_id"] == rows["http://g/1"]["report_id"]
    co = got[(b2, "carried_over_continuity")]
    assert not co["ok"] and "natural_person" in co["detail"] and "total" in co["detail"]
    assert "commercial" not in co["detail"]
    bad_force = [c for c in ds.checks if c["report_id"] == b2 and c["rule"] == "in_force_continuity"]
    assert len(bad_force) == 2 and not any(c["ok"] for c in bad_force)
    assert rows["http://b/2"]["cross_checks_failed"] == 3 and rows["http://g/2"]["cross_checks_failed"] == 0
    # evaluated, never used to change a number
    assert rows["http://b/2"]["t3_carried_over_total"] == bad[1].tables["applications"]["carried_over"]["total"]
    # no earlier year: nothing to compare
    assert not [c for c in ds.checks if c["report_id"] == rows["http://g/1"]["report_id"] and c["scope"] != "report"]


def test_years_apart_are_not_compared():
    a, b = pair(years=(2021, 2023), consistent=False)
    ds = build([record(a, "http://g/1"), record(b, "http://g/2")])
    assert not [c for c in ds.checks if c["scope"] == "cross_year"]


def test_duplicates_grouped_canonical_by_rule_and_differences_flagged():
    t = reportgen.make_report(30, "2021", year=2022, place=("林西县", "林西镇"))
    same = record(t, "http://a/same", fetched="2024-03-02T00:00:00Z")
    differs = record(t, "http://a/differs", fetched="2024-03-03T00:00:00Z")
    differs["tables"]["review_litigation"]["review"]["upheld"] += 1
    warned = record(t, "http://a/warned", fetched="2024-03-04T00:00:00Z", warnings=["row x: fewer values"])
    ds = build([same, differs, warned])
    rows = rows_by_url(ds)
    assert {r["dup_count"] for r in ds.reports} == {3} and len({r["dup_group"] for r in ds.reports}) == 1
    # fewest warnings first, then the newest capture
    assert [u for u, r in rows.items() if r["canonical"]] == ["http://a/differs"]
    dup = {ds_row["url"]: c for c in ds.checks if c["scope"] == "duplicate"
           for ds_row in ds.reports if ds_row["report_id"] == c["report_id"]}
    assert set(dup) == {"http://a/same", "http://a/warned"}
    assert not dup["http://a/same"]["ok"] and "t4_review_upheld" in dup["http://a/same"]["detail"]
    assert rows["http://a/same"]["dup_differs"] and rows["http://a/differs"]["dup_differs"]
    assert not dup["http://a/warned"]["ok"]          # it has the unchanged figures, the canonical one does not


def test_indicators_follow_their_formulas():
    a, b = pair(seed=40)
    ds = build([record(a, "http://g/1"), record(b, "http://g/2")])
    r = rows_by_url(ds)["http://g/2"]
    app = b.tables["applications"]
    assert r["applications"] == app["new_requests"]["total"] + app["carried_over"]["total"]
    assert r["share_granted"] == pytest.approx(app["granted"]["total"] / app["results_total"]["total"])
    denied = sum(v["total"] for k, v in app.items() if k.startswith("denied_"))
    assert r["share_denied"] == pytest.approx(denied / app["results_total"]["total"])
    rev = b.tables["review_litigation"]["review"]
    assert r["review_correction_rate"] == pytest.approx(rev["corrected"] / (rev["upheld"] + rev["corrected"]
                                                                           + rev["other"]))
    prev = a.tables["applications"]
    assert r["applications_yoy"] == pytest.approx(r["applications"] / (prev["new_requests"]["total"]
                                                                       + prev["carried_over"]["total"]) - 1)
    assert r["fee_income"] == r["t2_fees_amount"]
    assert rows_by_url(ds)["http://g/1"]["applications_yoy"] is None


def test_export_from_jsonl_round_trips_and_reports_bad_lines(tmp_path, capsys):
    truths = reportgen.make_corpus(40, seed=4)
    recs = [record(t, f"http://c/{i}") for i, t in enumerate(truths)]
    src = tmp_path / "records.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in recs]
    lines.insert(5, '{"title": "cut off')
    lines.insert(9, '[1, 2, 3]')
    data = ("\n".join(lines) + "\n").encode("utf-8")
    data += json.dumps({"title": "长兴镇"}, ensure_ascii=False).encode("gbk") + b"\n"     # not UTF-8
    src.write_bytes(data)
    out = tmp_path / "ds"
    assert main(["export", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{src}:6: not a JSON record" in err and f"{src}:10: not a JSON record" in err
    assert f"{src}:43: not a JSON record" in err
    assert "40 reports" in err and "3 records skipped" in err
    got = assert_round_trip(recs, out)
    assert got["reports"] == 40 and got["cells"] > 40 * 100
    assert_codebook_covers(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["records_read"] == 40 and manifest["records_skipped"] == 3
    legacy = [r for r in read_csv(out / "figures_long.csv") if r["table"] == "legacy"]
    assert legacy and all(r["wide_column"] == "" for r in legacy)


def test_export_refuses_missing_inputs(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "ds")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "dir").mkdir()
    assert main(["export", str(tmp_path / "dir"), "-o", str(tmp_path / "ds")]) == 2
    assert "no catalog.sqlite" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_same_capture_twice_is_one_report(tmp_path):
    t = reportgen.make_report(50, "2021", year=2022)
    ds = build([record(t, "http://a/1"), record(t, "http://a/1")])
    assert len(ds.reports) == 1 and ds.reports[0]["report_id"] == report_id(record(t, "http://a/1"))


def test_provenance_is_the_figures_carrier():
    t = reportgen.make_report(60, "2021", year=2022)
    rec = record(t, "http://a/page.html")
    rec["source"].update(warc_file="a.warc.gz", warc_offset=100, warc_record_id="<urn:uuid:page>")
    rec["figures_from"] = {"carrier": "docx", "url": "http://a/report.docx"}
    rec["carriers"] = [
        {"carrier": "html", "url": "http://a/page.html", "format": "narrative", "tables": [], "warc_file": "a.warc.gz",
         "warc_offset": 100, "payload_digest": "sha1:PAGE"},
        {"carrier": "docx", "url": "http://a/report.docx", "format": "2021", "tables": ["applications"],
         "warc_file": "a.warc.gz", "warc_offset": 5000, "payload_digest": "sha1:DOCX"}]
    row = build([rec]).reports[0]
    assert (row["warc_offset"], row["payload_digest"], row["figures_from"]) == (5000, "sha1:DOCX", "docx")
    assert row["warc_record_id"] is None        # not the page's: the record does not hold the attachment's id
    assert row["carriers"] == "html:http://a/page.html;docx:http://a/report.docx"
    row = build([rec], record_ids={("a.warc.gz", 5000): "<urn:uuid:docx>"}).reports[0]
    assert row["warc_record_id"] == "<urn:uuid:docx>"


def test_money_finer_than_the_dataset_keeps_is_not_rounded_silently():
    t = reportgen.make_report(61, "2021", year=2022)
    rec = record(t, "http://a/m")
    fee = next(e for e in rec["tables"]["active_disclosure"] if e["item"] == "行政事业性收费")
    fee["value"] = 1.23456789
    ds = build([rec])
    assert ds.reports[0]["t2_fees_amount"] is None
    assert any("more than 6 decimals" in w["detail"] for w in ds.warnings)


def test_a_report_with_figures_is_canonical_over_one_without():
    t = reportgen.make_report(62, "2021", year=2022, place=("林西县", "林西镇"))
    full = record(t, "http://a/full", warnings=["row x: fewer values than columns"])
    empty = record(t, "http://a/empty", fetched="2024-04-01T00:00:00Z")
    empty["tables"], empty["format"] = {}, "narrative"
    rows = rows_by_url(build([full, empty]))
    assert rows["http://a/full"]["canonical"] and not rows["http://a/empty"]["canonical"]
    assert rows["http://a/full"]["dup_group"] == rows["http://a/empty"]["dup_group"]
