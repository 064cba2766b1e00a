"""Download response bodies: through httpx, or read straight into a buffer from a socket.

httpx hands a body over in 64 KiB pieces through several layers of Python; on a fast link, a
multi-GiB download spends more CPU there than the network costs (on loopback, httpx reads at
about a third of what `http.client` reaches). The large downloads of `Transfer` therefore read
with the standard library's `http.client`, straight into a reusable buffer (`readinto`), over
keep-alive connections of their own, with the same headers (the token only to the hub's host)
and the same trust store as httpx. They go through httpx wherever it would behave differently:
when a proxy from the environment applies, the session has a transport of its own, or the
server redirects.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from hubstead.client._http import HubSession

BUFFER_SIZE = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Body(Protocol):
    """An open response: its status and headers, then its body in pieces."""

    status_code: int

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive)."""

    def pieces(self) -> Iterator[bytes | memoryview]:
        """The body; a piece is only valid until the next one is asked for."""

    def response(self) -> httpx.Response:
        """The whole response as httpx's (for errors and `Retry-After`); reads the body."""

    def close(self) -> None:
        """Release the connection."""


class HttpxBody:
    """A streamed httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code

    def header(self, name: str) -> str | None:
        """A response header."""
        value: str | None = self._response.headers.get(name)
        return value

    def pieces(self) -> Iterator[bytes]:
        """The body as httpx reads it."""
        return self._response.iter_raw()

    def response(self) -> httpx.Response:
        """The response, body read."""
        self._response.read()
        return self._response

    def close(self) -> None:
        """Close the stream."""
        self._response.close()


class SocketBody:
    """A response read with `http.client`, into one buffer."""

    def __init__(
        self,
        pool: SocketPool,
        key: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        url: str,
    ) -> None:
        self._pool = pool
        self._key = key
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self._url = url
        self.status_code = response.status

    def header(self, name: str) -> str | None:
        """A response header."""
        return self._response.getheader(name)

    def pieces(self) -> Iterator[memoryview]:
        """The body, read into one reusable buffer."""
        buffer = memoryview(bytearray(BUFFER_SIZE))
        while True:
            try:
                count = self._response.readinto(buffer)
            except (OSError, http.client.HTTPException) as exc:
                raise transport_error(exc, self._url) from exc
            if not count:
                return
            yield buffer[:count]

    def response(self) -> httpx.Response:
        """The response as httpx's, body read."""
        try:
            content = self._response.read()
        except (OSError, http.client.HTTPException):
            content = b""
        return httpx.Response(
            self.status_code,
            headers=list(self._response.getheaders()),
            content=content,
            request=httpx.Request("GET", self._url),
        )

    def close(self) -> None:
        """Keep the connection for the next request if the body was read to its end."""
        if self._connection is None:
            return
        if self._response.isclosed() and not self._response.will_close:
            self._pool.release(self._key, self._connection)
        else:
            self._connection.close()
        self._connection = None


class SocketPool:
    """Keep-alive `http.client` connections for one download, shared by its workers.

    Args:
        session: the hub session (its headers, token rule and timeout are applied).
    """

    def __init__(self, session: HubSession) -> None:
        self._session = session
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None
        timeout = session.client.timeout
        self._timeout = timeout.read

    def get(self, url: str, headers: Mapping[str, str], token: str | bool | None) -> SocketBody:
        """Send a GET for `url` and read the response head.

        Raises:
            httpx.TransportError: the connection failed (mapped from the socket's error).
        """
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port or _default_port(parts.scheme))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {
            "User-Agent": self._session.client.headers.get("user-agent", "hubstead"),
            **self._session.auth_headers(url, token),
            **headers,
        }
        connection, reused = self._take(key)
        try:
            connection.request("GET", target or "/", headers=all_headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            if not reused:
                raise transport_error(exc, url) from exc
            # The server dropped an idle keep-alive connection: once more on a new one.
            connection, _ = self._take(key, fresh=True)
            try:
                connection.request("GET", target or "/", headers=all_headers)
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as again:
                connection.close()
                raise transport_error(again, url) from again
        return SocketBody(self, key, connection, response, url)

    def release(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        """Keep an idle connection for the next request."""
        with self._lock:
            self._idle.setdefault(key, []).append(connection)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(
        self, key: tuple[str, str, int], *, fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            waiting = self._idle.get(key)
            if waiting and not fresh:
                return waiting.pop(), True
        scheme, host, port = key
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            return http.client.HTTPSConnection(
                host, port, timeout=self._timeout, context=self._ssl
            ), False
        return http.client.HTTPConnection(host, port, timeout=self._timeout), False


def sockets_usable(session: HubSession, url: str) -> bool:
    """Whether `url` can be read with `http.client` exactly as httpx would reach it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if session.transport is not None:
        return False  # a transport of the caller's (tests, in-process apps)
    if not session.trust_env:
        return True  # httpx ignores proxies from the environment too
    proxies = urllib.request.getproxies()
    if proxies.get(parts.scheme) or proxies.get("all"):
        return bool(urllib.request.proxy_bypass(parts.hostname))
    return True


def is_redirect(status: int) -> bool:
    """Whether a status sends the client elsewhere."""
    return status in _REDIRECTS


def transport_error(exc: BaseException, url: str) -> httpx.TransportError:
    """The httpx exception for a socket-level failure, so retries treat both paths alike."""
    message = f"{type(exc).__name__}: {exc} (GET {url})"
    if isinstance(exc, socket.timeout | TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, ConnectionRefusedError):
        return httpx.ConnectError(message)
    return httpx.ReadError(message)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
