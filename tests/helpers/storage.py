"""Storage test helpers: LFS content made with the official client, and where it lies on disk."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
from huggingface_hub import HfApi

from tests.helpers.lfs import batch
from tests.helpers.live_server import LiveServer


def lfs_bytes(label: str, size: int = 256) -> bytes:
    """Content no other test uploads (so no object is shared by accident)."""
    return label.encode() + os.urandom(size)


def upload_lfs(api: HfApi, repo_id: str, path: str, data: bytes, **kwargs: Any) -> str:
    """Upload `data` at `path` (a `*.bin` path goes through LFS); return its sha256."""
    api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo_id, **kwargs)
    return hashlib.sha256(data).hexdigest()


def blob_path(server: LiveServer, sha256: str) -> Path:
    """Where the server's blob store keeps an object."""
    return server.data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256


def uploads_dir(server: LiveServer) -> Path:
    """Where unfinished multipart uploads live."""
    return server.data_dir / "blobs" / ".uploads"


def storage_args(server: LiveServer) -> list[str]:
    """The CLI options that point at the server's data dir and database."""
    args = ["--data-dir", str(server.data_dir)]
    if server.settings.database_url is not None:
        args += ["--database-url", server.settings.database_url]
    return args


def send_first_part(server: LiveServer, token: str, repo_id: str, data: bytes) -> dict[str, Any]:
    """Start a multipart LFS upload of `data` as the client does, sending only part 1.

    Returns the batch answer's upload action (its `header` maps part numbers to URLs).
    """
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {token}"}) as http:
        obj = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}
        answer = batch(http, repo_id, "upload", [obj])
        answer.raise_for_status()
        upload: dict[str, Any] = answer.json()["objects"][0]["actions"]["upload"]
        chunk = int(upload["header"]["chunk_size"])
        http.put(upload["header"]["1"], content=data[:chunk]).raise_for_status()
    return upload


def send_remaining_parts(upload: dict[str, Any], data: bytes) -> None:
    """Send the other parts of an upload begun by `send_first_part`, then complete it."""
    chunk = int(upload["header"]["chunk_size"])
    count = -(-len(data) // chunk)
    with httpx.Client() as http:
        for number in range(2, count + 1):
            part = data[(number - 1) * chunk : number * chunk]
            http.put(upload["header"][str(number)], content=part).raise_for_status()
        parts = [{"partNumber": n, "etag": ""} for n in range(1, count + 1)]
        body = {"oid": hashlib.sha256(data).hexdigest(), "parts": parts}
        http.post(upload["href"], json=body).raise_for_status()
