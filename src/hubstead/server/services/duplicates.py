"""Duplicating a repo: a new repo with the same branches, tags, history and large files.

As on the Hub (`duplicate_repo`), the copy keeps every commit id of the source's branches and
tags; pull requests, discussions, likes and settings other than visibility stay behind. A
Space's variables are copied, its secrets are not (the copy's owner sets their own). Git
objects are copied into the new repo, while LFS and Xet objects are not: the new repo is linked
to every object the source holds (`LfsIndex`) and to every xorb the source may use
(`XetIndex`), as a cross-repo copy of single files does (`lfs_files.py`). So no byte of a large
file is written twice, and every file of the copy can be downloaded as soon as the call
returns (the Hub's `filesCopyPending` is always false here).
"""

from __future__ import annotations

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.space_env import EnvKind
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.heads import HeadService
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.space_env import SpaceEnvStore
from hubstead.server.storage.xet_index import XetIndex


class DuplicateService:
    """Copies of repos, made for callers who may read the source and create the copy."""

    def __init__(
        self,
        repos: RepoService,
        heads: HeadService,
        git: GitObjectStore,
        index: LfsIndex,
        xet: XetIndex,
        space_env: SpaceEnvStore,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._git = git
        self._index = index
        self._xet = xet
        self._space_env = space_env

    def duplicate(
        self,
        identity: Identity,
        type: RepoType,
        from_id: str,
        namespace: str | None,
        name: str | None,
        *,
        private: bool | None = None,
    ) -> RepoRecord:
        """Create `namespace/name` (the caller's namespace, the source's name by default).

        The copy is private when `private` says so, else when the source is. A Space keeps its
        SDK and its variables.

        Raises:
            RepoNotFoundError, GatedRepoError, ...: the caller may not read the source's files
                (a private source is as missing as one that does not exist).
            ConflictError: the target exists.
            InvalidRequestError, AuthenticationError, AuthorizationError: see
                `RepoService.create`.
        """
        source = self._repos.locate(identity, type, from_id, Action.READ_FILES)
        repo = self._repos.create(
            identity,
            type,
            namespace,
            name or source.name,
            private=source.private if private is None else private,
            sdk=source.sdk,
            copy_of=source,
        )
        self._index.copy_links(source.id, repo.id)
        self._xet.copy_xorb_links(source.id, repo.id)
        self._space_env.copy(source.id, repo.id, EnvKind.VARIABLE)
        with self._heads.publish_lock(repo):
            head = self._git.resolve(repo.storage_key, DEFAULT_BRANCH)
            assert head is not None, "every repo has a main branch"
            return self._heads.refresh(repo, head)
