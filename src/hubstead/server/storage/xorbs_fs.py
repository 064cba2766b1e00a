"""`XorbStore` on the local filesystem: `<root>/<h[:2]>/<h[2:4]>/<h>`, by Xet hex hash.

A xorb store is a blob store keyed by another hash: the same fan-out, atomic writes through
`.tmp/`, and race-free deletion, with the content check left to the caller (a xorb's hash is
a Merkle hash of its decompressed chunks, which only the Xet service computes).
"""

from __future__ import annotations

import os
from pathlib import Path

from hubstead.server.storage.blobs_fs import FsBlobStore, FsBlobWriter
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.xorbs import BlobBackedXorbs


class FsXorbStore(BlobBackedXorbs[FsBlobStore]):
    """Xorbs as files under one root."""

    def __init__(self, root: Path) -> None:
        super().__init__(FsBlobStore(root))

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

    def download_url(self, hash: str, start: int, end: int, ttl: int) -> str | None:
        """None: the hub serves xorb ranges from the local files."""
        return None

    def local_path(self, hash: str) -> Path | None:
        """The xorb's file, or None when it is not stored."""
        return self._files.local_path(hash)
