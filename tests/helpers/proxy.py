"""A TCP proxy in front of a hub that records each request and can fail chosen ones.

A dropped request is never forwarded: the client's connection is closed under it, as when a
network fails or a server dies mid-upload. The proxy relies on the client not pipelining (HTTP/1.1
clients do not), so every request head starts a read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading

_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ")


@dataclasses.dataclass(frozen=True)
class Seen:
    """A request that reached the proxy."""

    method: str
    path: str
    headers: dict[str, str]
    dropped: bool


class RecordingProxy:
    """Pipes connections to `127.0.0.1:target_port`, recording request heads in `seen`."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.seen: list[Seen] = []
        self._rule: tuple[str, str, int] | None = None
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def drop(self, method: str, path_part: str, nth: int = 1) -> None:
        """Fail the `nth` next request of `method` whose path contains `path_part`."""
        with self._lock:
            self._rule = (method, path_part, nth)

    def requests(self, method: str, path_part: str = "") -> list[Seen]:
        """The forwarded (not dropped) requests of `method` whose path contains `path_part`."""
        with self._lock:
            return [
                s for s in self.seen if s.method == method and path_part in s.path and not s.dropped
            ]

    def close(self) -> None:
        """Stop accepting connections."""
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for sock in (client, upstream):
                # Forward small writes at once: Nagle's algorithm would hold each for an ACK.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._forward, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._backward, args=(client, upstream), daemon=True).start()

    def _forward(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(1 << 16):
                if data.startswith(_METHODS) and self._record(data):
                    break
                upstream.sendall(data)
        _close(client, upstream)

    def _record(self, data: bytes) -> bool:
        """Record a request head; True if it must be dropped."""
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        method, path = request_line.split(" ")[:2]
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        with self._lock:
            drop = False
            if self._rule is not None and self._rule[0] == method and self._rule[1] in path:
                remaining = self._rule[2] - 1
                self._rule = None if remaining == 0 else (method, self._rule[1], remaining)
                drop = remaining == 0
            self.seen.append(Seen(method, path, headers, drop))
        return drop

    def _backward(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(1 << 16):
                client.sendall(data)
        _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
