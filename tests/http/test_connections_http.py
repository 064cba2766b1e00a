"""Connection limits: request heads bounded in size, fields and time; open connections bounded.

Raw sockets, because HTTP clients refuse to send what these tests send.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.sockets import connect, read_answer, send_until_answered


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A hub with a one-second head deadline."""
    server = start_server(tmp_path_factory.mktemp("strict"), header_timeout_seconds=1)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A hub with room for four connections."""
    server = start_server(tmp_path_factory.mktemp("crowded"), max_connections=4)
    yield server
    server.stop()


def test_a_request_head_over_max_header_bytes_is_refused_with_431(
    live_server: LiveServer,
) -> None:
    head = b"GET /api/whoami-v2 HTTP/1.1\r\nHost: hub\r\nX-Padding: " + b"a" * (4 * 1024 * 1024)
    with connect(live_server) as sock:
        send_until_answered(sock, head + b"\r\n\r\n")
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"x-error-message: The request head is larger than 65536 bytes" in answer


def test_a_whole_head_over_max_header_bytes_in_one_piece_is_refused_with_431(
    live_server: LiveServer,
) -> None:
    # 70 KiB sent at once, with a body behind it: the head is measured exactly.
    head = b"POST /api/whoami-v2 HTTP/1.1\r\nHost: hub\r\nContent-Length: 2\r\n"
    head += b"X-Padding: " + b"a" * (70 * 1024) + b"\r\n\r\nhi"
    with connect(live_server) as sock:
        sock.sendall(head)
        assert read_answer(sock).startswith(b"HTTP/1.1 431 ")


def test_a_request_with_more_than_max_header_count_fields_is_refused_with_431(
    live_server: LiveServer,
) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(1000))
    with connect(live_server) as sock:
        sock.sendall(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: hub\r\n" + fields + b"\r\n")
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"at most 100 headers" in answer


def test_a_normal_request_is_served_by_the_limited_server(live_server: LiveServer) -> None:
    headers = {f"X-F{i}": "v" * 500 for i in range(50)}
    response = httpx.get(f"{live_server.url}/api/models", headers=headers)
    assert response.status_code == 200


def test_a_request_head_that_does_not_arrive_in_time_is_answered_408(
    strict_server: LiveServer,
) -> None:
    with connect(strict_server) as sock:
        sock.sendall(b"GET /api/models HTTP/1.1\r\nHost: hub\r\n")  # and never the end
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_connection_that_sends_nothing_is_closed_after_the_head_deadline(
    strict_server: LiveServer,
) -> None:
    with connect(strict_server) as sock:
        assert read_answer(sock) == b""


def test_idle_connections_over_max_connections_make_room_for_a_client(
    crowded_server: LiveServer,
) -> None:
    idle = [connect(crowded_server) for _ in range(4)]
    try:
        with httpx.Client(base_url=crowded_server.url) as client:
            assert client.get("/api/models").status_code == 200
        # The client's connection closed the oldest idle one, long before the head deadline.
        idle[0].settimeout(5)
        assert read_answer(idle[0]) == b""
    finally:
        for sock in idle:
            sock.close()


def test_settings_reject_a_negative_max_connections(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_connections: must not be negative"):
        start_server(tmp_path / "hub", max_connections=-1)
