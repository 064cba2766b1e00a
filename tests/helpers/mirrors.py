"""Mirror test helpers: hubs, sync jobs run through the runner, and upstream faults."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubstead.protocol import RepoType
from hubstead.server.app import build_runner
from hubstead.server.domain.jobs import JobRecord
from hubstead.server.domain.mirrors import MirrorRecord
from hubstead.server.jobs.runner import JobRunner, RetryPolicy
from hubstead.server.services.mirrors import MirrorConfig
from tests.helpers.databases import postgres_database
from tests.helpers.live_server import LiveServer, start_server


@contextlib.contextmanager
def hub(data_dir: Path, postgres: bool, **overrides: Any) -> Iterator[LiveServer]:
    """A hub of its own on the chosen database."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if postgres else None
        server = start_server(data_dir, url, **overrides)
        stack.callback(server.stop)
        yield server


def runner(server: LiveServer) -> JobRunner:
    """The hub's job runner, retrying failed attempts at once (tests never wait on backoff)."""
    runner = build_runner(server.services)
    runner.retry = RetryPolicy(base_seconds=0.0, max_seconds=0.0)
    return runner


def add_mirror(
    server: LiveServer, repo_id: str, upstream: str, repo_type: str = "model", **config: Any
) -> MirrorRecord:
    """Register a mirror on `server` as `hubstead mirror add` does."""
    return server.services.mirrors.add(
        RepoType(repo_type), repo_id, MirrorConfig(upstream, **config)
    )


def sync(server: LiveServer, repo_id: str, repo_type: str = "model") -> JobRecord:
    """Queue a sync of the mirror and run it once through the runner; the job as it ended."""
    job = server.services.mirrors.sync(RepoType(repo_type), repo_id)
    ran = runner(server).run_job(job.id)
    assert ran is not None, f"the sync job {job.id} was not due or was taken by another runner"
    return ran


class FaultProxy:
    """A TCP proxy in front of a hub that can corrupt or slow down chosen responses.

    Rules apply to the response to every GET whose path contains a given part: `corrupt` flips
    the first byte of its body (status and headers stay), like a broken disk or cache upstream;
    `throttle` sends it in small pieces with a pause after each, like a slow link. `requests`
    holds the request line of every request.
    """

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[str] = []
        self.corrupted = 0
        self._corrupt: str | None = None
        self._throttle: tuple[str, int, float] | None = None
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def corrupt(self, path_part: str | None) -> None:
        """Corrupt the body of every response to a GET whose path contains `path_part`.

        None stops corrupting.
        """
        self._corrupt = path_part

    def throttle(self, path_part: str, piece: int, pause: float) -> None:
        """Send responses to matching GETs `piece` bytes at a time, `pause` seconds apart."""
        self._throttle = (path_part, piece, pause)

    def matching(self, path_part: str) -> list[str]:
        """The request lines of GETs whose path contains `path_part`."""
        return [r for r in self.requests if r.startswith("GET ") and path_part in r]

    def close(self) -> None:
        """Go away as a dead upstream does: refuse new connections, cut the open ones."""
        self._closed = True
        _close(self._listener, *self._sockets)  # shutdown wakes the thread blocked in accept

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._listener.fileno() < 0:  # closed while this connection came in
                _close(client)
                return
            upstream = socket.create_connection(self._target)
            self._sockets.extend((client, upstream))
            state: dict[str, object] = {}
            for pipe in (self._forward, self._backward):
                threading.Thread(target=pipe, args=(client, upstream, state), daemon=True).start()

    def _forward(
        self, client: socket.socket, upstream: socket.socket, state: dict[str, object]
    ) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                if line.split(" ", 1)[0] in ("GET", "HEAD", "POST", "PUT"):
                    self.requests.append(line)
                    get = line.startswith("GET ")
                    state["corrupt"] = get and self._corrupt is not None and self._corrupt in line
                    throttle = self._throttle
                    state["throttle"] = (
                        throttle if get and throttle and throttle[0] in line else None
                    )
                upstream.sendall(data)
        _close(client, upstream)

    def _backward(
        self, client: socket.socket, upstream: socket.socket, state: dict[str, object]
    ) -> None:
        in_body = False
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                buffer = bytearray(data)
                if state.get("corrupt"):
                    if not in_body and (end := buffer.find(b"\r\n\r\n")) >= 0:
                        in_body, start = True, end + 4
                    else:
                        start = 0 if in_body else -1
                    if 0 <= start < len(buffer):
                        buffer[start] ^= 0xFF
                        state["corrupt"], in_body = False, False
                        self.corrupted += 1
                throttle = state.get("throttle")
                if isinstance(throttle, tuple):
                    _, piece, pause = throttle
                    for offset in range(0, len(buffer), piece):
                        client.sendall(bytes(buffer[offset : offset + piece]))
                        time.sleep(pause)
                else:
                    client.sendall(bytes(buffer))
        _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a directory unwritable for the block, also for root (with `chattr +i`)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without chattr +i: cannot make a directory read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)
