"""National-scale simulation: many county sites at once, each a server on 127.0.0.1 (a port and a host name
of its own, resolved to 127.0.0.1 by gikfixtures.loopback) answering in 100–300 ms and enforcing 1 request/s (a faster request is a violation, answered 429).
Measures pages/s, CPU per page and hosts kept busy for: one process without Redis, then 1, 2 and 4 workers
on one Redis frontier, all in the same run, over the same sites; prints a table and the extrapolation to a
national crawl.

    python bench/national.py [--hosts 200] [--seconds 40] [--workers 1,2,4] [--variant NAME[@CHECKOUT]:KEY=VALUE,...]

Every configuration crawls for --seconds from its first page; pages/s, CPU and hosts are counted at the servers
from second 8 on, so short runs compare steady states rather than start-up costs. "hosts busy": hosts with
a request being answered, sampled every 0.1 s; "hosts/s": hosts that received a request in each second;
"closest": the smallest gap between two requests to one host among the violations; "CPU ms/page": the
crawl processes' CPU time (/proc, user + system; their worker pools included) per page, valid on a loaded
machine; "servers ms": this process's CPU (the 200 replica servers) per page; "redis/page": commands
Redis served per page (its own counters; a script's inner commands count too); "redis ms": Redis's own CPU
per page; "load": the 1-minute load average at the end of the configuration.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gikfixtures.loopback import loopback_name
from gikfixtures.replica import Page, ReplicaServer, build_large_site

WARMUP = 8.0
DELAY = 1.0


class PoliteHost(ReplicaServer):
    """A replica host with latency that counts requests arriving < 1 s after the previous one."""

    def __init__(self, site, rng: random.Random, stats: Stats):
        super().__init__(site)
        self.rng, self.stats, self.last = rng, stats, -1e9
        self.host_lock = threading.Lock()
        # the fixture's accept loop wakes every 0.05 s: 200 of them in one process would spend 4,000 GIL
        # wake-ups a second for nothing (connections wake the selector anyway). It did not lift the ~15 pages/s
        # the configurations reach on this machine: that is the CPU share the processes get.
        self._httpd.shutdown()
        self._thread.join()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 2.0},
                                        daemon=True)
        self._thread.start()

    def resolve(self, method, target, data=b"", headers=None):
        now = time.monotonic()
        with self.host_lock:
            gap = now - self.last
            early = gap < DELAY
            self.last = now
        self.stats.arrived(self.port, now, gap if early else None, target == "/robots.txt")
        time.sleep(self.rng.uniform(0.1, 0.3))
        self.stats.left(self.port)
        if early:
            return Page(429, {"Content-Type": "text/plain", "Retry-After": "1"}, b"too many requests")
        return super().resolve(method, target, data, headers)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.pages, self.violations, self.busy = [], [], {}

    def arrived(self, port, now, early_gap, robots):
        with self.lock:
            if not robots:
                self.pages.append(now)
            if early_gap is not None:
                self.violations.append(early_gap)
            self.busy[port] = self.busy.get(port, 0) + 1

    def left(self, port):
        with self.lock:
            self.busy[port] -= 1
            if not self.busy[port]:
                del self.busy[port]

    def hosts_busy(self) -> int:
        with self.lock:
            return len(self.busy)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(path: Path) -> tuple[int, float]:
    """(parent pid, CPU seconds user + system) from a /proc/<pid>/stat."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def tree_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each live process under pids (them included): a crawl's worker pool (its forkserver's
    children) parses and extracts for it, so its CPU is the crawl's too."""
    children, cpu = {}, {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid, cpu[int(path.parent.name)] = _stat(path)
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(path.parent.name))
    found, todo = {}, list(pids)
    while todo:
        pid = todo.pop()
        if pid in cpu and pid not in found:
            found[pid] = cpu[pid]
            todo += children.get(pid, [])
    return found


def tree_cpu_since(pids: list[int], before: dict[int, float]) -> float:
    """CPU seconds the processes under pids used since the sample before (processes born since count whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in tree_cpu(pids).items())


def redis_calls(port: int | None) -> int:
    """Commands Redis has served (a script call is one), from its own counters."""
    if port is None:
        return 0
    import redis
    stats = redis.Redis(port=port).info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_ping"))


def run(config: str, workers: int, hosts: list[PoliteHost], sites_yaml: Path, tmp: Path, seconds: float,
        stats: Stats, settings: list[str] = (), root: Path = ROOT) -> dict:
    redis, port = None, None
    extra = [*(arg for kv in settings for arg in ("-s", kv)), "-s", "LOG_LEVEL=ERROR", "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", "TELNETCONSOLE_ENABLED=False",
             "-s", "TWISTED_DNS_RESOLVER=gikfixtures.loopback.LoopbackResolver"]
    if workers:
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        extra += ["-s", f"REDIS_URL=redis://127.0.0.1:{port}/0"]
    for h in hosts:
        h.last = -1e9
        h.access_log.clear()
        h.access_times.clear()
    stats.reset()
    procs = [subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "county", "-a", "site=all",
                               "-s", f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={tmp}/{config}",
                               "-s", f"WARC_WORKER_ID=w{i}", *extra], cwd=root,
                              env=dict(os.environ, PYTHONPATH=str(root)))
             for i in range(max(1, workers))]
    launched = time.monotonic()
    while not stats.pages and time.monotonic() - launched < 120:      # start-up (imports, Redis, first page)
        time.sleep(0.05)
    t0 = time.monotonic()
    samples, cpu0, calls0, rcpu0 = [], None, 0, 0.0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.1)
        if time.monotonic() - t0 >= WARMUP:
            if cpu0 is None:
                cpu0 = tree_cpu([p.pid for p in procs])
                own0 = cpu_seconds(os.getpid())
                calls0 = redis_calls(port)
                rcpu0 = cpu_seconds(redis.pid) if redis is not None else 0.0
            samples.append(stats.hosts_busy())
        if all(p.poll() is not None for p in procs):
            break
    t1 = time.monotonic()
    cpu = tree_cpu_since([p.pid for p in procs if p.poll() is None], cpu0) if cpu0 is not None else 0.0
    own = cpu_seconds(os.getpid()) - own0 if cpu0 is not None else 0.0
    calls = redis_calls(port) - calls0 if cpu0 is not None else 0
    rcpu = cpu_seconds(redis.pid) - rcpu0 if redis is not None and cpu0 is not None else 0.0
    load = os.getloadavg()[0]
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
    if redis is not None:
        redis.terminate()
        redis.wait()
    with stats.lock:
        window = [t for t in stats.pages if t >= t0 + WARMUP]
        first = [t for t in stats.pages if t < t0 + WARMUP]
        violations = len(stats.violations)
        closest = min(stats.violations, default=None)
    span = t1 - (t0 + WARMUP)
    # hosts that received a request within the last second, averaged over the window
    recent = []
    for i in range(int(span)):
        lo = t0 + WARMUP + i
        recent.append(sum(1 for h in hosts if any(lo <= t < lo + 1 for t in h.access_times)))
    return {"config": config, "pages": len(window), "pages_total": len(window) + len(first),
            "pages_s": len(window) / span if span > 0 else 0.0, "cpu_ms_page": 1000 * cpu / max(1, len(window)),
            "busy": sum(samples) / max(1, len(samples)), "hosts_per_s": sum(recent) / max(1, len(recent)),
            "violations": violations, "closest": closest, "redis_calls_page": calls / max(1, len(window)),
            "redis_ms_page": 1000 * rcpu / max(1, len(window)), "servers_ms_page": 1000 * own / max(1, len(window)),
            "load": load}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--pages", type=int, default=120, help="pages per site (report pages and lists)")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME[@CHECKOUT]:KEY=VALUE[,KEY=VALUE]",
                    help="also run every configuration with these settings (-s), and from another checkout of "
                         "gikcrawl (a git worktree of a base commit), interleaved with the plain one; repeatable. "
                         "Ratios compare configurations of one variant")
    a = ap.parse_args()
    variants = {"": ([], ROOT)}
    for v in a.variant:
        name, _, kvs = v.partition(":")
        name, _, root = name.partition("@")
        variants[name] = ([kv for kv in kvs.split(",") if kv], Path(root).resolve() if root else ROOT)
    if not shutil.which("redis-server"):
        sys.exit("redis-server not found: apt-get install redis-server")
    stats = Stats()
    rng = random.Random(17)
    print(f"building {a.hosts} sites of ~{a.pages} pages ...", file=sys.stderr)
    sites = [build_large_site(a.pages, seed=i % 50, key=f"c{i:03d}", per_list=15) for i in range(a.hosts)]
    hosts = [PoliteHost(s, random.Random(rng.random()), stats) for s in sites]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sites_yaml = Path(tmp) / "sites.yaml"
            # each site has its own host name (resolved to 127.0.0.1 by gikfixtures.loopback), as counties do:
            # politeness is per host name
            sites_yaml.write_text(yaml.safe_dump({"sites": {s.key: {
                "name": s.key, "allowed_domains": [loopback_name(s.key)],
                "start_urls": [h.url(s, s.start_path).replace("127.0.0.1", loopback_name(s.key), 1)],
                "politeness": {"download_delay": DELAY}}
                for s, h in zip(sites, hosts)}}), encoding="utf-8")
            results = []
            for n in [0, *(int(x) for x in a.workers.split(","))]:
                for name, (settings, root) in variants.items():
                    config = (f"redis-{n}w" if n else "no-redis") + (f"[{name}]" if name else "")
                    results.append(run(config, n, hosts, sites_yaml, Path(tmp), a.seconds, stats, settings, root))
                    results[-1].update(variant=name, workers=n)
    finally:
        closers = [threading.Thread(target=h.close) for h in hosts]      # each waits up to its poll interval
        for t in closers:
            t.start()
        for t in closers:
            t.join()
    def rate(variant: str, workers: int) -> float:
        found = [r["pages_s"] for r in results if r["variant"] == variant and r["workers"] == workers]
        return found[0] if found and found[0] else float("nan")
    print(f"\n{a.hosts} hosts, 100-300 ms latency, 1 request/s each; {a.seconds:.0f} s per configuration, "
          f"measured after {WARMUP:.0f} s; {os.cpu_count()} cores shared with the servers and Redis")
    for name, (settings, root) in variants.items():
        if name:
            print(f"[{name}]: " + (f"crawling from {root} " if root != ROOT else "") + " ".join(f"-s {kv}" for kv in settings))
    width = max(14, *(len(r["config"]) for r in results))
    print(f"{'configuration':{width}s} {'pages/s':>8s} {'vs no-redis':>11s} {'vs 1 worker':>11s} {'CPU ms/page':>11s} "
          f"{'hosts busy':>10s} {'hosts/s':>8s} {'violations':>10s} {'closest':>8s} {'redis/page':>10s} {'redis ms':>8s} "
          f"{'servers ms':>10s} {'load':>5s}")
    for r in results:
        closest = "-" if r["closest"] is None else f"{r['closest']:.3f}s"
        base, one = rate(r["variant"], 0), rate(r["variant"], 1)
        print(f"{r['config']:{width}s} {r['pages_s']:8.1f} {r['pages_s'] / base:10.2f}x {r['pages_s'] / one:10.2f}x "
              f"{r['cpu_ms_page']:11.1f} {r['busy']:10.1f} {r['hosts_per_s']:8.1f} {r['violations']:10d} {closest:>8s} "
              f"{r['redis_calls_page']:10.1f} {r['redis_ms_page']:8.2f} {r['servers_ms_page']:10.2f} {r['load']:5.1f}")
    pages = 2800 * 300
    load = os.getloadavg()[0]
    print(f"\nload average now {load:.1f} on {os.cpu_count()} cores: the rates above are what the share of CPU "
          f"these processes got allows; CPU ms/page is what a page costs.")
    print(f"extrapolation to 2,800 sites x 300 pages = {pages:,} pages (assumptions: pages like these, CPU-bound "
          f"workers with a core each, Redis and the network not saturated, latency 100-300 ms):")
    print(f"  politeness floor: one request per host at a time, {DELAY:.0f} s after the previous answer -> a "
          f"300-page site takes >= {300 * (DELAY + 0.2) / 60:.0f} min; 2,800 sites allow up to "
          f"{2800 / (DELAY + 0.2):,.0f} pages/s")
    for r in results:
        per_core = 1000 / r["cpu_ms_page"] if r["cpu_ms_page"] else 0
        if not per_core:
            continue
        print(f"  {r['config']:9s}: {r['cpu_ms_page']:.1f} ms/page -> {per_core:.0f} pages/s per core; "
              f"{pages / per_core / 3600:.1f} core-hours; with 10 workers {pages / (10 * per_core) / 3600:.1f} h, "
              f"keeping ~{10 * per_core * (DELAY + 0.2):.0f} hosts in their politeness window")
    return 0


if __name__ == "__main__":
    sys.exit(main())
