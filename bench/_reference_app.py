"""The reference of measurement 6: a minimal Starlette app answering recorded responses.

It answers each recorded request (method and path) with the status, headers and body hubstead
gave it, and nothing else: no routing beyond an exact path, no database, no git. It runs as its
own uvicorn process with the settings `hubstead serve` uses (one process, the same event loop
and HTTP parser, no access log, proxy headers, 30 s keep-alive), so the difference between the
two is the work hubstead does per request.

    python bench/_reference_app.py RESPONSES.json [WORKERS]

`RESPONSES.json` is a list of `{"method", "path", "status", "headers": [[name, value]...],
"body"}` (body as latin-1 text). The app listens on a free loopback port and prints it on the
first line of stdout, then serves until SIGTERM or SIGINT. WORKERS (default 1) processes, forked
from this one, serve the socket, as `hubstead serve --workers` does; this one passes the signal
on to them and exits when they have.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app(recorded: list[dict[str, Any]]) -> Starlette:
    """An app answering each recorded request with its recorded response."""
    routes = []
    for entry in recorded:
        status = int(entry["status"])
        headers = {str(name): str(value) for name, value in entry["headers"]}
        body = str(entry["body"]).encode("latin-1")

        async def endpoint(
            _request: Request,
            status: int = status,
            headers: dict[str, str] = headers,
            body: bytes = body,
        ) -> Response:
            return Response(body, status_code=status, headers=headers)

        routes.append(Route(entry["path"], endpoint, methods=[entry["method"]]))
    return Starlette(routes=routes)


def main() -> None:
    """Serve the responses recorded in the file named on the command line."""
    recorded = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    # The options of `hubstead serve` (cli/server.py), so that only the app differs.
    config = uvicorn.Config(
        create_app(recorded),
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        timeout_keep_alive=30,
    )
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            uvicorn.Server(config).run(sockets=[sock])
            os._exit(0)
        children.append(pid)
    _stop_with(children)


def _stop_with(children: list[int]) -> None:
    """Wait for the serving processes; SIGTERM or SIGINT here is passed on to each of them."""

    def stop(signum: int, _frame: object) -> None:
        for pid in children:
            os.kill(pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
