"""`BlobStore` on the local filesystem: `<root>/<sha[:2]>/<sha[2:4]>/<sha>`.

A write streams into `<root>/.tmp/` while hashing, is checked against the announced sha256 and
size, fsynced, then renamed into place: a reader sees a whole, verified object or nothing.
Multipart uploads keep their parts under `<root>/.uploads/<upload_id>/` until completion
concatenates them (hashing again) into a normal write; parts may arrive in any order, in
parallel, and be sent again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from modelhub.server.storage.interfaces import BlobMismatchError, BlobNotFoundError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_COPY_CHUNK = 1024 * 1024


def _check_digest(sha256: str) -> None:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")


class FsBlobWriter:
    """Bytes being written to `target`: fed in chunks, verified and renamed into place."""

    def __init__(self, temp_dir: Path, target: Path, size: int, sha256: str | None) -> None:
        self._target = target
        self._size = size
        self._sha256 = sha256
        self._written = 0
        self._hash = hashlib.sha256()
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in commit/abort)
            dir=temp_dir, prefix="blob-", delete=False
        )

    def write(self, chunk: bytes) -> None:
        """Append bytes, refusing more than the announced size.

        Raises:
            BlobMismatchError: more bytes than announced.
        """
        self._written += len(chunk)
        if self._written > self._size:
            self.abort()
            raise BlobMismatchError(f"received more than the announced {self._size} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self) -> str:
        """Verify size (and digest, when announced), fsync, move into place; return the sha256.

        Raises:
            BlobMismatchError: the bytes are not what was announced; nothing is stored.
        """
        digest = self._hash.hexdigest()
        if self._written != self._size or digest != (self._sha256 or digest):
            self.abort()
            expected = f" with sha256 {self._sha256}" if self._sha256 else ""
            raise BlobMismatchError(
                f"expected {self._size} bytes{expected}, "
                f"received {self._written} bytes with sha256 {digest}"
            )
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._file.name, self._target)
        _fsync_dir(self._target.parent)
        return digest

    def abort(self) -> None:
        """Drop what was written."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file.name)


class FsBlobStore:
    """LFS objects as files under one root, fanned out by the first bytes of their sha256."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.temp_dir = root / ".tmp"
        self._uploads = root / ".uploads"
        for folder in (root, self.temp_dir, self._uploads):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the object with this digest lives (whether or not it is stored)."""
        _check_digest(sha256)
        return self._root / sha256[:2] / sha256[2:4] / sha256

    def local_path(self, sha256: str) -> Path | None:
        """The object's file, or None when it is not stored."""
        path = self.path(sha256)
        return path if path.is_file() else None

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when it is not stored."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes.

        Raises:
            BlobNotFoundError: it is not stored.
        """
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None

    def writer(self, sha256: str, size: int) -> FsBlobWriter:
        """Start writing an object; nothing is visible until `commit` succeeds."""
        return FsBlobWriter(self.temp_dir, self.path(sha256), size, sha256)

    def write(self, sha256: str, size: int, chunks: Iterable[bytes]) -> None:
        """Store an object from an iterable of chunks.

        Raises:
            BlobMismatchError: the bytes are not the announced object.
        """
        writer = self.writer(sha256, size)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()

    def delete(self, sha256: str) -> bool:
        """Remove an object; whether it was there."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[str]:
        """The digest of every stored object."""
        for path in self._root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _SHA256.match(path.name):
                yield path.name

    def rehash(self, sha256: str) -> str:
        """The sha256 of the stored bytes, computed again (for fsck).

        Raises:
            BlobNotFoundError: it is not stored.
        """
        digest = hashlib.sha256()
        with self.open(sha256) as file:
            while chunk := file.read(_COPY_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    # --- multipart uploads ----------------------------------------------------------------------

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id):
            raise ValueError(f"invalid upload id {upload_id!r}")
        return self._uploads / upload_id

    def part_writer(self, upload_id: str, number: int, size: int) -> FsBlobWriter:
        """Start writing (or replacing) part `number` of a multipart upload of `size` bytes."""
        folder = self._upload_dir(upload_id)
        folder.mkdir(parents=True, exist_ok=True)
        return FsBlobWriter(self.temp_dir, folder / str(number), size, None)

    def parts(self, upload_id: str) -> dict[int, int]:
        """The parts received so far: part number to size."""
        folder = self._upload_dir(upload_id)
        if not folder.is_dir():
            return {}
        return {int(p.name): p.stat().st_size for p in folder.iterdir() if p.name.isdigit()}

    def complete_multipart(self, upload_id: str, sha256: str, size: int, count: int) -> None:
        """Assemble parts 1..count into the object, verifying it, then drop the parts.

        Raises:
            BlobNotFoundError: a part is missing.
            BlobMismatchError: the assembled bytes are not the announced object.
        """
        folder = self._upload_dir(upload_id)
        missing = [n for n in range(1, count + 1) if not (folder / f"{n}").is_file()]
        if missing:
            raise BlobNotFoundError(f"parts {missing} of upload {upload_id} were not received")
        self.write(sha256, size, self._read_parts(folder, count))
        self.abort_multipart(upload_id)

    @staticmethod
    def _read_parts(folder: Path, count: int) -> Iterator[bytes]:
        for number in range(1, count + 1):
            with (folder / f"{number}").open("rb") as part:
                while chunk := part.read(_COPY_CHUNK):
                    yield chunk

    def abort_multipart(self, upload_id: str) -> None:
        """Forget an upload and its parts."""
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
