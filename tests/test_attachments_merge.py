"""A report page whose figures come from a carrier: the page's "no tables here" warnings give way to one
line naming where the figures come from (a researcher filtering on warnings must not drop such reports)."""
from __future__ import annotations

from pathlib import Path

from gikcrawl.attachments import merge
from gikcrawl.parser import parse

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"

_IMAGE_PAGE = ("<html><head><title>青山县2022年政府信息公开工作年度报告</title></head><body><div class='TRS_Editor'>"
               "<p>青山县2022年政府信息公开工作年度报告</p><p><img src='/u/1.png'></p><p><img src='/u/2.png'></p>"
               "</div></body></html>")


def _carrier_record(url: str) -> dict:
    text = sorted(SEEDS.glob("*.txt"))[1].read_text(encoding="utf-8")
    record = parse(text, url=url)
    record["carrier"] = "png"
    return record


def test_page_warnings_about_its_missing_tables_give_way_to_the_carrier():
    page = parse(_IMAGE_PAGE, url="http://127.0.0.1/a/1.html")
    assert any("images only" in w for w in page["warnings"])
    merged = merge(page, [_carrier_record("http://127.0.0.1/u/1.png")])
    assert merged["figures_from"] == {"carrier": "png", "url": "http://127.0.0.1/u/1.png"}
    assert not any("images only" in w or "table not found" in w for w in merged["warnings"])
    assert any(w.startswith("the page's own text holds no statistics tables; the record's figures come from PNG "
                            "http://127.0.0.1/u/1.png") for w in merged["warnings"])


def test_a_page_with_its_own_figures_keeps_its_warnings():
    page = parse(_IMAGE_PAGE, url="http://127.0.0.1/a/1.html")
    merged = merge(page, [])
    assert merged["figures_from"] is None
    assert merged["warnings"] == page["warnings"]
