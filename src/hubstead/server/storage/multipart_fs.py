"""Multipart uploads on the local filesystem, the part of `FsBlobStore` that assembles objects.

An upload lives in `<root>/.uploads/<upload_id>/`: one `data` file that every part is written
into at its own offset, and one marker per whole part (named by its number, holding its size).
Parts may arrive in any order, in parallel, and be sent again; a part being (re)written does not
count until it is whole. Each part is hashed as soon as the parts before it are whole
(`multipart_hashes_fs`), so completion only checks the digest and renames `data` into place: no
byte is copied after it arrived, an upload needs its size on disk once, not twice, and the
client does not wait for the whole object to be read again.

Part writers hold a shared `flock` on `data`, completion an exclusive one: completion never
hashes a part mid-write, and a writer that opened `data` just before completion renamed it into
the store notices (the path names another file, or none) and starts over on a new `data` file
instead of writing into a stored object.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import threading
from pathlib import Path

from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.multipart_hashes_fs import (
    READ_CHUNK,
    advance,
    begin_part,
    continued_digest,
)

DATA = "data"


class FsPartWriter:
    """One part of a multipart upload, written in place at `offset` in the upload's data file.

    Its methods may be called from different threads, one at a time or not: they serialize, so
    `abort` never closes the file under a `write` in flight.
    """

    def __init__(self, folder: Path, number: int, offset: int, size: int) -> None:
        self._folder = folder
        self._number = number
        self._offset = offset
        self._size = size
        self._written = 0
        self._lock = threading.Lock()
        self._descriptor: int | None = _open_locked(folder / DATA, fcntl.LOCK_SH, create=True)
        self._writing: int | None = None
        # Until this part is whole again, it does not count as received (nor stays hashed).
        try:
            self._writing = begin_part(folder, number)
        except BaseException:
            self._close()
            raise

    def write(self, chunk: bytes) -> None:
        """Write the next bytes of the part, refusing any past its size.

        Raises:
            BlobMismatchError: more bytes than the part holds (nothing past it is written).
        """
        with self._lock:
            if self._descriptor is None:
                raise BlobMismatchError(f"part {self._number} was abandoned")
            if self._written + len(chunk) > self._size:
                self._close()
                raise BlobMismatchError(f"part {self._number} is {self._size} bytes: received more")
            view = memoryview(chunk)
            while view:
                done = os.pwrite(self._descriptor, view, self._offset + self._written)
                self._written += done
                view = view[done:]

    def commit(self) -> str:
        """Count the part as received; return its ETag.

        Raises:
            BlobMismatchError: the part is not exactly its size (it does not count).
        """
        with self._lock:
            if self._descriptor is None or self._written != self._size:
                self._close()
                raise BlobMismatchError(
                    f"part {self._number} is {self._size} bytes: received {self._written}"
                )
            marker = self._folder / f".{self._number}.{secrets.token_hex(4)}"
            marker.write_text(str(self._size))
            os.replace(marker, self._folder / str(self._number))
            try:
                self._close_writing()
                advance(self._folder, self._descriptor, received_parts(self._folder))
            finally:
                self._close()
        return f"{self._number}-{self._size}"

    def abort(self) -> None:
        """Stop writing; the part does not count as received."""
        with self._lock:
            self._close()

    def _close_writing(self) -> None:
        if self._writing is not None:
            os.close(self._writing)
            self._writing = None

    def _close(self) -> None:
        self._close_writing()
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def received_parts(folder: Path) -> dict[int, int]:
    """The whole parts of an upload: part number to size."""
    parts: dict[int, int] = {}
    try:
        markers = [p for p in folder.iterdir() if p.name.isdigit()]
    except FileNotFoundError:
        return parts
    for marker in markers:
        try:
            parts[int(marker.name)] = int(marker.read_text())
        except (FileNotFoundError, ValueError):  # replaced or being rewritten
            continue
    return parts


def assemble(folder: Path, sha256: str, size: int, count: int, target: Path) -> None:
    """Check parts 1..count are whole, verify the data is the object, move it to `target`.

    Raises:
        BlobNotFoundError: a part is missing (the parts are kept).
        BlobMismatchError: the bytes are not the announced object.
    """
    try:
        descriptor = _open_locked(folder / DATA, fcntl.LOCK_EX, create=False)
    except FileNotFoundError as exc:
        raise BlobNotFoundError(f"no part of upload {folder.name} was received") from exc
    try:
        parts = received_parts(folder)
        missing = [n for n in range(1, count + 1) if n not in parts]
        if missing:
            raise BlobNotFoundError(f"parts {missing} of upload {folder.name} were not received")
        digest = continued_digest(folder, descriptor) or sha256_of(descriptor)
        stored = os.fstat(descriptor).st_size
        if stored != size or digest != sha256:
            raise BlobMismatchError(
                f"expected {size} bytes with sha256 {sha256}, "
                f"received {stored} bytes with sha256 {digest}"
            )
        # Stored now: gc's grace period counts from here, not from the last part's arrival, so
        # gc spares the object until the caller has linked it.
        os.utime(descriptor)
        os.fsync(descriptor)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / DATA, target)
        fsync_dir(target.parent)
    finally:
        os.close(descriptor)


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _open_locked(path: Path, operation: int, *, create: bool) -> int:
    """Open and `flock` the file at `path`, making sure the lock is on the file still there."""
    while True:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        try:
            fcntl.flock(descriptor, operation)
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            if not create:
                os.close(descriptor)
                raise
        except BaseException:
            os.close(descriptor)
            raise
        # Completed or abandoned while we waited for the lock: start over on the new file.
        os.close(descriptor)


def sha256_of(descriptor: int) -> str:
    """The sha256 of an open file's bytes, read in large chunks."""
    digest = hashlib.sha256()
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    offset = 0
    while count := os.preadv(descriptor, [buffer], offset):
        digest.update(view[:count])
        offset += count
    return digest.hexdigest()
