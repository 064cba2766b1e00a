"""`GitFetcher`: mirror repos, filled from a remote git repo over git's smart HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from hubstead.server.domain.git import RefUpdate


class GitFetcher(Protocol):
    """Mirror repos: created empty, filled from a remote repo, their refs moved together."""

    def init(self, key: str) -> None:
        """Create an empty repo, without any ref (a mirror, filled by `fetch`)."""

    def remote_refs(self, url: str, token: str | None) -> dict[str, str]:
        """The refs a remote repo (git smart HTTP) advertises, each with its direct target.

        An annotated tag maps to its tag object. `token` is sent as the password.

        Raises:
            RemoteError: the remote cannot be reached, does not exist or refuses access.
            GitUnavailableError: git is not installed.
        """

    def fetch(self, key: str, url: str, token: str | None, refs: Mapping[str, str]) -> None:
        """Fetch the objects behind `refs` (name to target, from `remote_refs`); move no ref.

        Raises:
            RemoteError: as for `remote_refs`; CHANGED when a ref no longer has its target.
            GitUnavailableError: git is not installed.
        """

    def update_refs(self, key: str, updates: Sequence[RefUpdate]) -> None:
        """Move refs together under the ref lock, if every one is at its `old` target.

        Each update creates (`old` None), moves, or deletes (`new` None) a ref.

        Raises:
            RefConflictError: a ref is not at its `old` target; no ref moved.
        """
