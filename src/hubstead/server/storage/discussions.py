"""The `DiscussionStore` Protocol: the discussions and pull requests of each repo, with timelines.

Threads go with their repo (deleted with it, kept through a move); authors of threads and
events become None when their account is deleted. Every change also records a hub event
(`domain.hub_events`) in the same transaction, and moves the thread's `updated_at`.
Changes to a thread or event the repo does not have return None and change nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.discussions import (
    DiscussionEvent,
    DiscussionPage,
    DiscussionQuery,
    DiscussionRecord,
    DiscussionStatus,
    NewDiscussion,
)


class DiscussionStore(Protocol):
    """The threads of each repo, numbered 1, 2, ... and never renumbered."""

    def create(self, repo_id: int, new: NewDiscussion) -> DiscussionRecord:
        """Open a thread with the repo's next number, and its description as first comment.

        Concurrent creators in one repo get distinct, consecutive numbers.
        """

    def get(self, repo_id: int, num: int) -> DiscussionRecord | None:
        """The thread of the repo with this number."""

    def events(self, repo_id: int, num: int) -> list[DiscussionEvent] | None:
        """The timeline of a thread, oldest first, comments with their edit history."""

    def list(self, repo_id: int, query: DiscussionQuery) -> DiscussionPage:
        """The page of the repo's threads the query asks for, and how many match in all."""

    def add_comment(
        self, repo_id: int, num: int, author_id: int, content: str, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Append a comment."""

    def edit_comment(
        self, repo_id: int, num: int, event_id: int, content: str, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Replace a comment's content, keeping the previous one in its history."""

    def hide_comment(
        self, repo_id: int, num: int, event_id: int, actor_id: int, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Hide a comment, erasing its content and history (as the Hub does, for good)."""

    def change_status(
        self,
        repo_id: int,
        num: int,
        status: DiscussionStatus,
        author_id: int,
        at: dt.datetime,
        merge_commit_id: str | None = None,
    ) -> DiscussionEvent | None:
        """Give a thread a new status (and, when merging, the merge commit) and record it."""

    def rename(
        self, repo_id: int, num: int, title: str, author_id: int, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Give a thread a new title and record the old and the new."""

    def add_commit(
        self,
        repo_id: int,
        num: int,
        commit_id: str,
        summary: str,
        author_id: int,
        at: dt.datetime,
    ) -> DiscussionEvent | None:
        """Record a commit pushed to a pull request."""
