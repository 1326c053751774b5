"""A new user's path: `pip install .` (not editable) into a fresh venv, then `gikcrawl demo` from another
folder, twice in the same output folder; then `pip install 'gikcrawl[replay]'` and `gikcrawl serve` on pywb
from the same venv. Offline: the install uses only a local wheel cache (build/wheelhouse, filled once from
the package index when a pinned dependency is missing)."""
import json
import sqlite3
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
from conftest import ROOT, assert_valid

WHEELHOUSE = ROOT / "build" / "wheelhouse"


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


def clean_copy(dest: Path) -> Path:
    """The files a fresh clone has (tracked, plus new files not ignored): no .venv, no stale build/."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    for name in filter(None, listed.stdout.split("\0")):
        src = ROOT / name
        if src.is_file() or src.is_symlink():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                target.symlink_to(src.readlink())
            else:
                target.write_bytes(src.read_bytes())
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    src = clean_copy(tmp / "src")
    build = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", src])
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = (tmp / "dist").glob("gikcrawl-*.whl")
    (tmp / "wheel").write_text(str(wheel))
    venv.create(tmp / "venv", with_pip=True)
    started = time.monotonic()
    pip_install(tmp / "venv" / "bin", str(wheel))
    print(f"non-editable install into a fresh venv: {time.monotonic() - started:.1f} s")
    return tmp / "venv" / "bin"


def pip_install(bin_dir: Path, requirement: str) -> None:
    """pip install from the wheel cache only; a dependency not cached yet fills the cache once."""
    pip = [bin_dir / "python", "-m", "pip", "install", "-q", "--no-index", "--find-links", WHEELHOUSE, requirement]
    install = run(pip)
    if install.returncode != 0:
        fill = run([sys.executable, "-m", "pip", "wheel", "-q", "-w", WHEELHOUSE, "--find-links", WHEELHOUSE,
                    requirement])
        assert fill.returncode == 0, fill.stderr[-3000:]
        for own in WHEELHOUSE.glob("gikcrawl-*.whl"):
            own.unlink()
        install = run(pip)
    assert install.returncode == 0, install.stderr[-3000:]


def test_installed_package_holds_its_data_and_no_test_generators(installed):
    probe = run([installed / "python", "-c",
                 "import importlib.util as u, gikcrawl.sites as s, gikcrawl.siteserver as d; "
                 "print(s.DEFAULT_PATH.is_file(), (d.DEMO_SITE_DIR / 'manifest.json').is_file(), "
                 "[m for m in ('gikfixtures', 'gikcrawl.fixtures', 'reportlab', 'xlwt') if u.find_spec(m)], "
                 "'site-packages' in s.__file__)"], cwd=installed)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["True", "True", "[]", "True"]


def demo(bin_dir: Path, cwd: Path, out: Path) -> tuple[list[dict], float, str]:
    started = time.monotonic()
    done = run([bin_dir / "gikcrawl", "demo", "--out", out], cwd=cwd)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr
    records = [assert_valid(json.loads(line)) for line in (out / "reports.jsonl").read_text("utf-8").splitlines()]
    return records, elapsed, done.stdout


def without_run(record: dict) -> dict:
    """A record less what differs between two runs by nature: the port, capture dates, WARC locations."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True)
    port = record["source"]["url"].split("/")[2]
    out = json.loads(text.replace(port, "HOST"))
    for src in [out["source"]] + list(out.get("carriers") or []):
        for key in ("fetched_at", "warc_file", "warc_offset", "warc_record_id"):
            src.pop(key, None)
    return out


def test_demo_from_another_folder_twice_gives_the_same_result(installed, tmp_path):
    from gikfixtures.replica import build_demo_site
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "demo-out"
    first, t1, _ = demo(installed, elsewhere, out)
    expected = build_demo_site()
    assert len(first) == len(expected.reports)
    second, t2, stdout = demo(installed, elsewhere, out)
    assert sorted(map(json.dumps, map(without_run, first))) == sorted(map(json.dumps, map(without_run, second)))
    with sqlite3.connect(out / "catalog.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == len(first)      # not doubled
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        ports = {url.split("/")[2] for (url,) in db.execute("SELECT url FROM fetches")}
    assert len(ports) == 1, ports                                                         # no stale port
    assert "failures:        {'http_404': 3}" in stdout          # the site's three listed-but-missing pages
    assert t2 < 2 * t1 + 5, (t1, t2)
    print(f"demo runs: {t1:.1f} s, then {t2:.1f} s")


def test_demo_refuses_a_folder_it_did_not_write(installed, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    done = run([installed / "gikcrawl", "demo", "--out", out], cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"gikcrawl demo: {out} is not empty and was not written by "
                                                "`gikcrawl demo`; choose another --out"]
    assert (out / "notes.txt").read_text() == "keep me"


def test_the_replay_extra_serves_the_archive_on_pywb_from_the_same_venv(installed, tmp_path):
    from pywb_helpers import archived, fetch, serving
    modules = run([installed / "python", "-c", "import importlib.util as u; "
                   "print([m for m in ('redis', 'pywb') if u.find_spec(m)])"])
    assert modules.stdout.split() == ["[]"]                 # the plain install carries neither extra
    wheel = (installed.parent.parent / "wheel").read_text()
    pip_install(installed, f"{wheel}[replay]")
    out = tmp_path / "demo-out"
    demo(installed, tmp_path, out)
    caps = archived(out)
    with sqlite3.connect(out / "catalog.sqlite") as db:
        url = db.execute("SELECT url FROM reports ORDER BY url LIMIT 1").fetchone()[0]
    with serving(out, installed / "gikcrawl", own_pywb=True) as base:
        status, _, body = fetch(f"{base}2100id_/{url}")
    assert status == 200 and body == caps["GET", url][-1][3]
    # pywb's redis pin is what keeps the two extras apart: distributed crawling says so in one line
    done = run([installed / "gikcrawl", "archive", "--sites", "demo", "--redis", "redis://127.0.0.1:9/0",
                "-s", f"ARCHIVE_DIR={tmp_path / 'a'}"], cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "has redis 2.10.6" in done.stderr.strip().splitlines()[-1], done.stderr
