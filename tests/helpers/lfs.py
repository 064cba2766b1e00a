"""LFS test helpers: a hub with small multipart parts, batch requests, a fault-injecting proxy."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from hubstead.server.services.clock import Clock, utcnow
from tests.helpers.databases import postgres_database
from tests.helpers.live_server import LiveServer, start_server

MiB = 1024 * 1024
# Objects of 4 MiB and more are offered multipart transfer, in 1 MiB parts.
SMALL_LFS_SETTINGS: dict[str, Any] = {
    "lfs_multipart_threshold_bytes": 4 * MiB,
    "lfs_chunk_bytes": MiB,
}
LFS_HEADERS = {
    "accept": "application/vnd.git-lfs+json",
    "content-type": "application/vnd.git-lfs+json",
}


def sha256(data: bytes) -> str:
    """The hex sha256 of `data` (an LFS object id)."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in large chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def lfs_server(
    data_dir: Path, postgres: bool, *, clock: Clock = utcnow, **overrides: Any
) -> Iterator[LiveServer]:
    """A hub of its own with small multipart parts (and `overrides`), on the chosen database."""
    settings = {**SMALL_LFS_SETTINGS, **overrides}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if postgres else None
        server = start_server(data_dir, url, clock=clock, **settings)
        stack.callback(server.stop)
        yield server


def batch(
    http: httpx.Client,
    repo: str,
    operation: str,
    objects: list[dict[str, Any]],
    *,
    transfers: list[str] | None = None,
    prefix: str = "",
) -> httpx.Response:
    """POST an LFS batch request as the official client builds it."""
    body = {
        "operation": operation,
        "transfers": transfers if transfers is not None else ["basic", "multipart"],
        "objects": objects,
        "hash_algo": "sha256",
    }
    return http.post(f"/{prefix}{repo}.git/info/lfs/objects/batch", json=body, headers=LFS_HEADERS)


def blob_files(server: LiveServer) -> list[Path]:
    """The stored objects under the server's blob directory (temp and upload areas excluded)."""
    root = server.data_dir / "blobs"
    return [p for p in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*") if p.is_file()]


class CuttingProxy:
    """A TCP proxy in front of a hub that can cut one download short, like a dropped network.

    Each connection is piped both ways. It records the request heads it forwards; once armed
    with `cut_next(path_prefix, after)`, the response to the next GET whose path starts with
    `path_prefix` is cut `after` bytes in (both sockets closed). `served` counts response bytes.
    """

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[str] = []
        self.served = 0
        self._cut: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_next(self, path_prefix: str, after: int) -> None:
        """Cut the next response to `GET {path_prefix}…` after `after` bytes."""
        self._cut = (path_prefix, after)

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
            budget: list[int | None] = [None]
            for pipe in (self._requests, self._responses):
                threading.Thread(target=pipe, args=(client, upstream, budget), daemon=True).start()

    def _requests(
        self, client: socket.socket, upstream: socket.socket, budget: list[int | None]
    ) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                for line in data.split(b"\r\n\r\n"):
                    head = line.decode("latin-1")
                    if head.split(" ", 1)[0] in ("GET", "HEAD", "POST", "PUT"):
                        self._record(head, budget)
                upstream.sendall(data)
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_WR)

    def _record(self, head: str, budget: list[int | None]) -> None:
        with self._lock:
            self.requests.append(head)
            method, _, rest = head.partition(" ")
            if self._cut is not None and method == "GET" and rest.startswith(self._cut[0]):
                budget[0] = self._cut[1]
                self._cut = None

    def _responses(
        self, client: socket.socket, upstream: socket.socket, budget: list[int | None]
    ) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                limit = budget[0]
                if limit is not None and len(data) >= limit:
                    client.sendall(data[:limit])
                    self._count(limit)
                    break
                if limit is not None:
                    budget[0] = limit - len(data)
                client.sendall(data)
                self._count(len(data))
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _count(self, amount: int) -> None:
        with self._lock:
            self.served += amount
