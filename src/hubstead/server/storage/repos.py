"""`RepoStore`: repo rows, their tags, and the redirects that moves leave behind.

Creating, deleting, moving a repo, changing its settings and recording moved refs each write
their hub event (`domain.hub_events`) in the same transaction: `actor_id` is the account that
caused it, None for an operator's doing (mirrors, syncs, account deletion).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.repos import RepoLookup, RepoQuery, RepoRecord, TagUsage


class RepoStore(Protocol):
    """Repo rows: identity, settings, tags, and redirects from the ids of moved repos."""

    def create_repo(
        self,
        type: str,
        namespace: str,
        name: str,
        storage_key: str,
        private: bool,
        sdk: str | None = None,
        *,
        head: str | None = None,
        actor_id: int | None = None,
    ) -> RepoRecord:
        """Insert a repo row, with its `repo.create` event (AlreadyExistsError if the id is taken).

        `head` is the commit `main` starts at, when the repo has one yet.
        """

    def get_repo(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo with this id (case-insensitive), or None."""

    def get_repo_by_key(self, key: int) -> RepoRecord | None:
        """The repo whose row id is `key` (stable across moves), or None."""

    def get_redirect(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo that used to have this id before a move, or None."""

    def spaces_by_host_label(self, label: str) -> list[RepoRecord]:
        """The Spaces whose id, lowercased with `/`, `_` and `.` as `-`, is `label` (by age).

        An indexed lookup (a Space host's request makes one): it costs the Spaces found.
        """

    def find_repo(self, type: str, namespace: str, name: str) -> RepoLookup:
        """The repo with this id, the one it redirects to, and whether the namespace is owned.

        The same statements run whether the repo exists or not, so that how long the answer
        takes does not tell one from the other.
        """

    def update_repo(self, repo_id: int, **values: object) -> RepoRecord:
        """Change columns of a repo row; `tags` replaces the repo's tags. No event."""

    def update_settings(self, repo_id: int, actor_id: int | None, **values: object) -> RepoRecord:
        """Change settings (`private`, `gated`, `discussions_disabled`) of a repo row.

        The `repo.config.update` event names those whose value changed; none changed, no event.
        """

    def record_refs(
        self,
        repo_id: int,
        updates: Sequence[RefUpdate],
        main: str | None,
        actor_id: int | None,
        refresh: Mapping[str, object],
    ) -> RepoRecord:
        """Record refs that just moved: their `repo.content.update` event.

        `main` is the commit `main` is at now (None if it is missing); `refresh` changes
        columns of the row in the same transaction, as `update_repo` does.
        """

    def move_repo(
        self, repo_id: int, namespace: str, name: str, *, actor_id: int | None = None
    ) -> RepoRecord:
        """Rename a repo, keeping a redirect from its old id (AlreadyExistsError if taken).

        Its `repo.move` event names the repo by its old id.
        """

    def delete_repo(self, repo_id: int, *, actor_id: int | None = None) -> None:
        """Delete a repo row, its tags and redirects, with its `repo.delete` event."""

    def list_repos(self, query: RepoQuery) -> list[RepoRecord]:
        """One page of repos matching `query`."""

    def tag_usage(self, type: str, visible_namespaces: Sequence[str] | None) -> TagUsage:
        """The tags, tasks and libraries of the repos of a type that are visible.

        Visible: the public ones and the private ones of `visible_namespaces` (None: every repo).
        """
