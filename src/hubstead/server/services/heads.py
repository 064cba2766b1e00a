"""Refs as the hub records their moves: the lock a ref moves under, the row's refresh, the event.

Every writer that moves refs (the commit API, pull requests and their merges, git pushes,
branch and tag changes, super-squash, mirror syncs) holds the repo's publish lock from its
compare-and-swap to recording the change with `record_push`, once per change: in one
transaction, the `repo.content.update` hub event lists the refs that moved, and when `main`
moved, the repo row's refresh of what it derives from it (head, last change, card data,
library, task, tags). So the row of the last change to land is written last, never overwritten
by an older one, and the outbox lists changes in the order their refs moved. `RepoService` and
the mirroring services both build on this, which is why it lives apart from either.

The publish lock must hold across processes (`hubstead serve --workers N`): it is a `Mutexes`
lock of the data dir, not a `threading.Lock` of this process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import cards
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.mutexes import Mutexes
from hubstead.server.storage.repos import RepoStore

_DEFAULT_REF = f"refs/heads/{DEFAULT_BRANCH}"


class HeadService:
    """The publish locks of repos, and the record of their refs' moves (row refresh, hub event)."""

    def __init__(self, store: RepoStore, git: GitObjectStore, mutexes: Mutexes) -> None:
        self._store = store
        self._git = git
        self._mutexes = mutexes

    def publish_lock(self, repo: RepoRecord) -> AbstractContextManager[None]:
        """The lock to hold from moving one of the repo's refs to `record_push`.

        With every writer (commit API, git push, sync, in any server process) holding it, the
        row of the last change to land is written last, never overwritten by an older one.
        Each repo has its own: writers of different repos never wait for each other (hashed
        slots made a slow push stall other repos).
        """
        return self._mutexes.hold(f"publish-{repo.id}")

    def record_push(
        self, repo: RepoRecord, updates: Sequence[RefUpdate], actor_id: int | None
    ) -> RepoRecord:
        """Record one change's ref moves, under the publish lock, right after they happened.

        Writes the `repo.content.update` event (`actor_id` None for an operator's doing), and
        when `main` moved, refreshes what the row derives from it, in one transaction. With no
        updates (a push git refused), nothing is recorded.
        """
        if not updates:
            return repo
        moved = [update.new for update in updates if update.name == _DEFAULT_REF]
        refresh = self._derived(repo, moved[0]) if moved and moved[0] is not None else {}
        main = self._git.ref_target(repo.storage_key, _DEFAULT_REF)
        return self._store.record_refs(repo.id, updates, main, actor_id, refresh)

    def refresh(self, repo: RepoRecord, commit_id: str) -> RepoRecord:
        """Make the row describe `main` at `commit_id`, without an event.

        For a repo that came into being with its refs (a duplicate, a pulled-through mirror):
        its `repo.create` event is the news, not the refs it started with.
        """
        return self._store.update_repo(repo.id, **self._derived(repo, commit_id))

    def _derived(self, repo: RepoRecord, commit_id: str) -> dict[str, object]:
        """The columns of the row derived from `main` at `commit_id`."""
        facts = cards.read_facts(self._git, repo, commit_id)
        return {
            "head": commit_id,
            "last_modified": dt.datetime.now(dt.UTC),
            "card_data": facts.card_data,
            "library_name": facts.library_name,
            "pipeline_tag": facts.pipeline_tag,
            "tags": list(facts.tags),
        }
