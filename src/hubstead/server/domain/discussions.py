"""Discussions and pull requests of a repo, and the events of their timelines.

A pull request is a discussion with a git ref, `refs/pr/<num>`, and a target branch; both kinds
share one sequence of numbers per repo, starting at 1. A timeline is a list of events in the
order they happened: comments (edited in place, their earlier contents kept, or hidden),
status changes, title changes, and the commits pushed to a pull request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import ClassVar


class DiscussionStatus(enum.StrEnum):
    """Where a thread is: open or closed; a pull request may also be a draft, or merged."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class DiscussionType(enum.StrEnum):
    """Which threads a listing shows (the Hub's `type` filter)."""

    ALL = "all"
    DISCUSSION = "discussion"
    PULL_REQUEST = "pull_request"


class DiscussionSort(enum.StrEnum):
    """The order of a listing: newest first, or most recently active first."""

    RECENTLY_CREATED = "recently-created"
    RECENTLY_UPDATED = "recently-updated"


@dataclasses.dataclass(frozen=True)
class DiscussionRecord:
    """A discussion or pull request.

    `author_id` and `author_name` are None once the author's account is deleted. `updated_at`
    is the time of the newest event. `target_branch` is the branch a pull request merges into
    (None for a discussion); `merge_commit_id` is set once it is merged. `comments` counts
    its comments, hidden ones included (the store reads it with the thread).
    """

    id: int
    repo_id: int
    num: int
    title: str
    author_id: int | None
    author_name: str | None
    is_pull_request: bool
    status: DiscussionStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    target_branch: str | None
    merge_commit_id: str | None
    comments: int = 0

    @property
    def git_ref(self) -> str | None:
        """The ref that holds a pull request's commits."""
        return f"refs/pr/{self.num}" if self.is_pull_request else None


@dataclasses.dataclass(frozen=True)
class NewDiscussion:
    """A thread to open; `description`, when given, becomes its first comment."""

    title: str
    author_id: int
    is_pull_request: bool
    status: DiscussionStatus
    target_branch: str | None
    description: str | None
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class DiscussionQuery:
    """What a listing shows: filters (None means any), order, and the window of the page.

    `statuses` is a set because the Hub's `open` filter also shows drafts; `search` matches
    titles, ignoring case.
    """

    type: DiscussionType = DiscussionType.ALL
    statuses: frozenset[DiscussionStatus] | None = None
    author_id: int | None = None
    search: str | None = None
    sort: DiscussionSort = DiscussionSort.RECENTLY_CREATED
    offset: int = 0
    limit: int = 50


@dataclasses.dataclass(frozen=True)
class DiscussionPage:
    """One page of a listing, and how many threads the whole listing holds."""

    discussions: tuple[DiscussionRecord, ...]
    total: int


class EventKind(enum.StrEnum):
    """What happened in a timeline (the Hub's event `type`)."""

    COMMENT = "comment"
    STATUS_CHANGE = "status-change"
    TITLE_CHANGE = "title-change"
    COMMIT = "commit"


@dataclasses.dataclass(frozen=True)
class CommentEdit:
    """An earlier content of a comment, and when it was written."""

    content: str
    written_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Comment:
    """A comment as it reads now, and its earlier contents, oldest first.

    `updated_at` is when the current content was written. A hidden comment keeps no content
    and no history (on the Hub, hiding is irrecoverable); `edits` still counts its edits, and
    `hidden_by` names who hid it (None when unknown).
    """

    kind: ClassVar[EventKind] = EventKind.COMMENT

    content: str
    hidden: bool
    edits: int
    updated_at: dt.datetime
    history: tuple[CommentEdit, ...] = ()
    hidden_by: str | None = None


@dataclasses.dataclass(frozen=True)
class StatusChange:
    """The status a thread was given."""

    kind: ClassVar[EventKind] = EventKind.STATUS_CHANGE

    status: DiscussionStatus


@dataclasses.dataclass(frozen=True)
class TitleChange:
    """A rename."""

    kind: ClassVar[EventKind] = EventKind.TITLE_CHANGE

    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class CommitAdded:
    """A commit pushed to a pull request, and its summary line."""

    kind: ClassVar[EventKind] = EventKind.COMMIT

    commit_id: str
    summary: str


EventDetail = Comment | StatusChange | TitleChange | CommitAdded


@dataclasses.dataclass(frozen=True)
class DiscussionEvent:
    """An event of a timeline: who did what, when (author None once their account is gone)."""

    id: int
    discussion_id: int
    author_id: int | None
    author_name: str | None
    created_at: dt.datetime
    detail: EventDetail

    @property
    def kind(self) -> EventKind:
        """What happened."""
        return self.detail.kind
