"""`XorbStore` on the local filesystem: `<root>/<h[:2]>/<h[2:4]>/<h>`, by Xet hex hash.

A xorb store is a blob store keyed by another hash: the same fan-out, atomic writes through
`.tmp/`, and race-free deletion, with the content check left to the caller (a xorb's hash is
a Merkle hash of its decompressed chunks, which only the Xet service computes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from hubstead.server.domain.upkeep import Leftover
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.blobs_fs import FsBlobStore, FsBlobWriter
from hubstead.server.storage.errors import BlobNotFoundError


class FsXorbStore:
    """Xorbs as files under one root."""

    def __init__(self, root: Path) -> None:
        self._files = FsBlobStore(root)

    def put(self, hash: str, data: bytes) -> bool:
        """Write the xorb unless it is stored; a concurrent writer of the same xorb is harmless."""
        if self.touch(hash):
            return False
        writer = FsBlobWriter(self._files.temp_dir, self._files.path(hash), len(data), None)
        writer.write(data)
        writer.commit()
        return True

    def touch(self, hash: str) -> bool:
        """Set the file's mtime to now (what gc's grace period counts from)."""
        try:
            os.utime(self._files.path(hash))
        except FileNotFoundError:
            return False
        return True

    def read(self, hash: str, start: int, end: int) -> bytes:
        """Bytes `[start, end)`, in one positioned read."""
        try:
            descriptor = os.open(self._files.path(hash), os.O_RDONLY)
        except FileNotFoundError as exc:
            raise BlobNotFoundError(hash) from exc
        try:
            return os.pread(descriptor, max(0, end - start), start)
        finally:
            os.close(descriptor)

    def size(self, hash: str) -> int | None:
        """The xorb's length, or None when it is not stored."""
        return self._files.size(hash)

    def download_url(self, hash: str, start: int, end: int, ttl: int) -> str | None:
        """None: the hub serves xorb ranges from the local files."""
        return None

    def local_path(self, hash: str) -> Path | None:
        """The xorb's file, or None when it is not stored."""
        return self._files.local_path(hash)

    def stat(self, hash: str) -> BlobStat | None:
        """The xorb's size and mtime, or None when it is not stored."""
        return self._files.stat(hash)

    def hashes(self) -> Iterator[str]:
        """Every stored xorb's hash."""
        return self._files.digests()

    def delete_unless(self, hash: str, keep: Callable[[BlobStat], bool]) -> bool:
        """See `FsBlobStore.delete_unless`."""
        return self._files.delete_unless(hash, keep)

    def leftovers(self) -> Iterator[Leftover]:
        """Files in `.tmp/`: writes in progress or interrupted, and deletions gc never finished."""
        return self._files.leftovers()

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """See `FsBlobStore.remove_leftover`."""
        return self._files.remove_leftover(leftover, written_before)
