"""ASGI middleware: routing on the raw path, request ids and the access log.

The Hub protocol puts `/` inside path segments as `%2F` (revisions such as `refs%2Fpr%2F1`,
tree paths). Starlette routes on the decoded path, which would lose that boundary, so
`RawPathRouting` rebuilds `scope["path"]` from `raw_path` with every segment decoded except for
`/` and `%`, which stay escaped; handlers decode path parameters with `routing.param`.
"""

from __future__ import annotations

import logging
import random
import time
from email.utils import formatdate
from urllib.parse import quote, unquote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubstead.protocol import HEADER_REQUEST_ID

access_log = logging.getLogger("hubstead.access")


def routing_path(raw_path: bytes) -> str:
    """The path Starlette matches routes against: segments decoded, `/` and `%` kept escaped."""
    segments = raw_path.decode("latin-1").split("/")
    return "/".join(quote(unquote(s, errors="replace"), safe="!$&'()*+,;=:@ ~") for s in segments)


class RequestContext:
    """Route on the raw path, stamp `X-Request-Id` and `Date` on responses, log every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        scope["path"] = routing_path(raw.split(b"?", 1)[0])
        request_id = _incoming_request_id(scope) or _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[HEADER_REQUEST_ID] = request_id
                headers["date"] = formatdate(usegmt=True)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                '%s "%s %s" %s %.1fms [%s]',
                (scope.get("client") or ("-",))[0],
                scope["method"],
                raw.decode("latin-1"),
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )


def _new_request_id() -> str:
    """128 random bits in hex, for telling requests apart in logs (not a secret).

    Not `uuid4`: `os.urandom` releases the GIL, and the event loop thread then waits for a worker
    thread to hand it back, on every request. Each process's generator is seeded at import.
    """
    return f"{random.getrandbits(128):032x}"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and 0 < len(value) <= 128 and value.isascii():
            return bytes(value).decode()
    return None
