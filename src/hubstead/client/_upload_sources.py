"""The bytes behind an upload: a file on disk, bytes in memory, or a binary file object.

Every read names its offset (`os.pread` on files), so parts of one file can be read by several
threads at once without sharing a file position, and a retried request re-reads its bytes from
the source instead of keeping them in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from hubstead.client._digests import git_blob_hash
from hubstead.errors import HFValidationError

CHUNK_BYTES = 1024 * 1024
HASH_CHUNK_BYTES = 8 * 1024 * 1024
SAMPLE_BYTES = 512

Origin = str | Path | bytes | BinaryIO


class UploadSource:
    """Random access to the content of one file to upload.

    Args:
        origin: a path to a regular file, bytes, or a seekable binary file object (read whole,
            from offset 0, as `huggingface_hub` does).

    Raises:
        HFValidationError: a path that is not a file, or a file object that is not binary
            and seekable.
    """

    def __init__(self, origin: Origin) -> None:
        self._path: str | None = None
        self._data: bytes | None = None
        self._file: BinaryIO | None = None
        self._fd: int | None = None
        self._lock = threading.Lock()
        if isinstance(origin, str | Path):
            path = os.path.normpath(os.path.expanduser(origin))
            if not os.path.isfile(path):
                raise HFValidationError(f"Provided path: {path!r} is not a file")
            self._path = path
            self.size = os.stat(path).st_size
            self.name = path
        elif isinstance(origin, bytes):
            self._data = origin
            self.size = len(self._data)
            self.name = "<bytes>"
        elif isinstance(origin, io.BufferedIOBase | io.RawIOBase):
            self._file = origin
            self._fd = _fileno(origin)
            self.size = _object_size(origin)
            self.name = str(getattr(origin, "name", "<file object>"))
        else:
            raise HFValidationError(
                "path_or_fileobj must be a path (str or Path), bytes, or a binary file object "
                f"opened in 'rb' mode, not {type(origin).__name__}"
            )

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer only at the end of the content)."""
        return b"".join(self.chunks(offset, length))

    def chunks(
        self, offset: int = 0, length: int | None = None, chunk_bytes: int = CHUNK_BYTES
    ) -> Iterator[bytes]:
        """The content from `offset`, `length` bytes (default: to the end), chunk by chunk.

        Raises:
            OSError: a file on disk is shorter than it was when the source was made.
        """
        end = self.size if length is None else min(self.size, offset + length)
        if self._data is not None:
            view = memoryview(self._data)
            for start in range(offset, end, chunk_bytes):
                yield bytes(view[start : min(end, start + chunk_bytes)])
            return
        if self._path is not None:
            with open(self._path, "rb", buffering=0) as file:
                yield from self._pread_chunks(file.fileno(), offset, end, chunk_bytes)
            return
        if self._fd is not None:
            yield from self._pread_chunks(self._fd, offset, end, chunk_bytes)
            return
        yield from self._seek_chunks(offset, end, chunk_bytes)

    def _pread_chunks(self, fd: int, offset: int, end: int, chunk_bytes: int) -> Iterator[bytes]:
        position = offset
        while position < end:
            chunk = os.pread(fd, min(chunk_bytes, end - position), position)
            if not chunk:
                raise _shrunk(self.name)
            position += len(chunk)
            yield chunk

    def _seek_chunks(self, offset: int, end: int, chunk_bytes: int) -> Iterator[bytes]:
        # A file object without a descriptor has one position: readers take turns, and each
        # puts it back where the caller left it.
        assert self._file is not None
        position = offset
        while position < end:
            with self._lock:
                saved = self._file.tell()
                self._file.seek(position)
                chunk = self._file.read(min(chunk_bytes, end - position))
                self._file.seek(saved)
            if not chunk:
                raise _shrunk(self.name)
            position += len(chunk)
            yield chunk

    def sample(self) -> bytes:
        """The first bytes, which the hub reads to tell text from binary."""
        return self.read_at(0, SAMPLE_BYTES)

    def read_all(self) -> bytes:
        """The whole content (for files that travel inline in a commit: small ones)."""
        return self.read_at(0, self.size)

    def sha256(self, progress: Callable[[int], None] | None = None) -> str:
        """The hex sha256 of the content (its LFS object id), read in large chunks."""
        digest = hashlib.sha256()
        for chunk in self.chunks(chunk_bytes=HASH_CHUNK_BYTES):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
        return digest.hexdigest()

    def git_sha1(self) -> str:
        """The git blob id of the content (what the hub reports for a regular file)."""
        digest = git_blob_hash(self.size)
        for chunk in self.chunks(chunk_bytes=HASH_CHUNK_BYTES):
            digest.update(chunk)
        return digest.hexdigest()


def _fileno(file: BinaryIO | io.RawIOBase | io.BufferedIOBase) -> int | None:
    """The descriptor of a regular file behind a file object, for position-free reads."""
    try:
        fd = file.fileno()
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except (OSError, AttributeError, ValueError):
        return None
    if not regular:
        return None
    flush = getattr(file, "flush", None)
    if callable(flush):
        flush()  # bytes written through the object but still buffered must be readable by fd
    return fd


def _object_size(file: BinaryIO | io.RawIOBase | io.BufferedIOBase) -> int:
    try:
        saved = file.tell()
        size = file.seek(0, io.SEEK_END)
        file.seek(saved)
    except (OSError, AttributeError) as exc:
        raise HFValidationError(
            "path_or_fileobj is a file object that does not support seek() and tell()"
        ) from exc
    return size


def _shrunk(name: str) -> OSError:
    return OSError(f"{name} is shorter than when the upload started: did it change?")
