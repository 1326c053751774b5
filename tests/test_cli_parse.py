"""`gikcrawl parse`: text and HTML files, encodings, and bad inputs (one-line errors, nothing else lost)."""
import json
import os
import subprocess
import sys

from gikfixtures.reportgen import make_report, render_html, render_text_cells

from conftest import ROOT, assert_valid


def run_parse(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "gikcrawl.cli", "parse", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_text_and_html_files_one_line_each_with_source_path(tmp_path):
    truth = make_report(7, "2021")
    txt, html, gbk = tmp_path / "a.txt", tmp_path / "b.html", tmp_path / "c.html"
    txt.write_text(render_text_cells(truth), encoding="utf-8")
    html.write_text(render_html(truth), encoding="utf-8")
    # GBK bytes under a meta tag that says utf-8: must come out right
    gbk.write_bytes(render_html(truth, charset="utf-8").encode("gb18030"))
    out = tmp_path / "out.jsonl"
    run = run_parse(txt, html, gbk, "-o", out)
    assert run.returncode == 0 and run.stderr == ""
    records = [assert_valid(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["source"]["path"] for r in records] == [str(txt), str(html), str(gbk)]
    for record in records:
        assert record["title"] == truth.title and record["tables"] == truth.tables


def test_bad_inputs_get_one_line_errors_and_the_rest_is_parsed(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(render_text_cells(make_report(3, "2019")), encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    unreadable = tmp_path / "secret.txt"
    unreadable.write_text("x", encoding="utf-8")
    unreadable.chmod(0)
    notice = tmp_path / "notice.txt"
    notice.write_text("关于做好2022年度政府信息公开工作年度报告编制发布工作的通知\n各乡镇人民政府：请按时报送。", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = run_parse(good, empty, binary, tmp_path, unreadable, tmp_path / "missing.txt", notice, "-o", out)
    assert run.returncode == 1
    errors = run.stderr.strip().splitlines()
    assert "Traceback" not in run.stderr
    expected = [f"{empty}: empty file", f"{binary}: not a text or HTML file", f"{tmp_path}: is a directory",
                f"{tmp_path / 'missing.txt'}: cannot read: No such file or directory"]
    if os.geteuid() != 0:                                      # root reads anything
        expected.append(f"{unreadable}: cannot read: Permission denied")
    for want in expected:
        assert any(want in line for line in errors), (want, errors)
    records = [assert_valid(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    paths = [r["source"]["path"] for r in records]
    assert str(good) in paths and str(notice) in paths
    notice_record = records[paths.index(str(notice))]
    assert notice_record["format"] == "unknown" and notice_record["warnings"]


def test_stdout_when_no_output_file(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text(render_text_cells(make_report(11, "legacy")), encoding="utf-8")
    run = run_parse(f)
    assert run.returncode == 0
    record = assert_valid(json.loads(run.stdout))
    assert record["format"] == "legacy"


def test_a_corrupt_document_file_is_a_record_with_one_warning_naming_it_by_format(tmp_path):
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 12)     # a PDF header, then no PDF
    out = tmp_path / "out.jsonl"
    run = run_parse(broken, "-o", out)
    assert "Traceback" not in run.stderr
    (record,) = [assert_valid(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["source"]["path"] == str(broken) and record["tables"] == {}
    (warning,) = record["warnings"]
    assert warning.startswith("PDF file: ") and "no figures" in warning and "None" not in warning, warning
