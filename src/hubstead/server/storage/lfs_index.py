"""`LfsIndex`: which repos may reference which LFS objects."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Protocol

from hubstead.server.domain.lfs import LfsObjectRecord


class LfsIndex(Protocol):
    """Which repos may reference which LFS objects (the access and garbage-collection index)."""

    def link(self, repo_id: int, sha256: str, size: int) -> None:
        """Record that the repo may reference the object, whose bytes were verified for it.

        Idempotent; a link of another size (left by an older version) takes this size.
        """

    def copy_links(self, source_id: int, target_id: int) -> None:
        """Link the target repo to every object of the source (a repo copy); idempotent."""

    def linked_size(self, repo_id: int, sha256: str) -> int | None:
        """The object's size if the repo may reference it, else None."""

    def list(self, repo_id: int, offset: int, limit: int) -> list[LfsObjectRecord]:
        """One page of a repo's objects, newest first."""

    def unlink(self, repo_id: int, digests: Sequence[str]) -> int:
        """Forget objects for a repo; how many links were removed."""

    def unlink_if(self, repo_id: int, sha256: str, size: int) -> bool:
        """Delete the link if it still names `size` (a concurrent fix wins); whether it did."""

    def linked_digests(self) -> set[str]:
        """Every object some repo may reference."""

    def usage(self, repo_ids: Collection[int]) -> dict[int, int]:
        """Total size of each repo's objects, in bytes (0 for a repo without any), in one query."""

    def is_linked(self, sha256: str) -> bool:
        """Whether some repo may reference the object."""

    def records(self) -> Iterator[LfsObjectRecord]:
        """Every link of every repo, by object then repo (read in pages, for fsck)."""
