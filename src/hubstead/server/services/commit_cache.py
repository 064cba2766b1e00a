"""Values computed from a commit's content, kept by commit: a commit never changes.

Repo info, listings and pages describe a revision by reading its tree, its card and its weights'
headers; every request for the same commit would compute the same thing again. `CommitCache`
keeps such values by `(kind, storage key, commit id)` (storage keys are never reused, so a key
names one repo's commit for good). Each entry costs what it weighs (`cost`; a file listing, its
length) and the least recently used entries go beyond the budget. A computation that raises keeps
nothing: what failed may depend on more than the commit (an LFS object not stored yet).
Each server process has its own (`serve --workers`): what it keeps is never stale, so the
processes need not tell each other anything.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import TypeVar, cast

T = TypeVar("T")


def _one(_: object) -> int:
    return 1


class CommitCache:
    """Per-commit values, least recently used dropped beyond a budget; safe across threads."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._entries: collections.OrderedDict[tuple[str, str, str], tuple[object, int]] = (
            collections.OrderedDict()
        )
        self._spent = 0
        self._lock = threading.Lock()

    def get(
        self,
        kind: str,
        key: str,
        commit_id: str,
        compute: Callable[[], T],
        cost: Callable[[T], int] = _one,
    ) -> T:
        """The `kind` value of the commit: kept, or `compute()`d now and kept if it fits."""
        entry = (kind, key, commit_id)
        with self._lock:
            found = self._entries.get(entry)
            if found is not None:
                self._entries.move_to_end(entry)
                return cast(T, found[0])
        value = compute()
        weight = max(1, cost(value))
        if weight > self._budget:
            return value
        with self._lock:
            if entry not in self._entries:
                self._entries[entry] = (value, weight)
                self._spent += weight
                while self._spent > self._budget:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._spent -= dropped
        return value
