"""Serving a site of fixed pages on 127.0.0.1, and a site frozen as files (the bundled demo).

A :class:`Site` is plain data: ``pages`` maps a path (with its query string when relevant) to a :class:`Page`;
``handlers`` answer dynamic paths. :class:`ReplicaServer` serves any number of sites (each under
``/<key>/``) like a small nginx: ETags and conditional GETs, optional gzip or chunked bodies, 301s with
absolute Locations, 404s. ``save_site``/``load_site`` freeze a site into a directory (a manifest plus one file
per body) and read it back: `gikcrawl demo` serves the copy shipped in ``gikcrawl/demo_site/`` so the demo
needs no generator at run time. The generators that build sites live in the dev-only ``gikfixtures``.
"""
from __future__ import annotations

import gzip as _gzip
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape as e
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

DEMO_SITE_DIR = Path(__file__).resolve().parent / "demo_site"


@dataclass
class Page:
    status: int = 200
    headers: dict[str, str | list[str]] = field(default_factory=dict)   # a list repeats the header
    body: bytes = b""


@dataclass
class Site:
    key: str
    style: str                      # "trs", "hanweb", "jiyue"; "mixed" for the demo site
    host_path_prefix: str           # "/<key>/"
    pages: dict[str, Page] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)   # None: the image-only report
    image_only: list[str] = field(default_factory=list)
    distractors: list[str] = field(default_factory=list)   # notice, 解读, news items: real pages, not reports
    attachments: list[str] = field(default_factory=list)   # .pdf and .docx files
    redirects: dict[str, str] = field(default_factory=dict)   # old path (answers 301) -> real detail path
    missing: list[str] = field(default_factory=list)       # listed, answers 404
    start_path: str = ""
    list_pages: list[str] = field(default_factory=list)    # every list page (and the dataproxy URL)
    roles: dict[str, str] = field(default_factory=dict)    # "spam", "lying_charset", "notice", ... -> path
    handlers: dict[str, Callable[[str, dict, bytes], Page]] = field(default_factory=dict)   # path -> dynamic page


# --- the server --------------------------------------------------------------------------------------

_ROBOTS = Page(200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
_HTML = "text/html; charset=utf-8"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    replica: ReplicaServer

    def server_bind(self):                  # skip HTTPServer's getfqdn(), a reverse DNS lookup
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):    # quiet: clients may hang up mid-response
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format, *args):   # quiet
        pass

    def do_GET(self):
        self._serve("GET")

    def do_HEAD(self):
        self._serve("HEAD")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method: str) -> None:
        rep: ReplicaServer = self.server.replica
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        rep._log(method, self.path)
        page = rep.resolve(method, self.path, data, headers=self.headers)
        body, headers = page.body, []
        for k, v in page.headers.items():
            for one in (v if isinstance(v, list) else [v]):
                if k.lower() == "location" and one.startswith("/"):
                    one = f"http://{self.headers.get('Host') or rep.base_url[7:]}{one}"
                headers.append((k, one))
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        if page.status == 200 and method in ("GET", "HEAD") and rep.etags:   # like nginx for static files:
            etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'      # ETag and conditional GET
            headers.append(("ETag", etag))
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                for k, v in headers:
                    if k.lower() not in ("content-type", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if (rep.gzip and body and ctype.startswith(("text/html", "text/xml"))
                and "gzip" in (self.headers.get("Accept-Encoding") or "")):
            body = _gzip.compress(body, mtime=0)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        chunked = rep.chunked and ctype.startswith("text/html")
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body))))
        try:
            self.send_response(page.status)
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if method == "HEAD":
                return
            if chunked:
                for i in range(0, len(body), 4096):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096]))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class ReplicaServer:
    """Threading HTTP/1.1 server on 127.0.0.1 serving the sites (a free port unless port is given).
    It starts on construction; close() or leaving the with block stops it."""
    handler_class = None          # set below to _Handler; a subclass may serve faults (gikfixtures/faults.py)

    def __init__(self, *sites: Site, gzip: bool = False, chunked: bool = False, port: int = 0):
        self.sites, self.gzip, self.chunked = list(sites), gzip, chunked
        self.access_log: list[tuple[str, str]] = []
        self.access_times: list[float] = []      # time.monotonic() of each access_log entry
        self.robots: Page = _ROBOTS          # tests may serve another robots.txt
        self.etags = True                     # ETag headers and 304s for If-None-Match (tests may turn off)      # (method, path with query), in arrival order
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", port), self.handler_class)
        self._httpd.replica = self
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"replica:{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def _log(self, method: str, path: str) -> None:
        with self._lock:
            self.access_log.append((method, path))
            self.access_times.append(time.monotonic())

    def site(self, site_or_key: Site | str) -> Site:
        return site_or_key if isinstance(site_or_key, Site) else next(s for s in self.sites if s.key == site_or_key)

    def url(self, site_or_key: Site | str, path: str = "") -> str:
        """Absolute URL of path: "" is the site's start page, "/..." is server-absolute, anything else is
        relative to the site's /<key>/."""
        site = self.site(site_or_key)
        path = path or site.start_path
        return self.base_url + (path if path.startswith("/") else site.host_path_prefix + path)

    def mutate(self, site_or_key: Site | str, path: str, page: Page | str | bytes | None = None) -> None:
        """Add or replace a page (a str or bytes is served as UTF-8 HTML), or remove it (page None)."""
        site = self.site(site_or_key)
        if page is None:
            site.pages.pop(path, None)
            site.reports.pop(path, None)
            return
        if isinstance(page, (str, bytes)):
            page = Page(200, {"Content-Type": _HTML}, page.encode("utf-8") if isinstance(page, str) else page)
        site.pages[path] = page

    def resolve(self, method: str, target: str, data: bytes = b"", headers=None) -> Page:
        """The Page answering a request (live from site.pages; 404, 405 for POST to a static page)."""
        parts = urlsplit(target)
        path = parts.path or "/"
        if path == "/robots.txt":
            return self.robots
        for site in self.sites:
            if not (path + "/").startswith(site.host_path_prefix):
                continue
            if path in site.handlers:
                handler = site.handlers[path]
                if getattr(handler, "wants_headers", False):      # e.g. a challenge that checks a cookie
                    return handler(method, parse_qs(parts.query), data, headers or {})
                return handler(method, parse_qs(parts.query), data)
            page = site.pages.get(f"{path}?{parts.query}" if parts.query else path) or site.pages.get(path)
            if page is None and path.endswith("/"):
                page = site.pages.get(path + "index.html") or site.pages.get(path + "index.shtml")
            if page is not None and method == "POST":
                return Page(405, {"Content-Type": _HTML, "Allow": "GET, HEAD"}, b"<h1>405 Method Not Allowed</h1>")
            if page is not None:
                return page
        return Page(404, {"Content-Type": _HTML}, f"<html><head><title>404 Not Found</title></head><body><h1>404 "
                    f"Not Found</h1><p>{e(path)}</p></body></html>".encode())


# --- frozen sites ------------------------------------------------------------------------------------

class FrozenAnswers:
    """The answers a dynamic path gave to the queries it was frozen with (any other query: 404)."""

    def __init__(self, answers: dict[str, Page]):
        self.answers = {self.key(parse_qs(q)): page for q, page in answers.items()}

    @staticmethod
    def key(query: dict) -> str:
        return urlencode(sorted((k, v) for k, vs in query.items() for v in vs))

    def __call__(self, method: str, query: dict, data: bytes) -> Page:
        page = self.answers.get(self.key(query))
        if page is None:
            return Page(404, {"Content-Type": _HTML}, b"<h1>404 Not Found</h1>")
        return page


def _body_name(target: str) -> str:
    name = target.lstrip("/")
    if not name or name.endswith("/"):
        name += "__index__"
    return quote(name, safe="/._-")


def _page_entry(page: Page, name: str) -> dict:
    return {"status": page.status, "headers": page.headers, "body": name}


def save_site(site: Site, dest: str | Path, probes: dict[str, list[str]] | None = None) -> Path:
    """Freeze a site into dest: manifest.json plus files/<path>. probes: for each dynamic path (a handler),
    the query strings whose answers are kept (asked as POST with an empty form)."""
    dest = Path(dest)
    files = dest / "files"
    manifest: dict = {"key": site.key, "style": site.style, "host_path_prefix": site.host_path_prefix,
                      "start_path": site.start_path, "pages": {}, "answers": {}}

    def write(target: str, page: Page) -> dict:
        name = _body_name(target)
        path = files / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            raise ValueError(f"two frozen bodies map to {name}")
        path.write_bytes(page.body)
        return _page_entry(page, name)

    for target, page in sorted(site.pages.items()):
        manifest["pages"][target] = write(target, page)
    for path, queries in sorted((probes or {}).items()):
        if path not in site.handlers:
            raise ValueError(f"{path} is not a dynamic path of site {site.key}")
        manifest["answers"][path] = {q: write(f"{path}?{q}", site.handlers[path]("POST", parse_qs(q), b""))
                                     for q in queries}
    missing = sorted(set(site.handlers) - set(manifest["answers"]))
    if missing:
        raise ValueError(f"dynamic paths without probes would not be frozen: {', '.join(missing)}")
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                        encoding="utf-8")
    return dest


def load_site(src: str | Path = DEMO_SITE_DIR) -> Site:
    """A site frozen by save_site (default: the bundled demo site)."""
    src = Path(src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))

    def page(entry: dict) -> Page:
        return Page(entry["status"], entry["headers"], (src / "files" / entry["body"]).read_bytes())

    site = Site(manifest["key"], manifest["style"], manifest["host_path_prefix"],
                pages={t: page(p) for t, p in manifest["pages"].items()}, start_path=manifest["start_path"])
    for path, answers in manifest["answers"].items():
        site.handlers[path] = FrozenAnswers({q: page(p) for q, p in answers.items()})
    return site


ReplicaServer.handler_class = _Handler
