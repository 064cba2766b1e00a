"""Client connections: the limits every HTTP connection obeys before a request reaches a route.

HTTP layer, below the routes: uvicorn's httptools protocol (the fastest it has) with

- a bound on a request head: its bytes (`max_header_bytes`, counted as they arrive, so that a
  huge header is refused before the parser has gathered it) and its fields
  (`max_header_count`); over either, the answer is 431 and the connection closes;
- a deadline for a request head (`header_timeout_seconds`, from the connection's opening or the
  request's first byte): a client that has not sent a whole head by then gets 408, or is simply
  disconnected if it sent nothing, so that slowloris clients cannot hold connections open;
- a bound on open connections (`max_connections`): a new connection over it closes the one
  that has been idle (waiting for a request head) the longest, or, when every connection is
  busy with a request, is answered 503 and closed. Idle connections then never exhaust the
  process's file descriptors, and a client that sends its request promptly is still served.

`uvicorn_config` is the one place that builds uvicorn's configuration, for `hubstead serve` and
the test servers alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import resource
from typing import Any, ClassVar

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from hubstead.server.settings import Settings

# How long an idle keep-alive connection stays open between two requests.
_KEEP_ALIVE_SECONDS = 30
# How long a refused connection's input is still read (and dropped) after its answer.
_LINGER_SECONDS = 2
# Orders the moments connections became idle (clock readings may tie within one loop turn).
_idle_order = itertools.count()


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may send and hold (see the module docstring)."""

    max_header_bytes: int
    max_header_count: int
    header_timeout_seconds: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        """The limits `settings` ask for; `max_connections` 0 means half the open-file limit."""
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_header_count=settings.max_header_count,
            header_timeout_seconds=settings.header_timeout_seconds,
            max_connections=settings.max_connections or _half_the_file_limit(),
        )


def uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration serving `app` with the connection limits of `settings`.

    Args:
        app: the ASGI application (`create_app`).
        settings: the server's settings.
        **options: further `uvicorn.Config` options (logging, proxy headers, lifespan).

    Returns:
        The configuration to run `uvicorn.Server` with.
    """
    limits = ConnectionLimits.from_settings(settings)
    protocol = type("HubHttpProtocol", (LimitedHttpProtocol,), {"limits": limits})
    # `Date` is stamped per response by `middleware.RequestContext`: uvicorn's own is renewed
    # once a second, up to two seconds behind, and clients compare it with event times (the
    # Space log replay of `huggingface_hub` ends at the first event later than it).
    return uvicorn.Config(
        app,
        http=protocol,
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
        date_header=False,
        **options,
    )


def _half_the_file_limit() -> int:
    """Half the descriptors the process may open: the rest is for files, databases and git."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, soft // 2) if soft != resource.RLIM_INFINITY else 4096


class _HeadRefusedError(Exception):
    """Raised from a parser callback to stop parsing a head that has been answered already."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, enforcing `limits` (set on a subclass, `uvicorn_config`)."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bytes received in earlier chunks of the current request head, and in the chunk being
        # parsed: together, at least the head's size.
        self._head_bytes = 0
        self._chunk_bytes = 0
        # Armed while a request head is awaited or arriving; None while a request is served.
        self._head_timer: asyncio.TimerHandle | None = None
        self._idle_since = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection in, making room for it when the server is full."""
        super().connection_made(transport)
        self._idle_since = next(_idle_order)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self._refuse(503, "The server has too many open connections; try again shortly")
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the head deadline of a connection that went away."""
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse `data`, refusing a head that grows past `max_header_bytes` before it is whole.

        This replaces uvicorn's method (same parser errors and upgrades) to tell a refusal by
        one of our callbacks, already answered, from a malformed request.
        """
        if self._refused:
            return
        self._unset_keepalive_if_required()
        self._chunk_bytes = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _HeadRefusedError):
                self._malformed()
            return
        except httptools.HttpParserError:
            self._malformed()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._head_timer is not None:
            # Still in a head after this chunk: the parser holds all of it so far.
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, self._too_large())

    def on_message_begin(self) -> None:
        """A request starts: its head must arrive within the deadline."""
        super().on_message_begin()
        if self._head_timer is None:
            self._head_bytes = 0
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        """The head is whole: refuse it when over the limits, or start serving the request."""
        self._disarm_head_timer()
        if len(self.headers) > self.limits.max_header_count:
            self._refuse(431, f"A request may have at most {self.limits.max_header_count} headers")
            raise _HeadRefusedError
        # Measuring the head exactly only when the chunks that carried it (which may also hold
        # some of the body) were larger than the limit keeps the common case free.
        limit = self.limits.max_header_bytes
        if self._head_bytes + self._chunk_bytes > limit and self._exact_head_size() > limit:
            self._refuse(431, self._too_large())
            raise _HeadRefusedError
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """The connection is idle again, from now on."""
        self._idle_since = next(_idle_order)
        super().on_response_complete()

    def _exact_head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _too_large(self) -> str:
        return f"The request head is larger than {self.limits.max_header_bytes} bytes"

    def _is_idle(self) -> bool:
        """Waiting for a request (or for the rest of its head), serving none."""
        busy = self.cycle is not None and not self.cycle.response_complete
        return not busy and not self.pipeline and not self.transport.is_closing()

    def _make_room(self) -> bool:
        """Close the connection idle the longest, other than this one; False if none is."""
        idle = [
            other
            for other in self.connections
            if isinstance(other, LimitedHttpProtocol) and other is not self and other._is_idle()
        ]
        if not idle:
            return False
        oldest = min(idle, key=lambda other: other._idle_since)
        oldest._disarm_head_timer()
        oldest.transport.close()
        return True

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(
            self.limits.header_timeout_seconds, self._head_timed_out
        )

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A request is being served and the next one (pipelined) is late: close after it.
            self.cycle.keep_alive = False
        elif self._head_bytes:
            self._refuse(408, "The request head did not arrive in time")
        else:
            self.transport.close()

    def _malformed(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with `message` (plain text and `X-Error-Message`), then close."""
        self._refused = True
        self._disarm_head_timer()
        body = message.encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(
            b"content-type: text/plain; charset=utf-8\r\n"
            b"x-error-message: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % (body, len(body))
        )
        self.transport.write(b"".join(head) + body)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        # A lingering close: closing with unread data in the socket would reset the connection,
        # and the client could lose the answer; so end the answer, then read and drop what the
        # client still sends, for a moment, until it closes its side.
        self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)
