"""The reverse proxy in front of Space apps: one request (or websocket) to one `AppAddress`.

HTTP layer, below the Space routes (`web/space_apps.py`), which decide *which* app and
*whether* the caller may reach it; this module only forwards. A request for
`<public prefix>/<rest>?<query>` goes to `http://{host}:{port}{root_path}/<rest>?<query>`.

- Bodies are streamed both ways, never held whole: the request's body is sent upstream as it
  arrives, and the app's answer (server-sent events, long downloads) is sent on chunk by chunk,
  each `send` waiting for the client to take it, so a slow reader slows the app's reads
  (backpressure) instead of filling memory.
- Websockets are joined: the app's is opened with the client's subprotocols first, then the
  client's is accepted with the one the app chose (or refused, when the app's cannot be
  opened), and messages are pumped both ways until either side closes; the other side is
  then closed with the same code.
- The hub's credentials never reach an app: `Authorization` and the hub's cookies (the names
  `AppProxy` is given) are removed from what is forwarded, and a `Set-Cookie` from the app that
  names one of them, or sets a `Domain` (a cookie shared with the hub or with other Spaces),
  is dropped; on the hub's origin (a non-empty prefix), so are `Service-Worker-Allowed` (a worker
  controlling the hub's pages) and `Clear-Site-Data`. Hop-by-hop headers are removed both
  ways; `X-Forwarded-For|Proto|Host|Prefix` are set, and the app's redirects to itself are
  pointed at its public URL.
- An app that does not answer is a 502 (`SpaceAppUnreachableError`), and so is one that takes
  longer than `CONNECT_TIMEOUT` to accept a connection or `READ_TIMEOUT` to start its answer;
  an answer the app stops sending for `READ_TIMEOUT` (or breaks off) is cut short there, which
  the client sees as a body shorter than announced. There is no bound on a whole answer: an
  event stream may last for hours.

One `AppProxy` per hub app (its `httpx.AsyncClient` pools connections to every app), made
when the first request needs it, on the event loop that serves it, and closed with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from hubstead.server import errors
from hubstead.server.domain.spaces import AppAddress

logger = logging.getLogger("hubstead.server")

CONNECT_TIMEOUT = 10.0
"""Seconds an app has to accept a connection (or a websocket handshake)."""
READ_TIMEOUT = 300.0
"""Seconds an app may stay silent between two chunks of its answer (or two of our writes)."""

# RFC 9110 §7.6.1, and the ones browsers and proxies treat alike.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Never forwarded to an app: the hub's credentials, and what the proxy sets itself.
_NOT_FORWARDED = frozenset(
    {"authorization", "cookie", "host", "content-length", "forwarded"}
    | {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix"}
)
# What the hub's server sets on every answer itself (twice would be one too many).
_SERVER_OWN = frozenset({"date", "server"})
# What an app may not say on the hub's origin (path mode): a service worker scoped beyond
# the app's path would control the hub's pages; Clear-Site-Data would end the hub's session.
_ORIGIN_WIDE = frozenset({"service-worker-allowed", "clear-site-data"})
# What the websocket client sets itself on the handshake (and must not be sent twice).
_WEBSOCKET_OWN = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
    | {"sec-websocket-protocol", "sec-websocket-accept"}
)
_NORMAL_CLOSURE = 1000
_GOING_AWAY = 1001
_INTERNAL_ERROR = 1011
_NOT_SENDABLE = frozenset({1005, 1006, 1015})


class AppProxy:
    """Forwards requests to Space apps, sharing one connection pool.

    Args:
        credential_cookies: the names of the hub's own cookies, which no app may read or set.
    """

    def __init__(self, credential_cookies: Iterable[str]) -> None:
        self._cookies = frozenset(credential_cookies)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client, made on first use (on the loop that serves requests)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                # Never a proxy from the environment: apps listen on this machine's ports.
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(CONNECT_TIMEOUT, read=READ_TIMEOUT, write=READ_TIMEOUT),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def http(
        self, request: Request, address: AppAddress, rest: str, prefix: str
    ) -> StreamingResponse:
        """The app's answer to `request`, whose raw path below `prefix` is `rest`, streamed.

        Raises:
            SpaceAppUnreachableError: the app refused the connection or did not answer in time.
        """
        upstream = self.client.build_request(
            request.method,
            _upstream_url("http", address, rest, request.url.query),
            headers=self._request_headers(request.headers.raw, request, prefix),
            content=_body(request),
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.TimeoutException as exc:
            raise errors.SpaceAppUnreachableError(
                "The Space's app did not answer in time; try again, or see its logs"
            ) from exc
        except httpx.TransportError as exc:
            raise errors.SpaceAppUnreachableError(
                "The Space's app is not reachable (it may be restarting); try again, "
                "or see its logs"
            ) from exc
        headers = self._response_headers(response.headers.multi_items(), address, prefix)
        return _Relay(response, headers)

    async def websocket(
        self, websocket: WebSocket, address: AppAddress, rest: str, prefix: str
    ) -> None:
        """Join `websocket` (not accepted yet) to the app's at `rest` until either side closes.

        Raises:
            SpaceAppUnreachableError: the app's websocket could not be opened (`websocket` is
                then still to be refused).
        """
        requested = [
            Subprotocol(p.strip())
            for value in websocket.headers.getlist("sec-websocket-protocol")
            for p in value.split(",")
            if p.strip()
        ]
        headers = [
            (name, value)
            for name, value in self._request_headers(websocket.headers.raw, websocket, prefix)
            if name.lower() not in _WEBSOCKET_OWN and name.lower() != "user-agent"
        ]
        try:
            app = await connect(
                _upstream_url("ws", address, rest, websocket.url.query),
                subprotocols=requested or None,
                additional_headers=headers,
                user_agent_header=websocket.headers.get("user-agent"),
                proxy=None,
                compression=None,
                open_timeout=CONNECT_TIMEOUT,
                max_size=None,
                ping_interval=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise errors.SpaceAppUnreachableError(
                f"The Space's app refused the websocket ({status})"
            ) from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise errors.SpaceAppUnreachableError(
                "The Space's app is not reachable (it may be restarting); try again, "
                "or see its logs"
            ) from exc
        async with app:
            await websocket.accept(subprotocol=app.subprotocol)
            await _join(websocket, app)

    def _request_headers(
        self, raw: Sequence[tuple[bytes, bytes]], request: Request | WebSocket, prefix: str
    ) -> list[tuple[str, str]]:
        """The client's headers as the app gets them: no credentials, no hop-by-hop."""
        named = {
            token.strip().lower()
            for name, value in raw
            if name.lower() == b"connection"
            for token in value.decode("latin-1").split(",")
        }
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in raw
            if (lowered := name.decode("latin-1").lower()) not in _HOP_BY_HOP
            and lowered not in _NOT_FORWARDED
            and lowered not in named
        ]
        cookies = self._app_cookies(request.headers.getlist("cookie"))
        if cookies:
            headers.append(("Cookie", cookies))
        client = request.client.host if request.client else ""
        earlier = request.headers.get("x-forwarded-for")
        forwarded_for = f"{earlier}, {client}" if earlier and client else earlier or client
        if forwarded_for:
            headers.append(("X-Forwarded-For", forwarded_for))
        scheme = {"ws": "http", "wss": "https"}.get(request.url.scheme, request.url.scheme)
        headers += [
            ("X-Forwarded-Proto", scheme),
            ("X-Forwarded-Host", request.headers.get("host", "")),
            ("X-Forwarded-Prefix", prefix),
        ]
        return headers

    def _app_cookies(self, values: list[str]) -> str:
        """The `Cookie` header without the hub's own cookies (kept byte for byte otherwise)."""
        kept = [
            pair.strip()
            for value in values
            for pair in value.split(";")
            if pair.strip() and pair.partition("=")[0].strip() not in self._cookies
        ]
        return "; ".join(kept)

    def _response_headers(
        self, items: list[tuple[str, str]], address: AppAddress, prefix: str
    ) -> list[tuple[str, str]]:
        """The app's headers as the client gets them (see the module docstring)."""
        named = {
            token.strip().lower()
            for name, value in items
            if name.lower() == "connection"
            for token in value.split(",")
        }
        headers = []
        for name, value in items:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or lowered in named or lowered in _SERVER_OWN:
                continue
            if prefix and lowered in _ORIGIN_WIDE:
                continue
            if lowered == "set-cookie" and not self._cookie_allowed(value):
                continue
            if lowered == "location":
                value = _public_location(value, address, prefix)
            headers.append((name, value))
        return headers

    def _cookie_allowed(self, header: str) -> bool:
        """Whether an app may set this cookie: not one of the hub's, and for its host alone."""
        name = header.partition("=")[0].strip()
        if name in self._cookies:
            return False
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            # Unparsable here, perhaps not in a browser: only a cookie without a Domain passes.
            return "domain=" not in header.lower().replace(" ", "")
        return all(not morsel["domain"] for morsel in jar.values())


class _Relay(StreamingResponse):
    """An app's streamed answer, passed on as it comes; its connection released at the end."""

    def __init__(self, response: httpx.Response, headers: list[tuple[str, str]]) -> None:
        super().__init__(
            _relayed(response),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        # Starlette added a content type; the app's headers are the answer's, as they came.
        self.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]


async def _relayed(response: httpx.Response) -> AsyncIterator[bytes]:
    """The app's body as it comes, ending where the app broke it off or fell silent."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.TransportError as exc:
        logger.warning("A Space app's answer was cut short: %r", exc)


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request's body as it arrives (nothing for a request without one)."""
    async for chunk in request.stream():
        if chunk:
            yield chunk


def _upstream_url(scheme: str, address: AppAddress, rest: str, query: str) -> str:
    # `rest` is as the client encoded it: the app decodes it as it would have.
    url = f"{scheme}://{address.host}:{address.port}{address.root_path}/{rest}"
    return f"{url}?{query}" if query else url


def _public_location(value: str, address: AppAddress, prefix: str) -> str:
    """A redirect of the app's, pointed at its public URL when it names the app itself.

    A relative one is left alone (the browser resolves it against the public URL), as is
    one that already names the public prefix (an app told where it is served).
    """
    parts = urlsplit(value)
    if parts.netloc and (parts.hostname, parts.port) != (address.host, address.port):
        return value
    if not parts.netloc and not parts.path.startswith("/"):
        return value
    path = parts.path or "/"
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        public = path
    else:
        root = address.root_path
        if root and (path == root or path.startswith(root + "/")):
            path = path[len(root) :] or "/"
        public = prefix + path
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return public + query + fragment


async def _join(client: WebSocket, app: ClientConnection) -> None:
    """Pump messages both ways; when one side closes, close the other with its code."""

    async def client_to_app() -> None:
        try:
            while True:
                message = await client.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code", _NORMAL_CLOSURE)
                    # 1005 and 1006 say no close frame came; they are never sent in one.
                    sendable = code if code not in _NOT_SENDABLE else _GOING_AWAY
                    await app.close(sendable, message.get("reason") or "")
                    return
                if message.get("bytes") is not None:
                    await app.send(message["bytes"])
                elif message.get("text") is not None:
                    await app.send(message["text"])
        except ConnectionClosed:
            return

    async def app_to_client() -> None:
        try:
            async for data in app:
                if isinstance(data, bytes):
                    await client.send_bytes(data)
                else:
                    await client.send_text(data)
        except ConnectionClosed:
            pass
        except WebSocketDisconnect:
            return
        code, reason = app.close_code, app.close_reason or ""
        if code is None or code in _NOT_SENDABLE:
            code, reason = _INTERNAL_ERROR, "The Space's app went away"
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await client.close(code=code, reason=reason)

    tasks = [asyncio.ensure_future(client_to_app()), asyncio.ensure_future(app_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
