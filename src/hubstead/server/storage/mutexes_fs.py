"""`Mutexes` on the local filesystem: an exclusive `flock` on `<root>/<name>.lock`.

A `flock` belongs to an open file, so it excludes other processes and, through separate opens,
other threads; a holder that dies releases it with its files. Lock files are kept: removing a
file someone is about to lock would let two holders in (as in `fetches_fs`).

Threads of one process first queue on a `threading.Lock` of the name, alive while someone holds
or waits for it, so at most one thread per process waits in `flock` and the others wait where
it is cheapest. This holds across processes on one machine, whatever the database: the git
refs these locks guard are themselves moved under `flock` on the same data dir (see
docs/architecture.md, "Several processes").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


class FsMutexes:
    """Lock files under `root`, created on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._local: weakref.WeakValueDictionary[str, threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._guard = threading.Lock()

    def _thread_lock(self, name: str) -> threading.Lock:
        with self._guard:
            lock = self._local.get(name)
            if lock is None:
                lock = self._local[name] = threading.Lock()
            return lock

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Wait for the lock `name` (this process's threads first, then other processes)."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid lock name {name!r}")
        with self._thread_lock(name):
            path = self._root / f"{name}.lock"
            try:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # the first lock taken: `root` is made now
                self._root.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # which releases the lock
