"""Repo rows, what a repo id names, and what a repo listing asks for."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class RepoRecord:
    """A repo's row: identity, settings and what was derived from its default branch."""

    id: int
    type: str
    namespace: str
    name: str
    storage_key: str
    private: bool
    gated: str | None
    discussions_disabled: bool
    created_at: dt.datetime
    last_modified: dt.datetime
    head: str | None
    card_data: dict[str, object] | None
    library_name: str | None
    pipeline_tag: str | None
    sdk: str | None
    tags: tuple[str, ...]
    downloads: int
    likes: int

    @property
    def repo_id(self) -> str:
        """`namespace/name`."""
        return f"{self.namespace}/{self.name}"


@dataclasses.dataclass(frozen=True)
class RepoLookup:
    """What one repo id names, read by the same statements whatever they find.

    `repo` has the id, `moved` had it before a move, `owned` says an account has the namespace.
    """

    repo: RepoRecord | None
    moved: RepoRecord | None
    owned: bool


@dataclasses.dataclass(frozen=True)
class TagUsage:
    """The tags, tasks and libraries that some repos of a type have."""

    tags: frozenset[str]
    pipeline_tags: frozenset[str]
    libraries: frozenset[str]


@dataclasses.dataclass(frozen=True)
class RepoQuery:
    """What a repo listing asks for; `visible_to` limits private repos to those namespaces."""

    type: str
    search: Sequence[str] = ()
    author: str | None = None
    tags: Sequence[str] = ()
    gated: bool | None = None
    pipeline_tag: str | None = None
    sort: str = "created_at"
    descending: bool = True
    offset: int = 0
    limit: int = 1000
    visible_namespaces: Sequence[str] | None = None
