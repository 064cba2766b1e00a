"""`FetchArea` on the local filesystem: `flock` locks and spool files under one directory.

`<root>/locks/<name>.lock` are lock files (kept: removing a lock file someone may be about to lock
would let two holders in), `<root>/spool/<name>.part` the objects being fetched. A `flock` is
held by an open file, so locks exclude threads of one process as well as other processes, and a
holder that dies releases its locks with its files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


class FsHeldLock:
    """A lock held through an open file descriptor."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        """Unlock and close (a second call does nothing)."""
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None


class FsFetchArea:
    """Locks and spool files under `root`."""

    def __init__(self, root: Path) -> None:
        self._locks = root / "locks"
        self._spool = root / "spool"
        for folder in (self._locks, self._spool):
            folder.mkdir(parents=True, exist_ok=True)

    def _open_lock(self, name: str) -> int:
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid lock name {name!r}")
        return os.open(self._locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)

    def try_lock(self, name: str) -> FsHeldLock | None:
        """The lock, if free now."""
        descriptor = self._open_lock(name)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return FsHeldLock(descriptor)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Wait for the lock and hold it for the block."""
        descriptor = self._open_lock(name)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # which releases the lock

    def locked(self, name: str) -> bool:
        """Probe with a shared lock, which conflicts only with a holder's exclusive one."""
        descriptor = self._open_lock(name)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)
        return False

    def _spool_path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid spool name {name!r}")
        return self._spool / f"{name}.part"

    def spool(self, name: str) -> BinaryIO:
        """A new empty spool file, unbuffered so that readers see each write at once."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        return os.fdopen(os.open(self._spool_path(name), flags, 0o644), "wb", buffering=0)

    def read_spool(self, name: str, offset: int, limit: int) -> bytes:
        """Bytes of the spool file from `offset`."""
        try:
            descriptor = os.open(self._spool_path(name), os.O_RDONLY)
        except FileNotFoundError:
            return b""
        try:
            return os.pread(descriptor, limit, offset)
        finally:
            os.close(descriptor)

    def drop_spool(self, name: str) -> None:
        """Remove the spool file."""
        self._spool_path(name).unlink(missing_ok=True)
