"""A minimal Hub-shaped HTTP server over fixed files, for conditions hubstead never produces.

It answers `HEAD|GET /{namespace}/{name}/resolve/{revision}/{path}` with the headers a Hub sends
(`X-Repo-Commit`, `ETag`, `Content-Length`), and can be told to ignore `Range` (answering 200
with the whole file, as a plain web server without range support does), to announce an etag
the bytes do not match, to answer the first requests of a method with 503, or to redirect
every GET once (to the same path with `?moved=1`). It records every request.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "c0ffee" + "0" * 34


class StaticHub:
    """The server; `url` is its endpoint, `requests` the (method, path, range) it received."""

    def __init__(
        self,
        files: dict[str, bytes],
        *,
        ranges: bool = True,
        etags: dict[str, str] | None = None,
        fail: dict[str, int] | None = None,
        redirect_gets: bool = False,
    ) -> None:
        self.files = files
        self.ranges = ranges
        self.etags = etags or {}
        self.failures_left = dict(fail or {})
        self.redirect_gets = redirect_gets
        self.requests: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                hub.answer(self, body=False)

            def do_GET(self) -> None:
                hub.answer(self, body=True)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def gets(self) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] == "GET"]

    def etag(self, path: str) -> str:
        return self.etags.get(path) or hashlib.sha256(self.files[path]).hexdigest()

    def answer(self, handler: BaseHTTPRequestHandler, *, body: bool) -> None:
        requested = handler.headers.get("Range")
        with self._lock:
            self.requests.append((handler.command, handler.path, requested))
            failing = self.failures_left.get(handler.command, 0) > 0
            if failing:
                self.failures_left[handler.command] -= 1
        url_path, _, query = handler.path.partition("?")
        parts = url_path.split("/resolve/", 1)
        path = parts[1].split("/", 1)[1] if len(parts) == 2 and "/" in parts[1] else ""
        if failing:
            self._send(handler, 503, {"Retry-After": "0"}, b"busy", body)
            return
        if body and self.redirect_gets and not query:
            self._send(handler, 302, {"Location": f"{url_path}?moved=1"}, b"", body)
            return
        if path not in self.files:
            self._send(
                handler, 404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT}, b"", body
            )
            return
        data = self.files[path]
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{self.etag(path)}"', "Accept-Ranges": "none"}
        status = 200
        if self.ranges and requested and body:
            first, _, last = requested.removeprefix("bytes=").partition("-")
            start, end = int(first), int(last) if last else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            headers["Accept-Ranges"] = "bytes"
            data, status = data[start : end + 1], 206
        self._send(handler, status, headers, data, body)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        headers: dict[str, str],
        data: bytes,
        body: bool,
    ) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if body:
            handler.wfile.write(data)
