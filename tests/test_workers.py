"""The worker pool: jobs past their time or memory limit, or whose worker dies, give a clear WorkerLimit and
the pool goes on; and in a crawl an attachment past its limit gives a record with a warning while its raw
bytes stay archived."""
import asyncio
import os
import time

import pytest
from scrapy.statscollectors import MemoryStatsCollector

from gikcrawl.workers import WorkerLimit, Workers


def square(x):
    return x * x


def sleep_then(x, seconds):
    time.sleep(seconds)
    return x


def allocate(megabytes):
    return len(bytearray(megabytes << 20))


def die():
    os._exit(3)


def pid():
    return os.getpid()


class Stats(MemoryStatsCollector):
    def __init__(self):
        self._stats = {}


@pytest.fixture
def pool():
    stats = Stats()
    workers = Workers(2, timeout=1.0, memory=512 << 20, stats=stats, grace=0.5)
    yield workers, stats
    workers.close()


def run(workers, *jobs):
    async def main():
        return await asyncio.gather(*(workers.run(fn, *args) for fn, *args in jobs), return_exceptions=True)
    return asyncio.run(main())


def test_jobs_run_in_other_processes(pool):
    workers, _ = pool
    results = run(workers, (square, 7), (pid,), (pid,))
    assert results[0] == 49 and os.getpid() not in results[1:]


def test_a_job_past_its_time_limit_is_stopped_and_the_pool_goes_on(pool):
    workers, stats = pool
    started = time.monotonic()
    late, fine = run(workers, (sleep_then, 1, 30), (sleep_then, 2, 0))
    assert time.monotonic() - started < 10                   # not the 30 s the job wanted
    assert isinstance(late, WorkerLimit) and "time limit (1 s, GIKCRAWL_WORKER_TIMEOUT)" in str(late)
    assert fine == 2 and run(workers, (square, 3)) == [9]
    assert stats.get_value("gikcrawl/workers/timeout") == 1


def test_a_job_past_its_memory_limit_is_stopped(pool):
    workers, stats = pool
    big, small = run(workers, (allocate, 2048), (allocate, 16))
    assert isinstance(big, WorkerLimit) and "memory limit reached (512 MB" in str(big)
    assert small == 16 << 20
    assert stats.get_value("gikcrawl/workers/memory") == 1


def test_a_worker_that_dies_is_reported_and_replaced(pool):
    workers, stats = pool
    [dead] = run(workers, (die,))
    assert isinstance(dead, WorkerLimit) and "died (exit code 3)" in str(dead)
    assert run(workers, (square, 4)) == [16]
    assert stats.get_value("gikcrawl/workers/died") == 1


def test_zero_workers_run_jobs_in_the_crawl_process():
    workers = Workers(0, timeout=1.0, memory=None)
    assert run(workers, (pid,)) == [os.getpid()]


def test_in_a_crawl_an_attachment_past_its_time_limit_gives_a_warning_and_stays_archived(tmp_path):
    from crawl_helpers import by_path, crawl, minimal_entry, write_sites
    from warcio.archiveiterator import ArchiveIterator

    from gikfixtures import docgen, reportgen
    from gikfixtures.replica import Page, ReplicaServer, Site
    slow, fine = reportgen.make_report(311, "2021"), reportgen.make_report(312, "2021")
    scan = docgen.scanned_pdf(slow)
    site = Site("lim", "limits", "/lim/")
    html = "text/html; charset=utf-8"
    site.pages = {
        "/lim/gknb/index.html": Page(200, {"Content-Type": html}, (
            f"<html><body><h2>政府信息公开年报</h2><ul><li><a href='/lim/gknb/s.html'>{slow.title}</a></li>"
            f"<li><a href='/lim/gknb/f.html'>{fine.title}</a></li></ul></body></html>").encode()),
        "/lim/gknb/s.html": Page(200, {"Content-Type": html}, (
            f"<html><head><meta charset='utf-8'><title>{slow.title}</title></head><body><h1>{slow.title}</h1>"
            f"<p>附件：<a href='/lim/files/s.pdf'>{slow.title}.pdf</a></p></body></html>").encode()),
        "/lim/files/s.pdf": Page(200, {"Content-Type": "application/pdf"}, scan),
        "/lim/gknb/f.html": Page(200, {"Content-Type": html}, reportgen.render_html(fine).encode()),
    }
    site.start_path = "/lim/gknb/index.html"
    with ReplicaServer(site) as server:
        items, _ = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}),
                           site.key, "-s", "GIKCRAWL_WORKER_TIMEOUT=0.5", "-s", "GIKCRAWL_WORKERS=1")
        got = by_path(items, server)
    assert got["/lim/gknb/f.html"]["tables"] == fine.tables                  # the crawl went on
    slow_record = got["/lim/gknb/s.html"]
    assert slow_record["tables"] == {} and slow_record["figures_from"] is None
    assert any("s.pdf" in w and ("longer than 0.5 s" in w or "time limit (0.5 s" in w)
               for w in slow_record["warnings"]), slow_record["warnings"]
    archived = {}
    for w in (tmp_path / "archive").glob("*.warc.gz"):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type == "response":
                    archived[rec.rec_headers.get_header("WARC-Target-URI")] = rec.content_stream().read()
    assert archived[server.url(site, "/lim/files/s.pdf")] == scan               # the raw bytes are kept


def test_a_large_page_is_parsed_in_a_worker_like_inline(tmp_path):
    """GIKCRAWL_INLINE_PAGE_SIZE=0 sends every report page to the pool: the items are the same."""
    from crawl_helpers import by_path, crawl, minimal_entry, write_sites
    from gikfixtures.replica import ReplicaServer, build_site
    site = build_site("trs", seed=31, n_reports=3)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)})
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        inline, _ = crawl(tmp_path / "a", yaml_path, site.key)
        pooled, _ = crawl(tmp_path / "b", yaml_path, site.key, "-s", "GIKCRAWL_INLINE_PAGE_SIZE=0")
        a, b = by_path(inline, server), by_path(pooled, server)
    assert a.keys() == b.keys() and len(a) >= 3
    for path in a:
        for record in (a[path], b[path]):
            record["source"].pop("fetched_at")
            for src in [record["source"]] + list(record.get("carriers") or []):
                for key in ("warc_file", "warc_offset", "warc_record_id", "fetched_at"):
                    src.pop(key, None)
        assert a[path] == b[path], path
