"""Abuse of connections: huge request heads, floods of header fields, slowloris.

Slow (seconds each), bounded: loopback only, at most 32 connections, loops that end by
themselves. Each attack runs while a normal client keeps asking, and the normal client must be
answered throughout.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.sockets import connect, read_answer, send_until_answered

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A hub with room for 16 connections and a two-second head deadline."""
    server = start_server(
        tmp_path_factory.mktemp("small"), max_connections=16, header_timeout_seconds=2
    )
    yield server
    server.stop()


def _while_attacked(server: LiveServer, attack: Callable[[], bytes], attackers: int) -> list[bytes]:
    """Run `attackers` copies of `attack` while a normal client asks 20 times; its answers."""
    with ThreadPoolExecutor(attackers + 1) as pool:
        attacks = [pool.submit(attack) for _ in range(attackers)]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            statuses = [client.get("/api/models").status_code for _ in range(20)]
        answers = [attack.result(timeout=60) for attack in attacks]
    assert statuses == [200] * 20
    return answers


def test_huge_headers_are_refused_while_other_clients_are_served(
    live_server: LiveServer,
) -> None:
    def attack() -> bytes:
        head = b"GET /api/models HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"a" * (64 * 1024 * 1024)
        with connect(live_server) as sock:
            send_until_answered(sock, head + b"\r\n\r\n")
            return read_answer(sock)

    for answer in _while_attacked(live_server, attack, attackers=8):
        assert answer.startswith(b"HTTP/1.1 431 ")


def test_floods_of_header_fields_are_refused_while_other_clients_are_served(
    live_server: LiveServer,
) -> None:
    def attack() -> bytes:
        fields = b"".join(b"X-%d: v\r\n" % i for i in range(100_000))
        with connect(live_server) as sock:
            send_until_answered(sock, b"GET /api/models HTTP/1.1\r\nHost: hub\r\n" + fields)
            return read_answer(sock)

    for answer in _while_attacked(live_server, attack, attackers=8):
        assert answer.startswith(b"HTTP/1.1 431 ")


def test_slowloris_connections_are_closed_while_other_clients_are_served(
    small_server: LiveServer,
) -> None:
    # Twice as many connections as the server keeps, each sending a header line per half
    # second for up to 30 s: the server must close every one of them first.
    def attack() -> bytes:
        with connect(small_server) as sock:
            sock.sendall(b"GET /api/models HTTP/1.1\r\nHost: hub\r\n")
            sock.settimeout(0.5)
            for line in range(60):
                try:
                    received = sock.recv(65536)
                except TimeoutError:
                    try:
                        sock.sendall(b"X-%d: v\r\n" % line)
                    except (BrokenPipeError, ConnectionResetError):
                        return b""
                    continue
                except ConnectionResetError:
                    return b""
                return received
            return b"still open"

    answers = _while_attacked(small_server, attack, attackers=32)
    assert b"still open" not in answers
    for answer in answers:
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    # The deadline closed the last of them: none of the 32 is left over.
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=10) as sock:
        sock.sendall(b"GET /api/models HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
