"""A hostile replica: a TRS-style site (fixtures/replica.py) whose server misbehaves the ways small
government servers do, served on 127.0.0.1 for tests/test_hostile.py and bench/hostile.py.

Reports of the base site reached through survivable faults (they must all be found):
  slow      the body dribbles out over ~2 s          flaky    the connection is reset twice, then the page
  busy      503 + Retry-After: 1 twice, then the page
Fault pages listed as reports in a 2022年 sub-column (each must end as one failure with its cause):
  reset (every time), short body (Content-Length larger than what is sent), a reset after the headers and
  part of the body, a stall after them (timeout after headers), redirect loop, endless redirect chain, a 60 MB
  page (announced), a 60 MB page (chunked, no length), a gzip bomb, garbage bytes, bad chunk framing, no
  answer at all (timeout)
A 2023年度 sub-column is a crawler trap: an endless 下一页 chain whose every page lists the same two reports.
Links and images pointing at another host (``offsite_url``) must never be requested.

The server also keeps the largest number of requests it was answering at once (``max_inflight``), the
politeness check; a request whose client hung up stops counting.
"""
from __future__ import annotations

import gzip
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from html import escape as e
from urllib.parse import parse_qs, urlsplit

from .replica import Page, ReplicaServer, Site, _Handler, build_site

MB = 1024 * 1024
# cause → fault page names (the expected failure cause of each, gikcrawl/failures.py)
EXPECTED_FAILURES = {
    "connection_lost": ["reset"],
    "short_body": ["short", "cut"],
    "redirect_loop": ["loop-a"],
    "too_many_redirects": ["chain-1"],
    "size_limit": ["huge", "huge-chunked"],
    "decompression_limit": ["bomb"],
    "undecodable": ["garbage"],
    "bad_chunking": ["badchunk"],
    "timeout": ["hang", "stall"],
}
_BOMB: bytes | None = None


def gzip_bomb(size: int = 128 * MB) -> bytes:
    """size bytes of spaces inside a <html> tag, gzipped (about size/1000 bytes); made once per process."""
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"<html><body>" + b" " * size, compresslevel=6, mtime=0)
    return _BOMB


def _client_gone(h: _Handler) -> bool:
    try:
        readable, _, _ = select.select([h.connection], [], [], 0)
        return bool(readable) and h.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _head(h: _Handler, status: int, headers: list[tuple[str, str]]) -> None:
    h.send_response(status)
    for k, v in headers:
        h.send_header(k, v)
    h.end_headers()


def _reset(h: _Handler) -> None:
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # RST on close
    h.close_connection = True


def fault_slow(page: Page) -> Callable[[_Handler], None]:
    def serve(h):
        body = page.body
        _head(h, 200, [*page.headers.items(), ("Content-Length", str(len(body)))])
        step = max(1, len(body) // 10)
        for i in range(0, len(body), step):
            if _client_gone(h):
                return
            h.wfile.write(body[i:i + step])
            h.wfile.flush()
            time.sleep(0.2)
    return serve


def fault_then(page: Page, failures: int, fail: Callable[[_Handler], None]) -> Callable[[_Handler], None]:
    calls = []
    lock = threading.Lock()

    def serve(h):
        with lock:
            calls.append(1)
            n = len(calls)
        if n <= failures:
            fail(h)
            return
        _head(h, page.status, [*page.headers.items(), ("Content-Length", str(len(page.body)))])
        h.wfile.write(page.body)
    return serve


def _busy(h):
    body = b"<html><body>busy</body></html>"
    _head(h, 503, [("Content-Type", "text/html"), ("Retry-After", "1"), ("Content-Length", str(len(body)))])
    h.wfile.write(body)


def _short(h):
    _head(h, 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "50000")])
    h.wfile.write(b"<html><body>" + b"x" * 1000)
    h.close_connection = True


def _cut(h):
    _head(h, 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "50000")])
    h.wfile.write(b"<html><body>" + b"x" * 1000)
    h.wfile.flush()
    time.sleep(0.2)                       # the part reaches the client before the RST
    _reset(h)


def _stall(h):
    _head(h, 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "50000")])
    h.wfile.write(b"<html><body>" + b"x" * 1000)
    h.wfile.flush()
    _hang(h)


def _redirect(target: str):
    def serve(h):
        _head(h, 302, [("Location", target), ("Content-Length", "0")])
    return serve


def _chain(prefix: str):
    def serve(h):
        n = int(urlsplit(h.path).path.rsplit("-", 1)[1].split(".")[0])
        _head(h, 302, [("Location", f"{prefix}chain-{n + 1}.html"), ("Content-Length", "0")])
    return serve


def _huge(chunked: bool, size: int = 60 * MB):
    piece = b"<p>" + "政府信息公开".encode() * 200 + b"</p>\n"

    def serve(h):
        headers = [("Content-Type", "text/html; charset=utf-8")]
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(size)))
        _head(h, 200, headers)
        sent = 0
        try:
            while sent < size and not _client_gone(h):
                data = piece[:size - sent]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                sent += len(data)
            if chunked:
                h.wfile.write(b"0\r\n\r\n")
        except OSError:
            h.close_connection = True
    return serve


def _bomb(h):
    body = gzip_bomb()
    _head(h, 200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
    h.wfile.write(body)


def _garbage(h):
    body = os.urandom(40000)
    _head(h, 200, [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    h.wfile.write(body)


def _badchunk(h):
    _head(h, 200, [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")])
    h.wfile.write(b"10\r\n<html><body>abcd\r\nzz-not-a-length\r\nmore\r\n0\r\n\r\n")
    h.close_connection = True


def _hang(h):
    while not _client_gone(h):          # until the client gives up (DOWNLOAD_TIMEOUT): woken when it hangs up
        select.select([h.connection], [], [], 1.0)
    h.close_connection = True


class _FaultHandler(_Handler):
    def _serve(self, method: str) -> None:
        rep: FaultServer = self.server.replica
        rep._enter()
        t0 = time.monotonic()
        try:
            fault = rep.faults.get(urlsplit(self.path).path)
            if fault is None:
                super()._serve(method)
                return
            rep._log(method, self.path)
            try:
                fault(self)
            except OSError:
                self.close_connection = True
        finally:
            rep._leave(self.path, t0)


class FaultServer(ReplicaServer):
    handler_class = _FaultHandler

    def __init__(self, *sites: Site, faults: dict[str, Callable[[_Handler], None]] | None = None, **kw):
        self.faults = dict(faults or {})
        self.inflight = self.max_inflight_raw = 0
        self.intervals: list[tuple[str, float, float]] = []     # (path, start, end) of every request answered
        self._count_lock = threading.Lock()
        super().__init__(*sites, **kw)

    def _enter(self):
        with self._count_lock:
            self.inflight += 1
            self.max_inflight_raw = max(self.max_inflight_raw, self.inflight)

    def concurrency(self, tolerance: float = 0.02) -> tuple[int, list[str]]:
        """The most requests answered at once, and which. An answer counts until `tolerance` seconds before
        its handler finished: on two busy cores the thread that wrote the last byte can be scheduled after
        our next request on another connection has arrived, which is not a request sent too early."""
        with self._count_lock:
            spans = [(path, start, end - tolerance) for path, start, end in self.intervals]
        best: list[str] = []
        for _, start, _ in spans:
            now = [p for p, s, e in spans if s <= start < e or s == start]
            if len(now) > len(best):
                best = now
        return len(best), best

    @property
    def max_inflight(self) -> int:
        return self.concurrency()[0]

    def _leave(self, path: str, t0: float):
        with self._count_lock:
            self.inflight -= 1
            self.intervals.append((path, t0, time.monotonic()))


def _insert(page: Page, html: str, charset: str) -> None:
    page.body = page.body.replace("</ul>".encode(charset), html.encode(charset) + "</ul>".encode(charset), 1)


def build_hostile(offsite_url: str, key: str = "hostile", seed: int = 5, n_reports: int = 10) -> tuple[Site, dict]:
    """The hostile site and its faults (path → handler). ``site.roles`` gains "slow", "flaky", "busy" (report
    paths served through survivable faults), "fault:<name>" for each fault page and "trap"."""
    site = build_site("trs", key=key, seed=seed, n_reports=n_reports)
    gzip_bomb()                                  # made before serving, not while a client waits
    p = site.host_path_prefix
    faults: dict[str, Callable] = {}
    real = [path for path, t in site.reports.items() if t is not None and path in site.pages]
    for role, path in zip(("slow", "flaky", "busy"), real):
        page = site.pages[path]
        faults[path] = {"slow": lambda pg=page: fault_slow(pg), "flaky": lambda pg=page: fault_then(pg, 2, _reset),
                        "busy": lambda pg=page: fault_then(pg, 2, _busy)}[role]()
        site.roles[role] = path
    f = p + "faults/"
    pages = {"reset": _reset, "short": _short, "cut": _cut, "stall": _stall, "loop-a": _redirect(f + "loop-b.html"),
             "chain-1": _chain(f), "huge": _huge(False), "huge-chunked": _huge(True), "bomb": _bomb,
             "garbage": _garbage, "badchunk": _badchunk, "hang": _hang}
    faults[f + "loop-b.html"] = _redirect(f + "loop-a.html")
    for n in range(2, 60):
        faults[f"{f}chain-{n}.html"] = _chain(f)
    lis = []
    for i, (name, fault) in enumerate(pages.items()):
        faults[f + name + ".html"] = fault
        site.roles[f"fault:{name}"] = f + name + ".html"
        title = f"测试第{i + 1}局2022年政府信息公开工作年度报告"
        lis.append(f'<li><a href="{f}{name}.html" title="{title}">{title}</a><span>2023-01-{i + 1:02d}</span></li>')
    lis.append(f'<li><a href="{offsite_url}{key}/offsite.html">外站2022年政府信息公开工作年度报告</a></li>')
    column = ("<html><head><meta charset='utf-8'><title>2022年</title></head><body><div class='lm_name'>2022年"
              f"</div><ul class='list'>{''.join(lis)}</ul><img src='{offsite_url}{key}/logo.png'></body></html>")
    site.pages[f + "index.html"] = Page(200, {"Content-Type": "text/html; charset=utf-8"}, column.encode())
    # the trap: every page lists the same two reports and a 下一页 to the next page number, without end
    trap = p + "trap/index.html"
    same = [(site.reports[r].title, r) for r in real[3:5]]

    def trap_page(method, query, data):
        n = int((query.get("page") or ["1"])[0])
        items = "".join(f'<li><a href="{r}">{e(t)}</a></li>' for t, r in same)
        html = (f"<html><head><meta charset='utf-8'><title>2023年度</title></head><body><ul class='list'>{items}"
                f"</ul><div class='page'><a href='{trap}?page={n + 1}'>下一页</a></div></body></html>")
        return Page(200, {"Content-Type": "text/html; charset=utf-8"}, html.encode())

    site.handlers[trap] = trap_page
    site.roles["trap"] = trap
    start = site.pages[site.start_path]
    _insert(start, f'<li><a href="{f}index.html">2022年</a></li><li><a href="{trap}">2023年度</a></li>'
                   f'<li><a href="{offsite_url}{key}/other.html">2021年</a></li>', "gbk")
    start.body = start.body.replace(b"</body>", f"<img src='{offsite_url}{key}/banner.png'></body>".encode(), 1)
    return site, faults


def trap_query(path: str) -> int | None:
    """The page number of a trap page request (None for other paths)."""
    parts = urlsplit(path)
    if not parts.path.endswith("/trap/index.html"):
        return None
    return int((parse_qs(parts.query).get("page") or ["1"])[0])


# --- running a crawl of it (tests/test_hostile.py, bench/hostile.py) ------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))      # the checkout (scrapy.cfg)
HOSTILE_SETTINGS = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0",
                    "-s", "DOWNLOAD_TIMEOUT=3", "-s", "LOG_LEVEL=INFO", "-s", "GIKCRAWL_CONTACT=test@example.org"]


def stats_from_log(log: str) -> dict[str, int]:
    """The integer stats of Scrapy's closing stats dump."""
    import re
    dump = log[log.rfind("Dumping Scrapy stats"):]
    return {k: int(v) for k, v in re.findall(r"'([^']+)': (\d+)[,}\n]", dump)}


# Runs `scrapy ARGS` with the process's peak RSS reset at start and written to a file at exit: the peak that
# wait4 reports (ru_maxrss) would include the forking parent's memory (pytest late in a long session), which
# Linux carries across exec.
_MEASURED = r"""
import atexit, sys
from pathlib import Path
peak_file = sys.argv[1]
def _write_peak():
    try:
        Path(peak_file).write_text(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
    except (OSError, StopIteration):
        pass
try:
    Path("/proc/self/clear_refs").write_text("5")
except OSError:
    pass
atexit.register(_write_peak)
sys.argv = ["scrapy", *sys.argv[2:]]
from scrapy.cmdline import execute
execute()
"""


def crawl_measured(workdir: str, site: Site, server: ReplicaServer, *extra: str,
                   timeout: float = 300) -> dict:
    """`scrapy crawl county` of site in a child process; its own peak RSS (bytes: VmHWM, else wait4's), its
    wall time, stats and log, and the items it wrote."""
    import json
    import subprocess
    import sys

    import yaml
    os.makedirs(workdir, exist_ok=True)
    sites_yaml = os.path.join(workdir, "sites.yaml")
    with open(sites_yaml, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"sites": {site.key: {"name": f"hostile replica {site.key}",
                                             "start_urls": [server.url(site)],
                                             "allowed_domains": ["127.0.0.1"]}}}, fh, allow_unicode=True)
    out, log_path = os.path.join(workdir, "items.jsonl"), os.path.join(workdir, "crawl.log")
    peak_file = os.path.join(workdir, "peak_rss_kb")
    if os.path.exists(peak_file):
        os.remove(peak_file)
    cmd = [sys.executable, "-c", _MEASURED, peak_file, "crawl", "county", "-a", f"site={site.key}", "-s",
           f"SITES_CONFIG={sites_yaml}", "-s", f"ARCHIVE_DIR={os.path.join(workdir, 'archive')}",
           *HOSTILE_SETTINGS, *extra, "-O", out]
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    items = []
    if os.path.exists(out):
        with open(out, encoding="utf-8") as fh:
            items = [json.loads(line) for line in fh if line.strip()]
    peak = usage.ru_maxrss * 1024
    if os.path.exists(peak_file):
        with open(peak_file, encoding="ascii") as fh:
            peak = int(fh.read().strip() or 0) * 1024 or peak
    return {"returncode": proc.returncode, "seconds": elapsed, "peak_rss": peak,
            "log": text, "stats": stats_from_log(text), "items": items, "timed_out": elapsed > timeout}
