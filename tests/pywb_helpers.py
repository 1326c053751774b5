"""Real pywb for the tests: `gikcrawl serve` started on a free port, and the archive read back for truth."""
import gzip
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from gikcrawl.serve import ServeError, find_pywb

GIKCRAWL = str(Path(sys.executable).parent / "gikcrawl")


def wayback_or_skip() -> Path:
    """pywb's wayback; CI must have it (make test runs make replay-env), elsewhere the test is skipped."""
    try:
        return find_pywb()
    except ServeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))


@contextmanager
def serving(archive_dir: Path, gikcrawl: str | Path = GIKCRAWL, own_pywb: bool = False):
    """`gikcrawl serve ARCHIVE_DIR --port 0`; yields the collection's base URL once pywb answers. own_pywb:
    no --pywb nor $GIKCRAWL_PYWB, the gikcrawl command finds pywb itself (the [replay] extra)."""
    cmd, env = [str(gikcrawl), "serve", str(archive_dir), "--port", "0"], dict(os.environ)
    if own_pywb:
        env.pop("GIKCRAWL_PYWB", None)
    else:
        cmd += ["--pywb", str(wayback_or_skip())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving "), line + proc.stderr.read()
        base = line.split(" at ", 1)[1].split(" ", 1)[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base, timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "pywb did not start"
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body decoded from its Content-Encoding); HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, h, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, h, body = e.code, e.headers, e.read()
    coding = (h.get("Content-Encoding") or "").lower()
    if coding == "gzip":
        body = gzip.decompress(body)
    elif coding == "deflate":
        body = zlib.decompress(body)
    return status, h, body


def archived(archive_dir: Path) -> dict:
    """(method, url) → captures in date order: (WARC-Type, date, status, decoded body, record id)."""
    out: dict = {}
    for w in sorted(archive_dir.glob("*.warc.gz")):
        pending = None
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                h = rec.rec_headers
                if rec.rec_type in ("response", "revisit"):
                    status = int(rec.http_headers.get_statuscode()) if rec.http_headers else None
                    body = rec.content_stream().read()
                    pending = (h.get_header("WARC-Target-URI"), (rec.rec_type, h.get_header("WARC-Date"), status, body,
                                                                 h.get_header("WARC-Record-ID")))
                elif rec.rec_type == "request" and pending:
                    url, cap = pending
                    out.setdefault((rec.http_headers.protocol.upper(), url), []).append(cap)
                    pending = None
    for caps in out.values():
        caps.sort(key=lambda c: c[1])
    return out
