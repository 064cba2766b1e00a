"""`Mutexes`: named locks that every server process on the data dir respects.

`hubstead serve --workers N` runs N processes on one data dir, so a lock that guards a change
visible to all of them (a repo's publish lock, an LFS upload's completion) cannot be a
`threading.Lock`: it must exclude the threads of this process and every other process alike.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class Mutexes(Protocol):
    """Named exclusive locks shared by every thread of every process on the data dir."""

    def hold(self, name: str) -> AbstractContextManager[None]:
        """Wait for the lock `name` and hold it for the block.

        Raises:
            ValueError: `name` is not a lock name (letters, digits, `.`, `_`, `-`).
        """
