"""A fixture HTTP server for archive tests, modelled on warcprox's digest tests: each path answers one way
(plain, gzip, chunked, gzip+chunked, redirect chain, 404/500, repeated Set-Cookie, non-ASCII header
values, a binary PDF, a query string), and ENTITIES records the entity bytes it sends for each."""
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = "<html><head><meta charset='utf-8'><title>测试</title></head><body><p>{}</p></body></html>"
PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
       b"endobj\nxref\n0 3\n0000000000 65535 f \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n0\n%%EOF\n" + bytes(range(256)))


def _page(name: str) -> bytes:
    return HTML.format(f"{name} 政府信息公开工作年度报告 " * 40).encode("utf-8")


# path -> (status, headers, body before content coding, content coding, chunked)
CASES = {
    "/plain": (200, [("Content-Type", "text/html; charset=utf-8")], _page("plain"), None, False),
    "/gzip": (200, [("Content-Type", "text/html; charset=utf-8")], _page("gzip"), "gzip", False),
    "/chunked": (200, [("Content-Type", "text/html; charset=utf-8")], _page("chunked"), None, True),
    "/gzip-chunked": (200, [("Content-Type", "text/html; charset=utf-8")], _page("gzip+chunked"), "gzip", True),
    "/redirect1": (302, [("Location", "/redirect2")], b"", None, False),
    "/redirect2": (301, [("Location", "/plain?via=redirect")], b"moved", None, False),
    "/missing": (404, [("Content-Type", "text/html")], b"<h1>404 Not Found</h1>", None, False),
    "/broken": (500, [("Content-Type", "text/html")], b"<h1>500 Internal Server Error</h1>", None, False),
    "/cookies": (200, [("Content-Type", "text/html"), ("Set-Cookie", "a=1; Path=/"),
                       ("Set-Cookie", "b=2; Path=/; HttpOnly")], _page("cookies"), None, False),
    "/nonascii": (200, [("Content-Type", "application/octet-stream"),
                        ("Content-Disposition", 'attachment; filename="年度报告.pdf"'),
                        ("X-Report-Title", "维西县2021年报")], PDF, None, False),
    "/report.pdf": (200, [("Content-Type", "application/pdf")], PDF, None, False),
    "/search": (200, [("Content-Type", "text/html; charset=utf-8")], _page("search"), None, False),
}
ENTITIES = {}        # path -> entity bytes as sent (after content coding, before chunking)


def entity(path: str) -> bytes:
    status, headers, body, coding, chunked = CASES[path]
    return gzip.compress(body, mtime=0) if coding == "gzip" else body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/robots.txt":
            status, headers, data, coding, chunked = 200, [("Content-Type", "text/plain")], b"User-agent: *\n", None, False
        elif path in CASES:
            status, headers, _, coding, chunked = CASES[path]
            data = entity(path)
        else:
            status, headers, data, coding, chunked = 404, [], b"no", None, False
        self.send_response(status)
        for name, value in headers:
            # header values go out as UTF-8 bytes (http.server would encode them as latin-1)
            self._headers_buffer.append(f"{name}: ".encode("latin-1") + value.encode("utf-8") + b"\r\n")
        if coding:
            self.send_header("Content-Encoding", coding)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 700):
                piece = data[i:i + 700]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


class FixtureServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
