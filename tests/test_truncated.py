"""Responses that fail after their headers are archived with what was received, marked WARC-Truncated, and
their failure is counted: a short body, a reset, a chunked body cut off, a timeout after the headers."""
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT
from warcio.archiveiterator import ArchiveIterator

BODY = ("<html><head><title>年度报告</title></head><body>" + "政府信息公开" * 400 + "</body></html>").encode("utf-8")
PART = BODY[:1000]


class FaultServer:
    """Raw-socket HTTP server on 127.0.0.1: each path fails its body in one way."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.hits: dict[str, int] = {}
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            data += chunk
        path = data.split(b" ", 2)[1].decode()
        self.hits[path] = self.hits.get(path, 0) + 1
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
        try:
            if path == "/ok":
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
            elif path in ("/short", "/reset", "/stall"):
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(BODY) + PART)
                if path == "/reset":          # RST instead of FIN
                    time.sleep(0.2)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif path == "/stall":
                    time.sleep(4)
            elif path == "/chunked":
                conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(PART), PART))
            time.sleep(0.2)
        finally:
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("truncated")
    server = FaultServer()
    try:
        urls = [server.base + p for p in ("/ok", "/short", "/reset", "/chunked", "/stall")]
        out = tmp / "items.jsonl"
        run = subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(ROOT / "tests" / "warc_spider.py"),
                              "-a", "urls=" + ",".join(urls), "-s", f"ARCHIVE_DIR={tmp / 'archive'}",
                              "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_BACKOFF_BASE=0",
                              "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "ROBOTSTXT_OBEY=False",
                              "-O", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        yield server, items, tmp / "archive", run.stderr
    finally:
        server.close()


def _records(archive):
    out = []
    for w in sorted(archive.glob("*.warc.gz")):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                            rec.rec_headers.get_header("WARC-Truncated"), rec.content_stream().read(), rec))
    return out


def _stat(stderr: str, name: str) -> int:
    m = re.search(rf"'{re.escape(name)}': (\d+)", stderr)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("path", ["/short", "/reset", "/chunked"])
def test_body_cut_short_is_archived_as_truncated_response_and_failed(fault_crawl, path):
    server, items, archive, stderr = fault_crawl
    url = server.base + path
    recs = [r for r in _records(archive) if r[1] == url and r[0] == "response"]
    assert len(recs) == 2 == server.hits[path]                 # the first try and one retry, each archived
    for _rtype, _, truncated, body, rec in recs:
        assert truncated == "disconnect"
        assert body == PART                                   # exactly what was received
        assert rec.http_headers.get_statuscode() == "200"
    assert url not in {i["url"] for i in items}               # a cut-short page is a failure, never an item
    assert re.search(r"ResponseDataLossError", stderr)


def test_timeout_after_headers_is_archived_as_truncated_response_with_its_status(fault_crawl):
    server, items, archive, stderr = fault_crawl
    url = server.base + "/stall"
    recs = [r for r in _records(archive) if r[1] == url]
    responses = [r for r in recs if r[0] == "response"]
    assert len(responses) == 2 == server.hits["/stall"]
    for _, _, truncated, body, rec in responses:
        assert truncated == "time" and body == PART
        assert rec.http_headers.statusline == "200 OK" and rec.http_headers.protocol == "HTTP/1.1"
        assert rec.http_headers.get_header("Content-Length") == str(len(PART))     # the record's own body
        note = rec.rec_headers.get_header("WARC-Gikcrawl-Note")
        assert f"Content-Length announced: {len(BODY)}" in note and "DownloadTimeoutError" in note
    assert [r[0] for r in recs if r[0] not in ("response", "request")] == []      # no resource/metadata pair
    assert len([r for r in recs if r[0] == "request"]) == 2
    assert url not in {i["url"] for i in items}
    assert _stat(stderr, "warc/truncated/time") == 2
    assert _stat(stderr, "warc/truncated/disconnect") == 6


def test_complete_response_is_not_marked(fault_crawl):
    server, items, archive, _ = fault_crawl
    recs = [r for r in _records(archive) if r[1] == server.base + "/ok" and r[0] == "response"]
    assert len(recs) == 1 and recs[0][2] is None and recs[0][3] == BODY
    assert [i["url"] for i in items] == [server.base + "/ok"]


def test_truncated_captures_are_marked_in_the_index_and_never_replayed(fault_crawl):
    from gikcrawl.archive.replay_mw import load_index
    server, _, archive, _ = fault_crawl
    lines = [json.loads(line.split(" ", 2)[2]) for c in archive.glob("*.cdxj") for line in c.read_text().splitlines()]
    marked = sorted((e["url"][len(server.base):], e["truncated"]) for e in lines if e.get("truncated"))
    assert marked == sorted([(p, "disconnect") for p in ("/short", "/reset", "/chunked") for _ in range(2)]
                            + [("/stall", "time")] * 2)
    by_key, _, _ = load_index([archive])
    assert {url[len(server.base):] for (_, url) in by_key if url.startswith(server.base)} == {"/ok"}
