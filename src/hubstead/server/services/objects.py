"""`LfsObjects`: where the bytes of an LFS object (named by sha256) are kept, and reading them.

An object is held one of two ways, and once: as a blob under its sha256 (uploaded through the
LFS API or git-lfs, or fetched by a mirror), or as a Xet file whose chunks are in xorbs
(uploaded through Xet), reconstructed whenever it is read by sha256. Who may reach an object
is the LFS index's business (`LfsIndex`), whichever way it is held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator

from hubstead.server import errors
from hubstead.server.domain.xet import XetFileRecord
from hubstead.server.services.xet.content import XetContent
from hubstead.server.storage.blobs import BlobStore
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.xet_index import XetIndex

_PIECE = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class XetHeld:
    """An object held as a Xet file: its record, and its bytes `start..end` (inclusive)."""

    file: XetFileRecord
    read: Callable[[int, int], Iterator[bytes]]


@dataclasses.dataclass(frozen=True)
class Held:
    """An object the hub holds: its size, and `xet` when it is held as a Xet file."""

    size: int
    xet: XetHeld | None


def read_range(blobs: BlobStore, sha256: str, start: int, end: int) -> Iterator[bytes]:
    """Bytes `start..end` (inclusive) of an object of `blobs`, in pieces of 1 MiB.

    Raises:
        NotFoundError: it is not stored (raised at the first piece).
    """
    try:
        with blobs.open(sha256) as file:
            file.seek(start)
            remaining = end + 1 - start
            while remaining > 0 and (chunk := file.read(min(_PIECE, remaining))):
                remaining -= len(chunk)
                yield chunk
    except BlobNotFoundError as exc:
        raise errors.NotFoundError(f"Object {sha256} is not stored") from exc


class LfsObjects:
    """The stored LFS objects, blobs and Xet files alike."""

    def __init__(self, blobs: BlobStore, xet_index: XetIndex, xet_content: XetContent) -> None:
        self._blobs = blobs
        self._xet_index = xet_index
        self._xet_content = xet_content

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when the hub holds it neither way."""
        held = self.held(sha256)
        return None if held is None else held.size

    def held(self, sha256: str) -> Held | None:
        """How the object is held (its size, and its Xet file if it is one), or None."""
        size = self._blobs.size(sha256)
        if size is not None:
            return Held(size, None)
        held = self.as_xet(sha256)
        return None if held is None else Held(held.file.size, held)

    def content(self, held: Held, sha256: str) -> Iterator[bytes]:
        """The whole of an object `held` says the hub holds, in pieces, however it is held.

        Raises:
            NotFoundError: it went missing since (raised at the first piece).
        """
        if held.size == 0:
            return iter(())
        if held.xet is not None:
            return held.xet.read(0, held.size - 1)
        return self.read_blob(sha256, 0, held.size - 1)

    def read(self, sha256: str, offset: int, length: int) -> bytes | None:
        """Up to `length` bytes of the object from `offset` (fewer at its end), None if not held.

        For small reads (file headers): the bytes are returned whole.
        """
        size = self.size(sha256)
        if size is None:
            return None
        end = min(offset + length, size) - 1
        if end < offset:
            return b""
        try:
            with self._blobs.open(sha256) as file:
                file.seek(offset)
                return file.read(end - offset + 1)
        except BlobNotFoundError:  # held as a Xet file (or deleted since `size` found it)
            held = self.as_xet(sha256)
            return None if held is None else b"".join(held.read(offset, end))

    def read_blob(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start..end` (inclusive) of an object held as a blob, in pieces of 1 MiB.

        Raises:
            NotFoundError: it is not stored as a blob (raised at the first piece).
        """
        return read_range(self._blobs, sha256, start, end)

    def as_xet(self, sha256: str) -> XetHeld | None:
        """The object as a Xet file, when it is held as one."""
        file = self._xet_index.file_for_sha256(sha256)
        if file is None:
            return None

        def read(start: int, end: int) -> Iterator[bytes]:
            return self._xet_content.read(file, start, end)

        return XetHeld(file, read)

    def xet_files(self, digests: Collection[str]) -> dict[str, XetFileRecord]:
        """The Xet files of those objects that have one (in one query)."""
        return self._xet_index.files_for_sha256(digests)
