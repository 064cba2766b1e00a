"""`FetchArea`: locks shared by every process on the data dir, and pull-through spool files."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol


class HeldLock(Protocol):
    """A lock taken by `FetchArea.try_lock`, released by whoever holds it (any thread)."""

    def release(self) -> None:
        """Let the next holder in."""


class FetchArea(Protocol):
    """Locks shared by every process on the data dir, and objects being fetched from upstream.

    A pull-through download writes the object it fetches to a spool file as the bytes arrive, so
    readers in any process can follow it before it is verified and stored. A spool is named by
    its fetch (`name`, as a lock name), so fetches of one object for two repos never mix.
    """

    def try_lock(self, name: str) -> HeldLock | None:
        """Take the lock `name` if nobody holds it, without waiting."""

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock `name` for a block, waiting for it."""

    def locked(self, name: str) -> bool:
        """Whether someone (this process included) holds the lock `name`."""

    def spool(self, name: str) -> BinaryIO:
        """A new, empty spool file for the fetch `name`, open for writing."""

    def read_spool(self, name: str, offset: int, limit: int) -> bytes:
        """Up to `limit` bytes of the spool file `name` from `offset` (none if there is none)."""

    def drop_spool(self, name: str) -> None:
        """Remove the spool file `name`, if any."""
