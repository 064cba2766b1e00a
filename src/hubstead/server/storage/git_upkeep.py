"""`GitUpkeep`: what the git repos take on disk, and the collection of what crashes leave there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from hubstead.server.domain.upkeep import Leftover


class GitUpkeep(Protocol):
    """The git repos' disk usage, their leftovers and unreachable objects, and gc."""

    def disk_usage(self, key: str) -> int:
        """The bytes the repo's git data takes on disk (objects, packs and refs)."""

    def leftovers(self) -> Iterator[Leftover]:
        """Push quarantines and temporary files, in every repo and in the store's temp dir."""

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Delete a leftover unless it was written to since `written_before`; whether it was."""

    def unreachable(self, key: str, written_before: float) -> Leftover | None:
        """The repo's loose objects no ref reaches, written before `written_before` (or None)."""

    def collect(self, key: str, written_before: float) -> None:
        """Drop what no ref reaches (unless written since `written_before`), and repack.

        Holds the repo's ref lock, so no ref moves (and no push runs) meanwhile.
        """
