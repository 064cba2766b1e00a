"""`MirrorStore`: the mirror configuration of mirrored repos."""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.mirrors import MirrorRecord, NewMirror


class MirrorStore(Protocol):
    """The mirror configuration of mirrored repos (one per repo)."""

    def add(self, mirror: NewMirror) -> MirrorRecord:
        """Record a mirror (AlreadyExistsError if the repo is already one)."""

    def get(self, repo_id: int) -> MirrorRecord | None:
        """The mirror of the repo with this row id, or None."""

    def list_all(self) -> list[MirrorRecord]:
        """Every mirror, by repo type and id."""

    def update(self, repo_id: int, **values: object) -> MirrorRecord | None:
        """Change columns of a mirror; None if the repo is not a mirror."""

    def remove(self, repo_id: int) -> bool:
        """Forget a mirror (the repo stays); whether it was one."""
