"""`XorbStore`: serialized xorbs by Xet hash, written whole and visible once in place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from hubstead.server.domain.upkeep import Leftover
from hubstead.server.storage.blobs import BlobStat, BlobStore

Files = TypeVar("Files", bound=BlobStore)


class XorbStore(Protocol):
    """Content-addressed storage of xorbs (the footer-less form clients upload), by hex hash.

    The store does not check content: the caller stores a xorb only after verifying it.
    """

    def put(self, hash: str, data: bytes) -> bool:
        """Store the xorb atomically; False when it was already stored (then it is `touch`ed)."""

    def touch(self, hash: str) -> bool:
        """Mark the stored xorb as written now; False when it is not stored.

        An upload that relies on a stored xorb touches it first, and gc keeps what was written
        within its grace period: so gc never deletes a xorb an upload is about to use.
        """

    def read(self, hash: str, start: int, end: int) -> bytes:
        """Bytes `[start, end)` of the xorb (BlobNotFoundError when missing; short past its end)."""

    def size(self, hash: str) -> int | None:
        """The stored xorb's length, or None when it is not stored."""

    def download_url(self, hash: str, start: int, end: int, ttl: int) -> str | None:
        """A URL of another host serving bytes `start..end` (inclusive) for `ttl` seconds, or None.

        Fetched with exactly `Range: bytes=<start>-<end>` (signed in: it gives no other bytes
        of the xorb, which may hold chunks of other files).
        """

    def local_path(self, hash: str) -> Path | None:
        """A local file holding the xorb, or None when not local."""

    def stat(self, hash: str) -> BlobStat | None:
        """The stored xorb's size and write time, or None when it is not stored."""

    def hashes(self) -> Iterator[str]:
        """Every stored xorb."""

    def delete_unless(self, hash: str, keep: Callable[[BlobStat], bool]) -> bool:
        """Delete the xorb unless `keep`, asked once no reader can reach it, says to keep it."""

    def leftovers(self) -> Iterator[Leftover]:
        """Temporary files of writes that never finished (or are still running)."""

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Delete a temporary file not written to since `written_before`; whether it did."""


class BlobBackedXorbs(Generic[Files]):
    """The half of a `XorbStore` that is a blob store's, keyed by the xorb's hash.

    The file and S3 xorb stores each keep their xorbs in a blob store of their own (the content
    check left to the caller) and add writing, touching and ranged reads.
    """

    def __init__(self, files: Files) -> None:
        self._files = files

    def size(self, hash: str) -> int | None:
        """The xorb's length, or None when it is not stored."""
        return self._files.size(hash)

    def stat(self, hash: str) -> BlobStat | None:
        """The xorb's size and last write (or touch), or None when it is not stored."""
        return self._files.stat(hash)

    def hashes(self) -> Iterator[str]:
        """Every stored xorb's hash."""
        return self._files.digests()

    def delete_unless(self, hash: str, keep: Callable[[BlobStat], bool]) -> bool:
        """See `BlobStore.delete_unless`."""
        return self._files.delete_unless(hash, keep)

    def leftovers(self) -> Iterator[Leftover]:
        """Writes never completed, and deletions gc never finished."""
        return self._files.leftovers()

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """See `BlobStore.remove_leftover`."""
        return self._files.remove_leftover(leftover, written_before)
