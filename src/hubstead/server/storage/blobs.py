"""`BlobStore`: LFS objects by sha256, written through a `BlobWriter` and visible once verified."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from hubstead.server.domain.upkeep import Leftover


class BlobWriter(Protocol):
    """An object being written: nothing is visible until `commit` succeeds."""

    def write(self, chunk: bytes) -> None:
        """Append bytes (BlobMismatchError past the announced size)."""

    def commit(self) -> str:
        """Verify the bytes, make them visible, return their sha256 (BlobMismatchError if wrong).

        A part writer returns the part's ETag instead (see `BlobStore.part_writer`).
        """

    def abort(self) -> None:
        """Drop what was written."""


@dataclasses.dataclass(frozen=True)
class BlobStat:
    """A stored object's size and when its bytes were last written (seconds since the epoch)."""

    size: int
    modified_at: float


class BlobStore(Protocol):
    """Content-addressed storage of LFS objects, keyed by their sha256 (lowercase hex).

    Writes stream to a temporary file while hashing and become visible only once verified.
    Multipart uploads keep their parts until `complete_multipart` assembles them.
    """

    def size(self, sha256: str) -> int | None:
        """The stored object's size, or None when it is not stored."""

    def local_path(self, sha256: str) -> Path | None:
        """A local file holding the object (for zero-copy serving), or None when not local."""

    def relative_path(self, sha256: str) -> str:
        """The object's `/`-separated path under the store's root (stored or not).

        A front web server that serves the root directory finds the object there (the
        `X-Accel-Redirect` download offload).
        """

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes (BlobNotFoundError when missing)."""

    def writer(self, sha256: str, size: int) -> BlobWriter:
        """Start writing an object."""

    def delete(self, sha256: str) -> bool:
        """Remove an object; whether it was there."""

    def digests(self) -> Iterator[str]:
        """Every stored object's sha256."""

    def rehash(self, sha256: str) -> str:
        """The sha256 of the stored bytes, computed again (BlobNotFoundError when missing)."""

    def part_writer(self, upload_id: str, number: int, offset: int, size: int) -> BlobWriter:
        """Start writing (or replacing) part `number`: exactly `size` bytes at `offset`.

        The writer's `commit` returns an ETag for the part (not a digest: parts are not hashed,
        the assembled object is).
        """

    def parts(self, upload_id: str) -> dict[int, int]:
        """The parts received so far: part number to size."""

    def complete_multipart(self, upload_id: str, sha256: str, size: int, count: int) -> None:
        """Assemble parts 1..count into the object and verify it.

        Raises:
            BlobNotFoundError: a part is missing.
            BlobMismatchError: the assembled bytes are not the announced object.
        """

    def abort_multipart(self, upload_id: str) -> None:
        """Forget an upload and its parts."""

    def download_url(self, sha256: str, ttl: int) -> str | None:
        """A URL of another host that serves the object for `ttl` seconds, or None (fs).

        Only ever handed to a caller found allowed to read the object.
        """

    def upload_url(self, name: str, size: int, ttl: int) -> str | None:
        """A URL taking exactly `size` bytes for the incoming object `name`, or None (fs).

        `name` is 32 random hex digits; the bytes received there become an object only
        through `adopt`, which verifies them.
        """

    def part_url(self, upload_id: str, number: int, size: int, ttl: int) -> str | None:
        """A URL taking part `number` (exactly `size` bytes) of a multipart upload, or None (fs).

        Such parts are assembled and verified by `complete_multipart`, as parts received by
        `part_writer` are.
        """

    def adopt(self, name: str, sha256: str, size: int) -> None:
        """Store the incoming object `name` (see `upload_url`) as `sha256`, if its bytes are that.

        Raises:
            BlobNotFoundError: nothing was received at `name`.
            BlobMismatchError: the bytes are not the object (they are dropped).
        """

    def stat(self, sha256: str) -> BlobStat | None:
        """The stored object's size and write time, or None when it is not stored."""

    def delete_unless(self, sha256: str, keep: Callable[[BlobStat], bool]) -> bool:
        """Delete the object unless `keep`, asked once no reader can reach it, says to keep it.

        Returns whether it was deleted. A writer storing the same object concurrently either
        puts a new file in place (which stays) or is seen by `keep` (the old one is put back).
        """

    def leftovers(self) -> Iterator[Leftover]:
        """Temporary files and unfinished multipart uploads."""

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Remove it unless it was written to at or after `written_before`; whether it was."""
