"""File locks of the git-lfs locking API: which user holds which path of which repo.

A lock belongs to a repo, not to a branch: git-lfs names the ref it works on, and the API uses
it for authorization only (docs/api/locking.md of git-lfs). A path has at most one lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class LockRecord:
    """A path of a repo, locked by a user."""

    id: int
    repo_id: int
    path: str
    owner_id: int
    owner_name: str
    locked_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class LockPage:
    """Locks in path order, and the path the next page starts at (None on the last page)."""

    locks: tuple[LockRecord, ...]
    next_path: str | None = None


@dataclasses.dataclass(frozen=True)
class VerifyPage:
    """A page of locks as a pusher sees them: its own, and everyone else's."""

    ours: tuple[LockRecord, ...]
    theirs: tuple[LockRecord, ...]
    next_path: str | None = None
