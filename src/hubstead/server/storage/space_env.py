"""The `SpaceEnvStore` Protocol: each Space's secrets and variables.

An entry goes with its Space (deleted with it, kept through a move). Its value is opaque
bytes here: the service seals secrets before they reach the store.
"""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.space_env import EnvKind, PutOutcome, StoredEntry


class SpaceEnvStore(Protocol):
    """Secrets and variables of Spaces, one key per Space."""

    def entries(self, repo_id: int, kind: EnvKind) -> list[StoredEntry]:
        """The Space's entries of one kind, by key."""

    def put(self, repo_id: int, kind: EnvKind, entry: StoredEntry, limit: int) -> PutOutcome:
        """Add or replace an entry, unless refused.

        Refused when the key is of the other kind, or when the Space already has `limit`
        entries (of both kinds) and this one is new.
        """

    def delete(self, repo_id: int, kind: EnvKind, key: str) -> bool:
        """Remove an entry; False when the Space has no entry of that kind and key."""

    def copy(self, from_repo_id: int, to_repo_id: int, kind: EnvKind) -> None:
        """Give a new Space the entries of one kind of another (`duplicate_repo`)."""
