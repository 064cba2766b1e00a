"""The `LockStore` Protocol: git-lfs file locks, at most one per path of a repo.

Locks go with their repo (deleted with it, kept through a move) and with their owner's account.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.locks import LockRecord


class LockStore(Protocol):
    """The locks held on the paths of each repo."""

    def add(self, repo_id: int, path: str, owner_id: int, locked_at: dt.datetime) -> LockRecord:
        """Lock a path of a repo for a user.

        Raises:
            AlreadyExistsError: the path is locked already.
        """

    def get(self, repo_id: int, lock_id: int) -> LockRecord | None:
        """The lock of the repo with this id."""

    def find(self, repo_id: int, path: str) -> LockRecord | None:
        """The lock on a path of the repo."""

    def list(self, repo_id: int, start: str | None, limit: int) -> list[LockRecord]:
        """Up to `limit` locks of the repo in path order, from the path `start` on."""

    def remove(self, repo_id: int, lock_id: int) -> bool:
        """Delete a lock of the repo; whether it existed."""
