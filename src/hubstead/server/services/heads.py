"""Branch heads as the repo row records them: the lock a branch moves under, and the row's refresh.

Every writer that moves a branch (the commit API, git pushes, branch changes, mirror syncs and
pull-through) holds the repo's publish lock from moving the branch to recording the move with
`record_push`, which refreshes what the repo row derives from its default branch (head, last
change, card data, library, task, tags). So the row of the last change to land is written last,
never overwritten by an older one. `RepoService` and the mirroring services both build on this,
which is why it lives apart from either.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import cards
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.repos import RepoStore


class HeadService:
    """The publish locks of repos, and the refresh of a repo row after its default branch moved."""

    def __init__(self, store: RepoStore, git: GitObjectStore) -> None:
        self._store = store
        self._git = git
        # One lock per repo, alive while someone holds or waits for it: writers of different
        # repos never wait for each other (hashed slots made a slow push stall other repos).
        self._locks: weakref.WeakValueDictionary[int, threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._guard = threading.Lock()

    def publish_lock(self, repo: RepoRecord) -> threading.Lock:
        """The lock to hold from moving one of the repo's branches to `record_push`.

        With every writer (commit API, git push, sync) holding it, the row of the last change
        to land is written last, never overwritten by an older one. Each repo has its own.
        """
        with self._guard:
            lock = self._locks.get(repo.id)
            if lock is None:
                lock = self._locks[repo.id] = threading.Lock()
            return lock

    def record_push(self, repo: RepoRecord, branch: str, commit_id: str) -> RepoRecord:
        """Refresh what the repo row derives from its default branch after it moved."""
        if branch != DEFAULT_BRANCH:
            return repo
        facts = cards.read_facts(self._git, repo, commit_id)
        return self._store.update_repo(
            repo.id,
            head=commit_id,
            last_modified=dt.datetime.now(dt.UTC),
            card_data=facts.card_data,
            library_name=facts.library_name,
            pipeline_tag=facts.pipeline_tag,
            tags=list(facts.tags),
        )
