"""The five real seeds through `gikcrawl parse` and the shared scorer: 100% required."""
import json
import subprocess
import sys

from conftest import ROOT, assert_valid


def test_seeds_score_100_percent(shared_dir, tmp_path):
    out = tmp_path / "seeds.jsonl"
    seeds = sorted(str(p) for p in (shared_dir / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    run = subprocess.run([sys.executable, "-m", "gikcrawl.cli", "parse", *seeds, "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5
    for record in records:
        assert_valid(record)
    score = subprocess.run([sys.executable, str(shared_dir / "tools" / "score.py"), str(out),
                            str(shared_dir / "seeds" / "expected"), "--verbose"],
                           capture_output=True, text=True)
    last = score.stdout.strip().splitlines()[-1]
    assert score.returncode == 0, score.stdout
    assert "(100.0%)" in last and "silent errors: 0" in last, score.stdout


def test_package_schema_is_the_shared_contract(shared_dir):
    assert (ROOT / "gikcrawl" / "schema" / "report.schema.json").read_bytes() == \
        (shared_dir / "schema" / "report.schema.json").read_bytes()
