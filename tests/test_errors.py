"""Errors a person can read: a configuration or start-up error is one line naming the file, site, key or URL,
with a non-zero exit status and no traceback (unless --debug); a crawl whose sites all failed exits 1 and
says which and why in its last lines."""
import socket
import subprocess
import sys

import pytest
from conftest import ROOT
from crawl_helpers import write_sites


def run(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


def scrapy_crawl(*args: str) -> subprocess.CompletedProcess:
    return run("-m", "scrapy", "crawl", "county", *args)


def gikcrawl(*args: str) -> subprocess.CompletedProcess:
    return run("-m", "gikcrawl.cli", *args)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bad_yaml(tmp_path):
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  broken:\n    name: 名字\n    start_urls: [ftp://x]\n", encoding="utf-8")
    return path


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr and "Task exception" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_scrapy_crawl_unknown_site(tmp_path):
    proc = scrapy_crawl("-a", "site=nosuchsite", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2
    line = one_line(proc)
    assert "config/sites.yaml: unknown site 'nosuchsite'; known sites: " in line


def test_scrapy_crawl_bad_sites_config(tmp_path, bad_yaml):
    proc = scrapy_crawl("-a", "site=broken", "-s", f"SITES_CONFIG={bad_yaml}", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert all(str(bad_yaml) in line and "site 'broken'" in line for line in lines)   # one line per problem
    assert any("allowed_domains" in line for line in lines) and any("start_urls" in line for line in lines)
    missing = scrapy_crawl("-a", "site=x", "-s", f"SITES_CONFIG={tmp_path / 'none.yaml'}")
    assert missing.returncode == 2 and one_line(missing).endswith("none.yaml: cannot read sites config: "
                                                                  "No such file or directory")


@pytest.mark.parametrize("url, says", [("http://127.0.0.1:6379/0", "is not a Redis URL"),
                                       ("redis://127.0.0.1:{port}/0", "cannot reach Redis at redis://127.0.0.1:")])
def test_bad_redis_url_is_one_line(tmp_path, url, says):
    url = url.format(port=closed_port())
    proc = scrapy_crawl("-a", "site=weixi", "-s", f"REDIS_URL={url}", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2 and says in one_line(proc)
    proc = gikcrawl("archive", "--sites", "weixi", "--redis", url, "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2 and one_line(proc).startswith("gikcrawl archive: ") and says in proc.stderr


def test_gikcrawl_archive_config_errors(tmp_path, bad_yaml):
    proc = gikcrawl("archive", "--sites", "nosuchsite", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2
    assert one_line(proc).startswith("gikcrawl archive: ") and "unknown site 'nosuchsite'" in proc.stderr
    proc = gikcrawl("archive", "--sites", "broken", "-s", f"SITES_CONFIG={bad_yaml}", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(bad_yaml) in proc.stderr
    proc = gikcrawl("replay", "--config", str(bad_yaml), str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(bad_yaml) in proc.stderr
    debug = gikcrawl("--debug", "archive", "--sites", "nosuchsite", "-s", f"ARCHIVE_DIR={tmp_path}")
    assert debug.returncode == 2 and "Traceback" in debug.stderr          # tracebacks only when asked


def test_crawl_whose_sites_all_failed_exits_1_and_says_why(tmp_path):
    port = closed_port()
    yaml_path = write_sites(tmp_path / "s.yaml", {
        "gone": {"name": "no server", "start_urls": [f"http://127.0.0.1:{port}/gone/"], "allowed_domains": ["127.0.0.1"]},
    })
    proc = scrapy_crawl("-a", "site=gone", "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={tmp_path}",
                        "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_DELAY=0")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-2:]
    assert last[0].startswith("scrapy crawl county: site gone: 0 reports") and \
        "FAILED: nothing usable fetched (connection_refused 1)" in last[0]
    assert last[1] == "scrapy crawl county: all 1 sites failed: gone"
    assert "GIKCRAWL_CONTACT is not set" in proc.stderr                   # a real crawl without a contact
