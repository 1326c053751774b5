"""Distributed crawling with a real redis-server: one per-host frontier, nothing lost when a worker is killed at
any moment (the merged catalog equals a single process's), restartable workers, politeness across workers."""
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
import scrapy
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from gikcrawl import distributed
from gikfixtures.replica import ReplicaServer, build_large_site

from conftest import ROOT
from crawl_helpers import FAST, minimal_entry, write_sites

TOOLS = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed "
                                "(make system-deps installs it)")
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


def worker(yaml_path, archive, redis_url, name, *extra):
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=all",
                             "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}",
                             "-s", f"REDIS_URL={redis_url}", "-s", f"WARC_WORKER_ID={name}",
                             "-s", "GIKCRAWL_WORKER_TTL=2", *FAST, *extra],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=300):
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return err


def without_run_fields(record):
    """A record less where this run put its bytes (WARC file names carry the run id and worker)."""
    record = dict(record)
    record["source"] = {k: v for k, v in record["source"].items() if k not in RUN_FIELDS}
    record["carriers"] = [{k: v for k, v in c.items() if k not in RUN_FIELDS} for c in record.get("carriers", [])]
    return record


def catalog_view(archive: Path):
    """What a catalog says about its one run: report records, fetches (url, kind, status, change) as a
    multiset (robots.txt aside: each worker asks for it), and the run report's per-site figures."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    reports = {url: without_run_fields(json.loads(rec)) for url, rec in db.execute("SELECT url, record FROM reports")}
    fetches = Counter(db.execute("SELECT url, kind, status, change FROM fetches WHERE kind != 'robots'").fetchall())
    (report,) = [json.loads(r) for (r,) in db.execute("SELECT report FROM runs WHERE finished IS NOT NULL")]
    db.close()
    return reports, fetches, report["sites"]


def assert_same_view(got, want):
    """catalog_view(...) == want, failing with what differs: which reports and fields, which fetches."""
    (reports, fetches, sites), (want_reports, want_fetches, want_sites) = got, want
    assert reports.keys() == want_reports.keys(), (reports.keys() ^ want_reports.keys())
    differ = {url: {k: (r.get(k), want_reports[url].get(k)) for k in r.keys() | want_reports[url].keys()
                    if r.get(k) != want_reports[url].get(k)}
              for url, r in reports.items() if r != want_reports[url]}
    assert not differ, differ
    assert fetches == want_fetches, (fetches - want_fetches, want_fetches - fetches)
    assert sites == want_sites


def merge(archive: Path):
    run = subprocess.run([str(TOOLS / "gikcrawl"), "catalog", "merge", str(archive)], capture_output=True, text=True, check=False)
    return run


def single_process_view(yaml_path: Path, archive: Path):
    """The catalog view of one process (no Redis) crawling every site of yaml_path: what workers must match."""
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=all",
                          "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}", *FAST],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return catalog_view(archive)


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    """A replica site of ~90 pages served for the whole module, and what one process makes of it."""
    tmp = tmp_path_factory.mktemp("single")
    site = build_large_site(90, seed=5)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp / "s.yaml", {site.key: minimal_entry(server, site)})
        reference = single_process_view(yaml_path, tmp / "archive")
        assert len(reference[0]) == len(site.reports) and len(site.pages) >= 80
        yield site, server, yaml_path, reference


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory):
    """Two sites on two host names (127.0.0.1 and localhost, one server), and what one process makes of them:
    the work two workers can share. A host is fetched by one worker at a time (per-host politeness across
    workers), so a run of one host is one worker's at any moment; workers share hosts, not a host."""
    tmp = tmp_path_factory.mktemp("two_hosts")
    a, b = build_large_site(45, seed=5, key="east"), build_large_site(45, seed=6, key="west")
    with ReplicaServer(a, b) as server:
        other = minimal_entry(server, b)
        other["start_urls"] = [u.replace("127.0.0.1", "localhost", 1) for u in other["start_urls"]]
        other["allowed_domains"] = ["localhost"]
        yaml_path = write_sites(tmp / "s.yaml", {a.key: minimal_entry(server, a), b.key: other})
        reference = single_process_view(yaml_path, tmp / "archive")
        assert len(reference[0]) == len(a.reports) + len(b.reports)
        yield server, yaml_path, reference


def wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


@contextlib.contextmanager
def answering_once_beating(server, redis_server, *names):
    """The server answers nobody until every named worker beats: on a loaded machine one worker's start-up can
    take longer than the whole crawl, and a test of sharing or of a kill would then test start-up times."""
    client, released = redis.Redis.from_url(redis_server.url), threading.Event()
    answer = server.resolve
    server.resolve = lambda *a, **kw: released.wait(120) and answer(*a, **kw)

    def all_beat():
        run_id = client.get("gikcrawl:run")
        return bool(run_id) and all(client.exists(f"gikcrawl:{run_id.decode()}:alive:{n}") for n in names)
    try:
        yield
        assert wait_for(all_beat, 120), "the workers did not start"
    finally:
        released.set()
        del server.resolve


def pages_seen(server, since):
    return len([p for _, p in server.access_log[since:] if p != "/robots.txt"])


# --- the frontier itself (no Scrapy engine) ----------------------------------------------------------

class _Spider(scrapy.Spider):
    name = "frontier-test"


def frontier(url, worker="w1", **settings):
    s = Settings(dict({"GIKCRAWL_HOST_DELAY": 1.0, "GIKCRAWL_HOST_MARGIN": 0.0, "GIKCRAWL_WORKER_TTL": 2.0},
                      **settings))
    spider = _Spider()
    spider.crawler = Crawler(_Spider, s)
    return distributed.Frontier(distributed.redis_from_url(url), "t1", spider, s, worker=worker)


def test_frontier_hands_out_only_hosts_whose_delay_has_passed(redis_server):
    f = frontier(redis_server.url)
    for i in range(10):                        # a long run of one host at the head, as in a real crawl
        assert f.enqueue(scrapy.Request(f"http://a.example/{i}"))
    assert f.enqueue(scrapy.Request("http://b.example/1"))
    assert f.enqueue(scrapy.Request("http://c.example:8080/1"))
    assert not f.enqueue(scrapy.Request("http://a.example/3"))          # seen
    hosts = [f.pop().url.split("/")[2] for _ in range(3)]
    assert sorted(hosts) == ["a.example", "b.example", "c.example:8080"]  # one request per host, no blocking
    assert f.pop() is None and 900 <= f.next_ready_ms <= 1000          # a.example's next slot, 1 s on
    time.sleep(1.0)
    assert f.pop().url == "http://a.example/1"                         # FIFO within the host


def test_a_callbacks_requests_go_in_with_one_call_together_with_its_end(redis_server):
    f = frontier(redis_server.url, GIKCRAWL_HOST_DELAY=0.0)
    f.enqueue(scrapy.Request("http://a.example/list"))
    (page,) = f.pop_many(8)
    client = redis.Redis.from_url(redis_server.url)
    calls = lambda: sum(v["calls"] for k, v in client.info("commandstats").items() if k.startswith("cmdstat_evalsha"))  # noqa: E731
    added = [f.add(scrapy.Request(url)) for url in       # the callback's output, buffered
             ("http://a.example/1", "http://b.example/1", "http://c.example/1", "http://b.example/1")]
    assert added == [True, True, True, False]                          # b.example/1 twice: known here already
    other = frontier(redis_server.url, "w2", GIKCRAWL_HOST_DELAY=0.0)
    other.add(scrapy.Request("http://c.example/1"))                    # another worker's: only Redis knows
    assert other.flush() == (1, 0)
    assert client.hlen(f.inflight_key) == 1 and f.queued() == 1        # ours not sent yet: the page still in flight
    before = calls()
    assert f.flush(done=page) == (2, 1)                                # c.example/1 was seen by then
    assert calls() - before == 1                                       # one script call for all of it
    assert client.hlen(f.inflight_key) == 0                            # ... and the page left the in-flight hash
    got = f.pop_many(8)                                                # one call, one request per ready host
    assert sorted(r.url for r in got) == ["http://a.example/1", "http://b.example/1", "http://c.example/1"]
    assert client.hlen(f.inflight_key) == 3 and len({r.meta["gik_inflight"] for r in got}) == 3
    assert f.pop_many(8, full=["a.example"]) == [] and f.next_ready_ms == -1


def test_gate_one_request_per_host_at_a_time_and_the_delay_after_its_response(redis_server):
    import asyncio
    f1, f2 = frontier(redis_server.url, "w1"), frontier(redis_server.url, "w2")

    async def fetches():
        sent, back = [], []
        for f in (f1, f2, f1, f2):
            await f.gate("h.example", 0.2)
            sent.append(time.monotonic())
            await asyncio.sleep(0.1)                                   # the server answers in 0.1 s
            back.append(time.monotonic())
            f.release("h.example", 0.2)
        await f1.gate("other.example", 0.2)                            # another host: no wait
        return sent, back, time.monotonic()
    sent, back, other = asyncio.run(fetches())
    # each request leaves ≥ 0.2 s after the previous one came back, whichever worker sent it
    assert all(s - b >= 0.195 for b, s in zip(back, sent[1:])), (sent, back)
    assert other - back[-1] < 0.05


def test_gate_waits_while_another_worker_has_the_host_in_flight(redis_server):
    import asyncio
    f1, f2 = frontier(redis_server.url, "w1"), frontier(redis_server.url, "w2")

    async def race():
        await f1.gate("slow.example", 0.05)
        t0 = time.monotonic()
        task = asyncio.ensure_future(f2.gate("slow.example", 0.05))
        await asyncio.sleep(0.5)                                       # w1's request takes 0.5 s
        assert not task.done()
        f1.release("slow.example", 0.05)
        await task
        return time.monotonic() - t0
    assert asyncio.run(race()) >= 0.55


def test_a_request_is_done_only_once_its_callbacks_requests_are_queued_and_items_handled(redis_server):
    """Scrapy's scraper hands a callback's output on from a queue of its own, after the callback has returned:
    a worker killed in between must still hold the page (to redo it), or the pages it links to and its
    catalog row are lost."""
    s = Settings({"REDIS_URL": redis_server.url, "GIKCRAWL_HOST_DELAY": 0.0, "GIKCRAWL_WORKER_TTL": 2.0})
    crawler = Crawler(_Spider, s)
    crawler.spider = _Spider()
    crawler.stats = MemoryStatsCollector(crawler)
    scheduler = distributed.RedisScheduler(crawler)
    scheduler.frontier = f = distributed.Frontier(scheduler.server, "t1", crawler.spider, s, worker="w1")
    crawler.gik_scheduler = scheduler
    middleware = distributed.InflightDoneMiddleware(crawler)
    f.enqueue(scrapy.Request("http://a.example/list"))
    (page,) = f.pop_many(8)
    response = HtmlResponse(page.url, body=b"<html></html>", request=page)
    children = [scrapy.Request(f"http://a.example/{i}") for i in range(3)]
    output = list(middleware.process_spider_output(response, iter([*children, {"an": "item"}])))
    assert len(output) == 4                                    # the callback has returned ...
    assert redis.Redis.from_url(redis_server.url).hlen(f.inflight_key) == 1      # ... the page is not done
    for child in children[:2]:
        assert scheduler.enqueue_request(child)
    scheduler.enqueue_request(children[0].replace(url="http://a.example/0"))  # a duplicate, not one of them
    assert redis.Redis.from_url(redis_server.url).hlen(f.inflight_key) == 1      # one child still on its way
    again = distributed.Frontier(scheduler.server, "t1", crawler.spider, s, worker="w1")
    assert scheduler.enqueue_request(children[2])
    assert redis.Redis.from_url(redis_server.url).hlen(f.inflight_key) == 1      # the item is in the pipelines
    scheduler.item_handled(output[3], response=HtmlResponse("http://a.example/other", body=b""))  # not its item
    assert redis.Redis.from_url(redis_server.url).hlen(f.inflight_key) == 1
    scheduler.item_handled(output[3], response=response)                        # its catalog row is in
    assert redis.Redis.from_url(redis_server.url).hlen(f.inflight_key) == 0
    assert sorted(r.url for r in iter(lambda: again.pop(), None)) == [c.url for c in children]   # all queued


def test_a_worker_restarted_under_its_id_reclaims_its_requests_tagged_as_redone(redis_server):
    first = frontier(redis_server.url, "w1", GIKCRAWL_HOST_DELAY=0.0)
    assert first.heartbeat()
    first.enqueue(scrapy.Request("http://a.example/1"))
    taken = first.pop()
    assert first.pop() is None and first.queued() == 0
    again = frontier(redis_server.url, "w1", GIKCRAWL_HOST_DELAY=0.0)   # the same id, a new process
    assert not again.heartbeat()              # the first still beats: a duplicate id is refused ...
    assert again.reclaim("w1") == 1           # ... but its in-flight requests can be taken back (as at start)
    redo = again.pop()
    assert redo.url == taken.url and redo.meta["gik_redo"] == taken.meta["gik_inflight"]


# --- crawls -------------------------------------------------------------------------------------------

def test_two_workers_share_the_work_and_match_a_single_process(two_hosts, redis_server, tmp_path):
    server, yaml_path, reference = two_hosts
    start = len(server.access_log)
    archive = tmp_path / "archive"
    # a small host delay lets the two race fairly for each host's next slot
    with answering_once_beating(server, redis_server, "w1", "w2"):
        workers = [worker(yaml_path, archive, redis_server.url, f"w{i}", "-s", "GIKCRAWL_HOST_DELAY=0.05")
                   for i in (1, 2)]
    for w in workers:
        finish(w)
    counts = Counter(p for _, p in server.access_log[start:] if p != "/robots.txt")
    assert set(counts.values()) == {1}, [p for p, n in counts.items() if n > 1][:5]   # nothing fetched twice
    names = sorted(p.name for p in archive.glob("*.warc.gz"))
    assert any("-w1-" in n for n in names) and any("-w2-" in n for n in names)        # both worked
    run = merge(archive)
    assert run.returncode == 0 and "did not finish" not in run.stderr, run.stderr
    assert_same_view(catalog_view(archive), reference)


@pytest.mark.parametrize("moment", ["early", "mid", "closing"])
def test_worker_killed_at_any_moment_loses_nothing(replica, redis_server, tmp_path, moment):
    site, server, yaml_path, reference = replica
    start = len(server.access_log)
    total = len(site.pages)
    archive = tmp_path / "archive"
    # one host: with no delay the worker whose answer just came back takes the host's next slot at once, and
    # w1 might never hold a request; a small delay makes both look when the slot opens
    fair = ("-s", "GIKCRAWL_HOST_DELAY=0.05")
    with answering_once_beating(server, redis_server, "w1", "w2"):
        w1 = worker(yaml_path, archive, redis_server.url, "w1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", *fair)
        w2 = worker(yaml_path, archive, redis_server.url, "w2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", *fair)
    client = redis.Redis.from_url(redis_server.url)

    def w1_busy():
        run_id = client.get("gikcrawl:run")
        return bool(run_id) and client.hlen(f"gikcrawl:{run_id.decode()}:inflight:w1") > 0
    if moment in ("early", "mid"):             # ... with requests in flight at w1
        threshold = 3 if moment == "early" else total // 3
        assert wait_for(lambda: pages_seen(server, start) >= threshold and w1_busy(), 180)
    else:                                      # w1 is writing its run report: the crawl is over
        assert wait_for(lambda: any((archive / "runs").glob("*-w1.json")) or w1.poll() is not None, 120)
    os.kill(w1.pid, signal.SIGKILL)
    w1.wait()
    run_id = client.get("gikcrawl:run").decode()
    left = client.hlen(f"gikcrawl:{run_id}:inflight:w1")      # w1 may have finished them in the last ms
    finish(w2)
    # nothing stranded: whatever w1 held when it died was redone (recovered by w2, or stood for by a
    # redirect or retry w2 took), and the queue is empty
    assert client.hlen(f"gikcrawl:{run_id}:inflight:w1") == 0 and client.zcard(f"gikcrawl:{run_id}:ready") == 0, left
    run = merge(archive)
    assert run.returncode == 0, run.stderr
    if w1.returncode == -signal.SIGKILL and moment != "closing":
        assert "worker w1 did not finish" in run.stderr   # the merge says so, and still accounts for it
    assert_same_view(catalog_view(archive), reference)
    run_id = min(archive.glob("*.warc.gz")).name.split("-")[1]
    report = json.loads((archive / "runs" / f"{run_id}.json").read_text())
    assert report["workers"] == 2 and report["complete"]


@pytest.mark.parametrize("how", ["scrapy", "archive"])
def test_a_lone_worker_killed_and_restarted_with_its_id_finishes(replica, redis_server, tmp_path, how):
    """The issue's case: the only worker is killed mid-crawl and restarted under its id (as `scrapy crawl`
    again, or as `gikcrawl archive --resume`); it must take back its own in-flight requests (the pager's next
    pages among them) and finish, with a merged catalog equal to a single process's."""
    site, server, yaml_path, reference = replica
    start = len(server.access_log)
    archive = tmp_path / "archive"
    w1 = worker(yaml_path, archive, redis_server.url, "w1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
    assert wait_for(lambda: pages_seen(server, start) >= len(site.pages) // 3)
    os.kill(w1.pid, signal.SIGKILL)
    w1.wait()
    t0 = time.monotonic()
    if how == "scrapy":
        again = worker(yaml_path, archive, redis_server.url, "w1", "-s", "GIKCRAWL_WORKER_TTL=30")
    else:
        again = subprocess.Popen([str(TOOLS / "gikcrawl"), "archive", "--resume", "--redis", redis_server.url,
                                  "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={archive}",
                                  "-s", "WARC_WORKER_ID=w1", *FAST], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    err = finish(again, timeout=120)
    assert "restarted" in err and time.monotonic() - t0 < 60     # its own in-flight requests: no TTL wait
    run = merge(archive)
    assert run.returncode == 0, run.stderr
    assert_same_view(catalog_view(archive), reference)


def test_politeness_holds_per_host_across_workers(redis_server, tmp_path):
    site = build_large_site(40, seed=6)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        workers = [worker(yaml_path, tmp_path / "a", redis_server.url, f"p{i}", "-s", "GIKCRAWL_HOST_DELAY=0.1",
                          "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4") for i in (1, 2)]
        for w in workers:
            finish(w)
        times = server.access_times[:]                  # robots.txt too: it is a request to the host
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 8 requests allowed in flight across the two workers, yet the host sees them ≥ 0.1 s apart: each leaves
    # only once the previous one's answer is back, plus the delay
    assert len(times) >= 25 and min(gaps) >= 0.1, (min(gaps), gaps)


def test_frontier_survives_a_redis_restart_with_append_only_file(tmp_path):
    server = RedisServer(tmp_path, appendonly=True)
    try:
        site = build_large_site(40, seed=7)
        with ReplicaServer(site) as replica_server:
            yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(replica_server, site)})
            enqueue = [str(TOOLS / "gikcrawl"), "enqueue", "--sites", site.key, "--redis", server.url,
                       "-s", f"SITES_CONFIG={yaml_path}", "-s", f"ARCHIVE_DIR={tmp_path}"]
            run = subprocess.run(enqueue, capture_output=True, text=True, check=False)
            assert run.returncode == 0 and "1 start requests queued" in run.stdout, run.stderr
            run_id = run.stdout.split()[1].rstrip(":")
            again = subprocess.run(enqueue, capture_output=True, text=True, check=False)
            assert f"run {run_id}: 0 start requests queued" in again.stdout      # the seen-set knows it
            server.stop()
            server.start()
            client = redis.Redis(port=server.port)
            host = "127.0.0.1"                         # the politeness unit: Scrapy's slot (host name)
            assert client.zcard(f"gikcrawl:{run_id}:q:{host}") == 1
            assert client.zrange(f"gikcrawl:{run_id}:ready", 0, -1) == [host.encode()]
            assert client.scard(f"gikcrawl:{run_id}:seen") == 1
            finish(worker(yaml_path, tmp_path / "a", server.url, "w1"))       # and a worker crawls from it
            fetched = {p for _, p in replica_server.access_log}
        assert set(site.reports) <= fetched
    finally:
        server.stop()
