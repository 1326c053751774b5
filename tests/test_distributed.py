"""Distributed crawling on scrapy-redis with a real redis-server: one frontier, no page fetched twice, no
archive lost when a worker dies."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from gikfixtures.replica import ReplicaServer, build_large_site

from conftest import ROOT
from crawl_helpers import FAST, crawl, minimal_entry, write_sites

TOOLS = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed "
                                "(.ci/run installs it)")
RUN_FIELDS = ("warc_file", "warc_offset", "warc_record_id", "fetched_at")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, tmp: Path, appendonly: bool = False):
        self.port, self.dir = free_port(), tmp
        self.appendonly = appendonly
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.dir), "--save", "", "--appendonly",
                                      "yes" if self.appendonly else "no", "--appendfsync", "always"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def worker(yaml_path, archive, redis_url, name, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=all",
                             "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}",
                             "-s", f"REDIS_URL={redis_url}", "-s", f"WARC_WORKER_ID={name}",
                             "-s", "GIKCRAWL_WORKER_TTL=2", *FAST, *extra, "-O", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def without_run_fields(record):
    """A record less where this run put its bytes (WARC file names carry the run id and worker)."""
    record = dict(record)
    record["source"] = {k: v for k, v in record["source"].items() if k not in RUN_FIELDS}
    record["carriers"] = [{k: v for k, v in c.items() if k not in RUN_FIELDS} for c in record.get("carriers", [])]
    return record


def replayed(archive, yaml_path):
    subprocess.run([str(TOOLS / "gikcrawl"), "warc", "verify", "--repair", str(archive)], capture_output=True)
    out = archive / "replayed.jsonl"
    run = subprocess.run([str(TOOLS / "gikcrawl"), "replay", str(archive), "-o", str(out), "--config",
                          str(yaml_path), "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return {r["source"]["url"]: without_run_fields(r) for r in map(json.loads, out.read_text().splitlines())}


@pytest.fixture(scope="module")
def site_and_reference(tmp_path_factory):
    """A replica of 300+ pages, and what one process makes of it."""
    tmp = tmp_path_factory.mktemp("single")
    site = build_large_site(330, seed=5)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp / "s.yaml", {site.key: minimal_entry(server, site)})
        items, _ = crawl(tmp, yaml_path, site.key)
        reference = rel({it["source"]["url"]: without_run_fields(it) for it in items}, server.base_url)
    assert len(site.pages) >= 300
    return site, reference


def rel(records, base):
    return {url.replace(base, ""): json.loads(json.dumps(r).replace(base, "")) for url, r in records.items()}


def test_two_workers_fetch_every_page_once_and_match_a_single_process(site_and_reference, redis_server, tmp_path):
    site, reference = site_and_reference
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        archive = tmp_path / "archive"
        workers = [worker(yaml_path, archive, redis_server.url, f"w{i}", tmp_path / f"w{i}.jsonl") for i in (1, 2)]
        for w in workers:
            _, err = w.communicate(timeout=600)
            assert w.returncode == 0, err[-3000:]
        counts = Counter(path for _, path in server.access_log if path != "/robots.txt")
        base = server.base_url
    assert set(counts.values()) == {1}, [p for p, n in counts.items() if n > 1][:5]   # nothing fetched twice
    assert set(site.reports) <= set(counts)
    items = {}
    for i in (1, 2):
        for line in (tmp_path / f"w{i}.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            items[item["source"]["url"]] = without_run_fields(item)
    assert all(json.loads((tmp_path / f"w{i}.jsonl").read_text().splitlines()[0]) for i in (1, 2))  # both worked
    assert rel(items, base) == reference
    names = sorted(p.name for p in archive.glob("*.warc.gz"))
    assert any("-w1-" in n for n in names) and any("-w2-" in n for n in names)
    assert rel(replayed(archive, yaml_path), base) == reference       # all reports archived across workers
    merge = subprocess.run([str(TOOLS / "gikcrawl"), "catalog", "merge", str(archive)], capture_output=True, text=True)
    assert merge.returncode == 0, merge.stderr
    report = json.loads(sorted((archive / "runs").glob("2*.json"), key=lambda p: len(p.name))[0].read_text())
    assert report["workers"] == 2 and report["sites"][site.key]["new_reports"] == len(site.reports)


def test_worker_killed_mid_crawl_loses_nothing(site_and_reference, redis_server, tmp_path):
    site, reference = site_and_reference
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        archive = tmp_path / "archive"
        w1 = worker(yaml_path, archive, redis_server.url, "w1", tmp_path / "w1.jsonl",
                    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        w2 = worker(yaml_path, archive, redis_server.url, "w2", tmp_path / "w2.jsonl",
                    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        deadline = time.time() + 60
        while time.time() < deadline and len(server.access_log) < 80:
            time.sleep(0.01)
        os.kill(w1.pid, signal.SIGKILL)
        w1.wait()
        _, err = w2.communicate(timeout=600)
        assert w2.returncode == 0, err[-3000:]
        assert "recovered" in err                        # w2 put w1's in-flight requests back in the queue
        base = server.base_url
    assert rel(replayed(archive, yaml_path), base) == reference


def test_politeness_holds_per_host_across_workers(redis_server, tmp_path):
    site = build_large_site(40, seed=6)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        workers = [worker(yaml_path, tmp_path / "a", redis_server.url, f"p{i}", tmp_path / f"p{i}.jsonl",
                          "-s", "GIKCRAWL_HOST_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4") for i in (1, 2)]
        for w in workers:
            _, err = w.communicate(timeout=600)
            assert w.returncode == 0, err[-2000:]
        times = [t for (_, path), t in zip(server.access_log, server.access_times) if path != "/robots.txt"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # 8 requests in flight across the two workers, yet one host sees them ≥ 0.1 s apart (less a few ms of
    # jitter between a worker sending and the server logging)
    assert len(times) >= 20 and min(gaps) >= 0.08 and sum(gaps) / len(gaps) >= 0.1, (min(gaps), gaps)


def test_frontier_survives_a_redis_restart_with_append_only_file(tmp_path):
    server = RedisServer(tmp_path, appendonly=True)
    try:
        site = build_large_site(40, seed=7)
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: {"name": "x", "start_urls": [
            "http://127.0.0.1:9/large/zfxxgk/gknb/index.html"], "allowed_domains": ["127.0.0.1"]}})
        run = subprocess.run([str(TOOLS / "gikcrawl"), "enqueue", "--sites", site.key, "--redis", server.url,
                              "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={tmp_path}"],
                             capture_output=True, text=True)
        assert run.returncode == 0 and "1 start requests queued" in run.stdout, run.stderr
        run_id = run.stdout.split()[1].rstrip(":")
        again = subprocess.run([str(TOOLS / "gikcrawl"), "enqueue", "--sites", site.key, "--redis", server.url,
                                "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={tmp_path}"],
                               capture_output=True, text=True)
        assert f"run {run_id}: 0 start requests queued" in again.stdout      # the seen-set knows it
        server.stop()
        server.start()
        client = redis.Redis(port=server.port)
        assert client.zcard(f"gikcrawl:{run_id}:requests") == 1
        assert client.scard(f"gikcrawl:{run_id}:seen") == 1
    finally:
        server.stop()
