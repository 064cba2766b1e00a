"""`RepoStore`: repo rows, their tags, and the redirects that moves leave behind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
    ) -> RepoRecord:
        """Insert a repo row (AlreadyExistsError if the id is taken)."""

    def get_repo(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo with this id (case-insensitive), or None."""

    def get_repo_by_key(self, key: int) -> RepoRecord | None:
        """The repo whose row id is `key` (stable across moves), or None."""

    def get_redirect(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo that used to have this id before a move, or None."""

    def find_repo(self, type: str, namespace: str, name: str) -> RepoLookup:
        """The repo with this id, the one it redirects to, and whether the namespace is owned.

        The same statements run whether the repo exists or not, so that how long the answer
        takes does not tell one from the other.
        """

    def update_repo(self, repo_id: int, **values: object) -> RepoRecord:
        """Change columns of a repo row; `tags` replaces the repo's tags."""

    def move_repo(self, repo_id: int, namespace: str, name: str) -> RepoRecord:
        """Rename a repo, keeping a redirect from its old id (AlreadyExistsError if taken)."""

    def delete_repo(self, repo_id: int) -> None:
        """Delete a repo row, its tags and redirects."""

    def list_repos(self, query: RepoQuery) -> list[RepoRecord]:
        """One page of repos matching `query`."""

    def tag_usage(self, type: str, visible_namespaces: Sequence[str] | None) -> TagUsage:
        """The tags, tasks and libraries of the repos of a type that are visible.

        Visible: the public ones and the private ones of `visible_namespaces` (None: every repo).
        """
