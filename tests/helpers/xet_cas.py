"""Raw Xet CAS traffic for tests: tokens from a live hub, and xorbs and shards built byte for byte.

What hf_xet would send, built with the hub's own format package (`hubstead.xet`), so a test can
send it as is or change one field to see the hub refuse it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from hubstead.xet.chunking import chunks
from hubstead.xet.hashing import (
    chunk_hash,
    file_hash,
    hash_from_hex,
    hash_to_hex,
    verification_hash,
)
from hubstead.xet.shard import FileInfo, FileSegment, Shard, serialize_shard
from hubstead.xet.xorb import build_xorb


@dataclasses.dataclass(frozen=True)
class XetUpload:
    """One file as a client uploads it: one xorb of its chunks, and the file's shard entry."""

    data: bytes
    xorb_hash: str
    xorb: bytes
    file: FileInfo
    chunk_hashes: tuple[bytes, ...]

    @property
    def file_hash(self) -> str:
        """The file's Xet hash, as URLs name it."""
        return hash_to_hex(self.file.file_hash)

    @property
    def first_chunk_hash(self) -> str:
        """The hash of the file's first chunk, which global dedup always tracks."""
        return hash_to_hex(self.chunk_hashes[0])

    @property
    def sha256(self) -> str:
        """The file's sha256 (what a commit's `lfsFile` names)."""
        return hashlib.sha256(self.data).hexdigest()

    def shard(self, **changes: Any) -> bytes:
        """The upload shard (no footer) describing the file, with `changes` to its entry."""
        return serialize_shard(Shard(files=(dataclasses.replace(self.file, **changes),), xorbs=()))


def build_upload(data: bytes) -> XetUpload:
    """The xorb and shard entry hf_xet would make of `data` (one xorb: at most 64 MiB)."""
    pieces = list(chunks([data]))
    xorb_hash, xorb = build_xorb(pieces)
    hashes = [chunk_hash(piece) for piece in pieces]
    segment = FileSegment(xorb_hash, len(data), 0, len(pieces))
    file = FileInfo(
        file_hash=file_hash(list(zip(hashes, map(len, pieces), strict=True))),
        segments=(segment,),
        verification=(verification_hash(hashes),),
        sha256=hash_from_hex(hashlib.sha256(data).hexdigest()),
    )
    return XetUpload(data, hash_to_hex(xorb_hash), xorb, file, tuple(hashes))


def cas_token(
    http: httpx.Client, repo: str, scope: str = "write", *, repo_type: str = "model"
) -> tuple[str, str]:
    """(CAS URL, access token) from a repo's `xet-{scope}-token` route, as `http` may get it."""
    response = http.get(f"/api/{repo_type}s/{repo}/xet-{scope}-token/main")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["casUrl"], body["accessToken"]


@contextmanager
def cas_client(cas_url: str, token: str | None) -> Iterator[httpx.Client]:
    """An httpx client on the CAS, sending `token` as bearer (none: no Authorization header)."""
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=cas_url, headers=headers, timeout=60) as client:
        yield client


@contextmanager
def cas_for(http: httpx.Client, repo: str, scope: str = "write") -> Iterator[httpx.Client]:
    """A CAS client with a fresh `scope` token for the repo, as `http`'s user gets it."""
    url, token = cas_token(http, repo, scope)
    with cas_client(url, token) as client:
        yield client


def upload(cas: httpx.Client, file: XetUpload) -> None:
    """Upload the file's xorb and shard, as hf_xet does before the commit that names it."""
    response = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
    assert response.status_code == 200, response.text
    response = cas.post("/v1/shards", content=file.shard())
    assert response.status_code == 200, response.text
