"""Politeness and failure handling: robots.txt per site, retries with backoff, the contact User-Agent,
failures counted by cause."""
import pytest

from gikfixtures.replica import Page, ReplicaServer, build_site
from gikcrawl.middlewares import BackoffRetryMiddleware, retry_after_seconds

from crawl_helpers import by_path, crawl, minimal_entry, write_sites


@pytest.fixture
def trs():
    site = build_site("trs", seed=4)
    with ReplicaServer(site) as server:
        yield server, site


def test_robots_disallow_is_obeyed_by_default_and_can_be_overridden_per_site(trs, tmp_path):
    server, site = trs
    server.robots = Page(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n")
    entry = minimal_entry(server, site)
    items, log = crawl(tmp_path / "obey", write_sites(tmp_path / "a.yaml", {site.key: entry}), site.key,
                       returncode=1)                    # nothing fetched: the site failed, and says why
    assert items == [] and "robotstxt/forbidden" in log and "FAILED: nothing usable fetched (robots_forbidden 1)" in log
    fetched = [p for _, p in server.access_log]
    assert fetched == ["/robots.txt"]
    entry["politeness"] = {"robotstxt_obey": False}
    items, _ = crawl(tmp_path / "ignore", write_sites(tmp_path / "b.yaml", {site.key: entry}), site.key)
    assert len(items) == len(site.reports)


def test_server_errors_are_retried_with_backoff_and_counted(trs, tmp_path):
    server, site = trs
    flaky = next(p for p, t in site.reports.items() if t)
    page, calls = site.pages[flaky], []

    def answer(method, query, data):
        calls.append(method)
        return page if len(calls) > 2 else Page(503, {"Content-Type": "text/html", "Retry-After": "0"}, b"busy")

    site.handlers[flaky] = answer
    items, log = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}), site.key,
                       "-s", "GIKCRAWL_CONTACT=archive-team@example.org")
    assert len(calls) == 3 and flaky in by_path(items, server)
    assert "'retry/count': 2" in log and "'gikcrawl/failures/http_404': 1" in log


def test_backoff_delays():
    class S(dict):
        def getbool(self, k, d=None): return True
        def getint(self, k, d=None): return {"RETRY_TIMES": 3, "RETRY_PRIORITY_ADJUST": -1}.get(k, 0)
        def getlist(self, k, d=None): return [503] if k == "RETRY_HTTP_CODES" else []
        def getfloat(self, k, d=None): return {"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 10.0}[k]

    mw = BackoffRetryMiddleware(S(RETRY_GIVE_UP_LOG_LEVEL="ERROR"))

    class R:
        def __init__(self, n): self.meta = {"retry_times": n}

    assert [mw._delay(R(n), None) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]
    assert mw._delay(R(1), 30.0) == 10.0 and mw._delay(R(3), 0.5) == 0.5
    assert retry_after_seconds(b"7") == 7.0 and retry_after_seconds(b"soon") is None
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_user_agent_names_the_contact(trs, tmp_path):
    server, site = trs
    seen = []
    import gikfixtures.replica as replica
    original = replica._Handler.do_GET

    def spy(handler):
        seen.append(handler.headers.get("User-Agent"))
        return original(handler)

    replica._Handler.do_GET = spy
    try:
        crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}), site.key,
              "-s", "GIKCRAWL_CONTACT=archive-team@example.org", "-s", "CLOSESPIDER_PAGECOUNT=3")
    finally:
        replica._Handler.do_GET = original
    assert seen and all("gikcrawl/" in ua and "archive-team@example.org" in ua for ua in seen)


# --- politeness at any setting (gikcrawl/downloader.py) ---------------------------------------------------

def _gaps(server, paths) -> list[float]:
    import itertools
    times = [t for (_, p), t in zip(server.access_log, server.access_times) if p in paths]
    return [b - a for a, b in itertools.pairwise(times)]


def test_per_domain_concurrency_holds_without_delay(tmp_path):
    from gikfixtures.faults import FaultServer, fault_slow
    site = build_site("trs", seed=6)
    faults = {p: fault_slow(site.pages[p]) for p in site.reports if p in site.pages}   # ~2 s per report
    with FaultServer(site, faults=faults) as server:
        items, _ = crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: minimal_entry(server, site)}),
                         site.key, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "DOWNLOAD_DELAY=0")
        most, which = server.concurrency()
    assert len(items) == len(site.reports)
    assert most == 2, which          # Scrapy 2.19's own downloader sends them all at once (13 at a time here)


def test_delay_is_a_floor_with_jitter_and_autothrottle(tmp_path, trs):
    server, site = trs
    entry = dict(minimal_entry(server, site), politeness={"download_delay": 0.4, "concurrency": 1})
    crawl(tmp_path, write_sites(tmp_path / "s.yaml", {site.key: entry}), site.key,
          "-s", "DOWNLOAD_DELAY_JITTER=0.5", "-s", "AUTOTHROTTLE_ENABLED=True", "-s", "AUTOTHROTTLE_START_DELAY=0",
          "-s", "DOWNLOAD_DELAY=0", "-s", "CLOSESPIDER_PAGECOUNT=10")
    site_paths = {p for _, p in server.access_log if p != "/robots.txt"}
    gaps = _gaps(server, site_paths)
    assert len(gaps) >= 6
    assert min(gaps) >= 0.39, gaps   # never below the site's delay: not by jitter, not by AutoThrottle


def test_sites_sharing_a_host_share_its_politeness(tmp_path):
    from gikfixtures.faults import FaultServer, fault_slow
    a, b = build_site("trs", key="sitea", seed=7, n_reports=4), build_site("trs", key="siteb", seed=8, n_reports=4)
    faults = {}
    for site in (a, b):
        for p in [p for p in site.reports if p in site.pages][:2]:
            faults[p] = fault_slow(site.pages[p])
    with FaultServer(a, b, faults=faults) as server:
        entries = {s.key: dict(minimal_entry(server, s), politeness={"concurrency": 1, "download_delay": 0})
                   for s in (a, b)}
        items, _ = crawl(tmp_path, write_sites(tmp_path / "s.yaml", entries), "sitea,siteb")
        most, which = server.concurrency()
    assert len(items) == len(a.reports) + len(b.reports)
    assert most == 1, which          # one host, one slot: the sites' concurrency 1 holds for the host


def test_local_gate_one_request_per_host_and_the_delay_after_its_answer():
    import asyncio
    import time
    from gikcrawl.downloader import FloorSlot, LocalGate
    gate, slot, other = LocalGate(), FloorSlot(2, 0.2, floor=0.2), FloorSlot(2, 0.0)

    async def fetch(name, slot, log):
        await gate.acquire(slot, name)
        log.append((name, "sent", time.monotonic()))
        await asyncio.sleep(0.1)                                    # the server answers in 0.1 s
        log.append((name, "back", time.monotonic()))
        gate.release(slot, name)

    async def main():
        log = []
        await asyncio.gather(fetch("a", slot, log), fetch("b", slot, log), fetch("x", other, log),
                             fetch("y", other, log))
        return log
    log = asyncio.run(main())
    t = {(n, e): at for n, e, at in log}
    first, second = sorted("ab", key=lambda n: t[(n, "sent")])
    assert t[(second, "sent")] - t[(first, "back")] >= 0.195      # not 0.2 after the first was sent: after its answer
    assert abs(t[("x", "sent")] - t[("y", "sent")]) < 0.05          # no delay: no waiting, concurrency is the slot's
