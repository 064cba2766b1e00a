"""Raw HTTP over sockets, for sending what HTTP clients refuse to send (huge or endless heads)."""

from __future__ import annotations

import select
import socket

from tests.helpers.live_server import LiveServer

_PIECE = 64 * 1024


def connect(server: LiveServer) -> socket.socket:
    """A TCP connection to the server, with a 10 s timeout on every operation."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def send_until_answered(sock: socket.socket, data: bytes) -> None:
    """Send `data` in pieces, stopping early when the server answers (it may refuse midway)."""
    for start in range(0, len(data), _PIECE):
        if select.select([sock], [], [], 0)[0]:
            return
        try:
            sock.sendall(data[start : start + _PIECE])
        except (BrokenPipeError, ConnectionResetError):
            return


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received
