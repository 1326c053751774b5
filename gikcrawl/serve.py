"""`gikcrawl serve ARCHIVE_DIR`: browse the archive as it was, in pywb.

The collection is the archive directory itself: pywb's config (written to a temporary directory) points
its index_paths at the CDXJ files beside the WARCs and its archive_paths at the WARCs; nothing is copied.
pywb is the [replay] extra (`pip install 'gikcrawl[replay]'`), or in an environment of its own (`make
replay-env`, see `find_pywb`) beside one with the [distributed] extra: every pywb release pins redis 2.10.6,
the distributed frontier needs redis-py >= 4, so the two extras cannot share one environment.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from .archive.cdxj import index_path, write_index
from .archive.verify import warc_files

COLLECTION = "gikcrawl"
PYWB_VERSION = "2.10.0"          # the version `make replay-env` installs and the tests run


class ServeError(Exception):
    """The archive cannot be served (no WARCs, no pywb)."""


def find_pywb(explicit: str | None = None) -> Path:
    """pywb's `wayback` command: the given path, $GIKCRAWL_PYWB, this environment's own (the [replay] extra),
    `wayback` on PATH, or the environment `make replay-env` makes beside this one (.venv-pywb next to .venv)."""
    if explicit:
        candidates = [explicit]
    else:
        prefix = Path(sys.prefix)
        candidates = [os.environ.get("GIKCRAWL_PYWB"), str(prefix / "bin" / "wayback"), shutil.which("wayback"),
                      str(prefix.with_name(prefix.name + "-pywb") / "bin" / "wayback")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    raise ServeError(f"pywb not found: pip install 'gikcrawl[replay]' (pywb=={PYWB_VERSION}; not beside the "
                     "[distributed] extra), or run `make replay-env` (a separate virtual environment .venv-pywb), "
                     "or give --pywb PATH/TO/wayback or $GIKCRAWL_PYWB")


def ensure_indexes(archive_dir: Path) -> list[Path]:
    """CDXJ for every WARC of the archive; a WARC without one (a run killed before closing it) is indexed
    now. Returns the WARCs."""
    warcs = warc_files([archive_dir])
    if not warcs:
        raise ServeError(f"no WARC files in {archive_dir}")
    for warc in warcs:
        if not index_path(warc).exists():
            try:
                write_index(warc)
            except Exception as e:       # a file still being written, or damaged: served without it
                print(f"gikcrawl: {warc} left out (cannot index it: {type(e).__name__}: {e}; "
                      f"`gikcrawl warc verify --repair` it)", file=sys.stderr)
    return warcs


def pywb_config(archive_dir: Path, collection: str = COLLECTION) -> dict:
    root = str(archive_dir.resolve())
    return {"collections": {collection: {"index_paths": root, "archive_paths": root + "/"}},
            "enable_memento": True}


def replay_url(base: str, url: str, fetched_at: str | None = None) -> str:
    """The pywb address of a capture: base is the collection's URL (http://HOST:PORT/gikcrawl/), fetched_at
    the capture's WARC-Date (ISO 8601); without it, the newest capture. For reports linking to the archive."""
    stamp = re.sub(r"\D", "", fetched_at or "")[:14]
    return f"{base.rstrip('/')}/{stamp}/{url}" if stamp else f"{base.rstrip('/')}/{url}"


def free_port(bind: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((bind, 0))
        return s.getsockname()[1]


def serve(archive_dir: str | os.PathLike, *, port: int = 8080, bind: str = "127.0.0.1",
          pywb: str | None = None) -> int:
    """Run pywb on the archive until it is stopped; returns pywb's exit status."""
    archive_dir = Path(archive_dir)
    if not archive_dir.is_dir():
        raise ServeError(f"not a directory: {archive_dir}")
    wayback = find_pywb(pywb)
    ensure_indexes(archive_dir)
    port = port or free_port(bind)
    with tempfile.TemporaryDirectory(prefix="gikcrawl-pywb-") as work:
        Path(work, "config.yaml").write_text(yaml.safe_dump(pywb_config(archive_dir)), encoding="utf-8")
        print(f"serving {archive_dir} at http://{bind}:{port}/{COLLECTION}/ (pywb; Ctrl-C stops)", flush=True)
        proc = subprocess.Popen([str(wayback), "-p", str(port), "-b", bind], cwd=work)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())     # stopping serve stops pywb
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(10)
            return 0
