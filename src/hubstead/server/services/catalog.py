"""Repo info and repo listings: what the hub shows about its repos, one call per question.

`info` describes one repo at a revision: its commit, what its card says and, when asked, its
files (the Hub's `siblings`) and the bytes it uses. `list` answers a listing page: the rows
alone, or each repo described the same way at the head of its default branch. `tags_by_type`
is the vocabulary of the tags those repos use (`tags.py`).

A listing's descriptions take no database round trip per repo: the LFS bytes of every repo of
the page come from one query. What lives in each repo's own git directory (the head commit, its
card and config, the file tree, the size on disk) is read repo by repo. (The rows' card facts
are not a substitute: the tags come back from the database in another order than the card's.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from hubstead.protocol import RepoType
from hubstead.server.domain.git import CommitRecord
from hubstead.server.domain.repos import RepoQuery, RepoRecord
from hubstead.server.services import access, cards, tags
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.cards import CardFacts
from hubstead.server.services.commit_cache import CommitCache
from hubstead.server.services.files import FileInfo, describe
from hubstead.server.services.gguf import GgufSummary
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.services.tags import HubTag
from hubstead.server.services.upkeep import UpkeepService
from hubstead.server.services.weights import SafetensorsSummary, WeightService
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.repos import RepoStore


@dataclasses.dataclass(frozen=True)
class Details:
    """What a description adds to a repo's commit and card facts."""

    files: bool = True
    used_storage: bool = True
    safetensors: bool = False
    gguf: bool = False


@dataclasses.dataclass(frozen=True)
class RepoInfo:
    """A repo at a commit, with the details asked for (None when not asked).

    `used_storage` is the bytes of the repo's LFS objects plus its git data on disk;
    `safetensors` and `gguf` the summaries of a model's weights, when asked for and it has
    them.
    """

    repo: RepoRecord
    commit: CommitRecord
    facts: CardFacts
    files: list[FileInfo] | None = None
    used_storage: int | None = None
    safetensors: SafetensorsSummary | None = None
    gguf: GgufSummary | None = None


ListedRepo = RepoRecord | RepoInfo
"""A listing item: a repo's row, or its description when details were asked for (and it has
a head)."""


class CatalogService:
    """Repo info and listings."""

    def __init__(
        self,
        repos: RepoService,
        store: RepoStore,
        git: GitObjectStore,
        upkeep: UpkeepService,
        weights: WeightService,
        cache: CommitCache,
    ) -> None:
        self._repos = repos
        self._store = store
        self._git = git
        self._upkeep = upkeep
        self._weights = weights
        self._cache = cache

    def info(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, details: Details
    ) -> RepoInfo:
        """The repo at a revision, with what its card says there and the details asked for.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, RepoMovedError, ...: see
                `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ, revision)
        usage = self._upkeep.usage([handle.repo]) if details.used_storage else {}
        return self._describe(handle.repo, handle.commit_id, details, usage)

    def list(
        self, identity: Identity, query: RepoQuery, details: Details | None = None
    ) -> Page[ListedRepo]:
        """A page of the repos the caller can see, described at their heads when `details`.

        A repo without a head (never committed to) is listed by its row alone.
        """
        visible = access.visible_namespaces(identity)
        # One row past the page tells whether another page follows.
        found = self._store.list_repos(
            dataclasses.replace(query, visible_namespaces=visible, limit=query.limit + 1)
        )
        rows = Page.of(found, query.limit)
        if details is None:
            return Page(list(rows.items), rows.more)
        headed = [row for row in rows.items if row.head is not None]
        usage = self._upkeep.usage(headed) if details.used_storage else {}
        items: list[ListedRepo] = [
            row if row.head is None else self._describe(row, row.head, details, usage)
            for row in rows.items
        ]
        return Page(items, rows.more)

    def tags_by_type(self, identity: Identity, type: RepoType) -> Mapping[str, Sequence[HubTag]]:
        """The tags the repos of a type the caller can see use, grouped by tag type."""
        usage = self._store.tag_usage(type.value, access.visible_namespaces(identity))
        return tags.vocabulary(type, usage)

    def _describe(
        self,
        repo: RepoRecord,
        commit_id: str,
        details: Details,
        usage: Mapping[int, int],
    ) -> RepoInfo:
        key = repo.storage_key
        files = None
        if details.files:
            files = self._cache.get(
                "files",
                key,
                commit_id,
                lambda: describe(self._git, key, self._git.list_tree(key, commit_id, "", True)),
                len,
            )
        facts = self._cache.get(
            "card", key, commit_id, lambda: cards.read_facts(self._git, repo, commit_id)
        )
        return RepoInfo(
            repo,
            self._git.commit(key, commit_id),
            facts,
            files,
            usage[repo.id] if details.used_storage else None,
            self._weights.safetensors(repo, commit_id) if details.safetensors else None,
            self._weights.gguf(repo, commit_id) if details.gguf else None,
        )
