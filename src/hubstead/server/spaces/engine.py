"""A Docker engine, reached over its HTTP API on a unix socket: what the Docker runner asks of it.

Docker and podman (`podman system service`) both serve this API; the calls here are the few
both answer alike, at API version 1.41 (Docker 20.10 and later). A stream (a build's progress,
a container's output) is read with a bounded line buffer: an app printing without newlines
holds no more of the hub's memory than one line's worth.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

API_VERSION = "v1.41"
MAX_MESSAGE_BYTES = 1024 * 1024
"""Longest line of a build's progress read; a longer one (never seen) is dropped."""

_SECONDS = 60.0
_TIMEOUT = httpx.Timeout(_SECONDS)
_STREAMING = httpx.Timeout(_SECONDS, read=None)
_FRAME_HEADER = struct.Struct(">BxxxI")


class EngineError(Exception):
    """The engine refused a call or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DockerEngine:
    """The Engine API of the engine listening on the unix socket `socket`.

    Safe to use from any thread.
    """

    def __init__(self, socket: Path) -> None:
        self._socket = socket
        self._http = httpx.Client(
            # Each running app holds two connections open (its output, its end): no cap.
            transport=httpx.HTTPTransport(
                uds=str(socket), limits=httpx.Limits(max_connections=None)
            ),
            base_url=f"http://docker/{API_VERSION}",
            timeout=_TIMEOUT,
        )

    def close(self) -> None:
        """Close the connections to the engine."""
        self._http.close()

    def build(
        self,
        context: Iterable[bytes],
        *,
        tag: str,
        labels: Mapping[str, str],
        options: Mapping[str, str],
    ) -> Generator[dict[str, Any], None, None]:
        """Build `context` (a tar stream, its Dockerfile at its root) as `tag`: its messages.

        Each message is a JSON object of the engine's: `stream` (output), `aux`, or `error`.
        """
        params = {"t": tag, "labels": json.dumps(dict(labels)), **options}
        headers = {"Content-Type": "application/x-tar"}
        stream = self._stream("POST", "/build", params=params, content=context, headers=headers)
        with stream as lines:
            while line := lines.readline(MAX_MESSAGE_BYTES):
                if not line.endswith(b"\n") and len(line) == MAX_MESSAGE_BYTES:
                    while (rest := lines.readline(MAX_MESSAGE_BYTES)) and not rest.endswith(b"\n"):
                        pass
                    continue
                if line.strip():
                    try:
                        message = json.loads(line)
                    except ValueError:
                        raise EngineError(f"The Docker engine sent {line[:200]!r}") from None
                    if isinstance(message, dict):
                        yield message

    def images(self, label: str) -> list[dict[str, Any]]:
        """The images carrying `label` (`name=value`)."""
        found: list[dict[str, Any]] = self._call(
            "GET", "/images/json", params={"filters": json.dumps({"label": [label]})}
        ).json()
        return found

    def remove_image(self, image: str) -> None:
        """Remove `image` (not forced: one a container still uses stays)."""
        self._call("DELETE", f"/images/{image}")

    def create(self, name: str, body: Mapping[str, Any]) -> str:
        """Create a container named `name` from `body`; its id."""
        created = self._call("POST", "/containers/create", params={"name": name}, json=body)
        container: str = created.json()["Id"]
        return container

    def start(self, container: str) -> None:
        """Start `container`."""
        self._call("POST", f"/containers/{container}/start")

    def inspect(self, container: str) -> dict[str, Any] | None:
        """What the engine knows of `container`, or None when there is no such container."""
        try:
            found: dict[str, Any] = self._call("GET", f"/containers/{container}/json").json()
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        return found

    def stop(self, container: str, *, grace_seconds: float) -> None:
        """Stop `container` (SIGTERM, SIGKILL after `grace_seconds`) and remove it, if it exists."""
        grace = max(0, round(grace_seconds))
        for method, path, params in (
            ("POST", f"/containers/{container}/stop", {"t": str(grace)}),
            ("DELETE", f"/containers/{container}", {"force": "1"}),
        ):
            try:
                self._call(method, path, params=params, timeout=_SECONDS + grace)
            except EngineError as error:
                if error.status != 404:
                    raise

    def wait(self, container: str) -> int | None:
        """Wait until `container` stops: its exit status, or None when it was removed."""
        try:
            response = self._call("POST", f"/containers/{container}/wait", timeout=_STREAMING)
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        status: int = response.json()["StatusCode"]
        return status

    def logs(self, container: str) -> _Stream:
        """The output of `container` (stdout and stderr together), from its start to its end."""
        params = {"follow": "1", "stdout": "1", "stderr": "1"}
        return self._stream("GET", f"/containers/{container}/logs", params=params, frames=True)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._check_socket()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        if response.is_error:
            raise EngineError(_message(response), response.status_code)
        return response

    def _stream(self, method: str, path: str, *, frames: bool = False, **kwargs: Any) -> _Stream:
        self._check_socket()
        request = self._http.build_request(method, path, timeout=_STREAMING, **kwargs)
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        if response.is_error:
            response.read()
            response.close()
            raise EngineError(_message(response), response.status_code)
        return _Stream(response, frames=frames)

    def _check_socket(self) -> None:
        """Raise if there is no socket to connect to (a clearer error than the connection's)."""
        if not self._socket.is_socket():
            raise EngineError(f"There is no Docker engine socket at {self._socket}")

    def _unreachable(self, error: httpx.HTTPError) -> EngineError:
        return EngineError(f"The Docker engine at {self._socket} did not answer: {error}")


class _Stream(io.BufferedReader):
    """A response body as a buffered binary file (`readline(limit)`), closing the response.

    With `frames`, the body is the engine's multiplexed output (an 8-byte header before each
    piece: its stream and its size), read as the pieces alone.
    """

    def __init__(self, response: httpx.Response, *, frames: bool) -> None:
        chunks = response.iter_raw()
        raw = _Frames(chunks) if frames else _Chunks(chunks)
        super().__init__(raw)
        self._response = response

    def close(self) -> None:
        self._response.close()
        super().close()


class _Chunks(io.RawIOBase):
    """The bytes of an iterator of chunks, as a raw file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._next()
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next(self) -> bytes | None:
        try:
            return next(self._chunks)
        except (StopIteration, httpx.HTTPError):  # the end, or the engine went away
            return None


class _Frames(_Chunks):
    """The pieces of the engine's multiplexed output, without their headers."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__(chunks)
        self._data = b""
        self._left = 0
        """What remains of the current frame's piece."""

    def _next(self) -> bytes | None:
        while True:
            if self._left and self._data:
                piece = self._data[: self._left]
                self._data = self._data[len(piece) :]
                self._left -= len(piece)
                return piece
            if not self._left and len(self._data) >= _FRAME_HEADER.size:
                _, self._left = _FRAME_HEADER.unpack_from(self._data)
                self._data = self._data[_FRAME_HEADER.size :]
                continue
            chunk = super()._next()
            if chunk is None:
                return None
            self._data += chunk


def _message(response: httpx.Response) -> str:
    """The engine's message of an error response."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return f"The Docker engine answered {response.status_code}: {response.text[:500]}"
