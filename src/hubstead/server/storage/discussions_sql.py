"""`DiscussionStore` on SQL: `discussions`, `discussion_events`, `comment_edits`, and their numbers.

A repo's numbers come from its `discussion_numbers` row, bumped by one upsert: on PostgreSQL
the row lock holds concurrent creators back until the first commits, on SQLite the write
transaction does, so numbers are consecutive and never given twice. Each change locks its
thread's row first (PostgreSQL), so a rename reads the title it replaces and two edits of one
comment keep both earlier contents. The hub event of a change is written last
(`hub_events_sql.record_event`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.discussions import (
    Comment,
    CommentEdit,
    CommitAdded,
    DiscussionEvent,
    DiscussionPage,
    DiscussionQuery,
    DiscussionRecord,
    DiscussionSort,
    DiscussionStatus,
    DiscussionType,
    EventDetail,
    EventKind,
    NewDiscussion,
    StatusChange,
    TitleChange,
)
from hubstead.server.domain.hub_events import HubEventKind
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.hub_events_sql import event_names, record_event
from hubstead.server.storage.schema import (
    accounts,
    comment_edits,
    discussion_events,
    discussion_numbers,
    discussions,
    hub_events,
)


class SqlDiscussionStore:
    """Threads, their timelines and the earlier contents of their comments."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, repo_id: int, new: NewDiscussion) -> DiscussionRecord:
        """Take the repo's next number, insert the thread and its first comment."""
        with self._db.write() as conn:
            num = _next_num(conn, repo_id)
            values = {
                "repo_id": repo_id,
                "num": num,
                "title": new.title,
                "author_id": new.author_id,
                "is_pull_request": new.is_pull_request,
                "status": new.status.value,
                "target_branch": new.target_branch,
                "created_at": new.created_at,
                "updated_at": new.created_at,
            }
            key = conn.execute(sa.insert(discussions).values(values)).inserted_primary_key
            assert key is not None
            payload: dict[str, object] = {
                "title": new.title,
                "is_pull_request": new.is_pull_request,
                "status": new.status.value,
            }
            if new.description is not None:
                comment = Comment(new.description, False, 0, new.created_at)
                payload["event_id"] = _insert_event(
                    conn, key[0], new.author_id, new.created_at, comment
                )
            row = conn.execute(_threads().where(discussions.c.id == key[0])).one()
            record_event(
                conn,
                HubEventKind.DISCUSSION_CREATE,
                repo_id,
                num,
                new.author_id,
                payload,
                new.created_at,
            )
        return _discussion(row._mapping)

    def get(self, repo_id: int, num: int) -> DiscussionRecord | None:
        """The thread by number."""
        with self._db.read() as conn:
            row = conn.execute(_threads().where(_numbered(repo_id, num))).first()
        return _discussion(row._mapping) if row else None

    def events(self, repo_id: int, num: int) -> list[DiscussionEvent] | None:
        """The timeline in id order, which is the order the events were written in."""
        with self._db.read() as conn:
            thread = conn.execute(
                sa.select(discussions.c.id).where(_numbered(repo_id, num))
            ).scalar()
            if thread is None:
                return None
            return _load_events(conn, discussion_events.c.discussion_id == thread)

    def list(self, repo_id: int, query: DiscussionQuery) -> DiscussionPage:
        """Count the matching threads, then read the page (none for a count: `limit=0`)."""
        condition = discussions.c.repo_id == repo_id
        if query.type is not DiscussionType.ALL:
            is_pr = query.type is DiscussionType.PULL_REQUEST
            condition &= discussions.c.is_pull_request == is_pr
        if query.statuses is not None:
            condition &= discussions.c.status.in_([status.value for status in query.statuses])
        if query.author_id is not None:
            condition &= discussions.c.author_id == query.author_id
        if query.search:
            condition &= discussions.c.title.icontains(query.search, autoescape=True)
        order = [discussions.c.num.desc()]
        if query.sort is DiscussionSort.RECENTLY_UPDATED:
            order.insert(0, discussions.c.updated_at.desc())
        page = _threads().where(condition).order_by(*order).offset(query.offset).limit(query.limit)
        count = sa.select(sa.func.count()).select_from(discussions).where(condition)
        with self._db.read() as conn:
            total = conn.execute(count).scalar_one()
            rows = conn.execute(page).all() if query.limit else []
        return DiscussionPage(tuple(_discussion(row._mapping) for row in rows), total)

    def add_comment(
        self, repo_id: int, num: int, author_id: int, content: str, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Append the comment."""
        comment = Comment(content, False, 0, at)
        return self._append(repo_id, num, author_id, at, comment, HubEventKind.COMMENT_CREATE, {})

    def edit_comment(
        self, repo_id: int, num: int, event_id: int, content: str, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Move the current content to the history and write the new one (not if hidden)."""
        with self._db.write() as conn:
            row = _locked_comment(conn, repo_id, num, event_id)
            if row is None or row.hidden:
                return None
            history = {"event_id": event_id, "content": row.content, "written_at": row.updated_at}
            conn.execute(sa.insert(comment_edits).values(history))
            changes = {"content": content, "edits": row.edits + 1, "updated_at": at}
            conn.execute(_update_event(event_id).values(changes))
            _touch(conn, row.discussion_id, at)
            (event,) = _load_events(conn, discussion_events.c.id == event_id)
            record_event(
                conn,
                HubEventKind.COMMENT_UPDATE,
                repo_id,
                num,
                row.author_id,
                {"event_id": event_id, "change": "edit"},
                at,
            )
        return event

    def hide_comment(
        self, repo_id: int, num: int, event_id: int, actor_id: int, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Mark the comment hidden, blank its content and delete its history."""
        with self._db.write() as conn:
            row = _locked_comment(conn, repo_id, num, event_id)
            if row is None:
                return None
            if row.hidden:
                (event,) = _load_events(conn, discussion_events.c.id == event_id)
                return event
            conn.execute(sa.delete(comment_edits).where(comment_edits.c.event_id == event_id))
            changes = {"content": "", "hidden": True, "updated_at": at}
            conn.execute(_update_event(event_id).values(changes))
            _touch(conn, row.discussion_id, at)
            (event,) = _load_events(conn, discussion_events.c.id == event_id)
            names = event_names(conn, repo_id, actor_id)
            assert isinstance(event.detail, Comment)
            hider = dataclasses.replace(event.detail, hidden_by=names.actor_name)
            event = dataclasses.replace(event, detail=hider)
            record_event(
                conn,
                HubEventKind.COMMENT_UPDATE,
                repo_id,
                num,
                actor_id,
                {"event_id": event_id, "change": "hide"},
                at,
                names=names,
            )
        return event

    def change_status(
        self,
        repo_id: int,
        num: int,
        status: DiscussionStatus,
        author_id: int,
        at: dt.datetime,
        merge_commit_id: str | None = None,
    ) -> DiscussionEvent | None:
        """Set the status (and merge commit) and append the status change."""
        changes: dict[str, object] = {"status": status.value}
        payload: dict[str, object] = {"status": status.value}
        if merge_commit_id is not None:
            changes["merge_commit_id"] = payload["merge_commit_id"] = merge_commit_id
        return self._append(
            repo_id,
            num,
            author_id,
            at,
            StatusChange(status),
            HubEventKind.DISCUSSION_UPDATE,
            payload,
            changes,
        )

    def rename(
        self, repo_id: int, num: int, title: str, author_id: int, at: dt.datetime
    ) -> DiscussionEvent | None:
        """Set the title and append the change from the title it replaces."""
        with self._db.write() as conn:
            row = _locked_thread(conn, repo_id, num)
            if row is None:
                return None
            conn.execute(
                sa.update(discussions).where(discussions.c.id == row.id).values(title=title)
            )
            detail = TitleChange(row.title, title)
            event = _append_event(conn, row.id, author_id, at, detail)
            record_event(
                conn,
                HubEventKind.DISCUSSION_UPDATE,
                repo_id,
                num,
                author_id,
                {"event_id": event.id, "title": title},
                at,
            )
        return event

    def add_commit(
        self,
        repo_id: int,
        num: int,
        commit_id: str,
        summary: str,
        author_id: int,
        at: dt.datetime,
    ) -> DiscussionEvent | None:
        """Append the commit."""
        payload: dict[str, object] = {"commit_id": commit_id}
        detail = CommitAdded(commit_id, summary)
        return self._append(
            repo_id, num, author_id, at, detail, HubEventKind.DISCUSSION_UPDATE, payload
        )

    def _append(
        self,
        repo_id: int,
        num: int,
        author_id: int,
        at: dt.datetime,
        detail: EventDetail,
        kind: HubEventKind,
        payload: dict[str, object],
        changes: dict[str, object] | None = None,
    ) -> DiscussionEvent | None:
        """Apply `changes` to the thread, append the event and record the hub event."""
        with self._db.write() as conn:
            row = _locked_thread(conn, repo_id, num)
            if row is None:
                return None
            if changes:
                conn.execute(
                    sa.update(discussions).where(discussions.c.id == row.id).values(changes)
                )
            event = _append_event(conn, row.id, author_id, at, detail)
            record_event(conn, kind, repo_id, num, author_id, {"event_id": event.id} | payload, at)
        return event


def _next_num(conn: sa.Connection, repo_id: int) -> int:
    statement = (
        upsert(conn, discussion_numbers)
        .values(repo_id=repo_id, last_num=1)
        .on_conflict_do_update(
            index_elements=[discussion_numbers.c.repo_id],
            set_={"last_num": discussion_numbers.c.last_num + 1},
        )
        .returning(discussion_numbers.c.last_num)
    )
    num: int = conn.execute(statement).scalar_one()
    return num


def _numbered(repo_id: int, num: int) -> sa.ColumnElement[bool]:
    return (discussions.c.repo_id == repo_id) & (discussions.c.num == num)


def _threads() -> sa.Select[Any]:
    comments = (
        sa.select(sa.func.count())
        .where(discussion_events.c.discussion_id == discussions.c.id)
        .where(discussion_events.c.kind == EventKind.COMMENT.value)
        .scalar_subquery()
    )
    return sa.select(
        discussions, accounts.c.name.label("author_name"), comments.label("comments")
    ).outerjoin(accounts, accounts.c.id == discussions.c.author_id)


def _locked_thread(conn: sa.Connection, repo_id: int, num: int) -> sa.Row[Any] | None:
    query = sa.select(discussions).where(_numbered(repo_id, num))
    return conn.execute(query.with_for_update()).first()


def _locked_comment(
    conn: sa.Connection, repo_id: int, num: int, event_id: int
) -> sa.Row[Any] | None:
    """The comment of the thread with this id, locked with its thread's row."""
    query = (
        sa.select(discussion_events)
        .join(discussions, discussions.c.id == discussion_events.c.discussion_id)
        .where(_numbered(repo_id, num))
        .where(discussion_events.c.id == event_id)
        .where(discussion_events.c.kind == EventKind.COMMENT.value)
    )
    return conn.execute(query.with_for_update()).first()


def _update_event(event_id: int) -> sa.Update:
    return sa.update(discussion_events).where(discussion_events.c.id == event_id)


def _touch(conn: sa.Connection, discussion_id: int, at: dt.datetime) -> None:
    update = sa.update(discussions).where(discussions.c.id == discussion_id)
    conn.execute(update.values(updated_at=at))


def _append_event(
    conn: sa.Connection, discussion_id: int, author_id: int, at: dt.datetime, detail: EventDetail
) -> DiscussionEvent:
    event_id = _insert_event(conn, discussion_id, author_id, at, detail)
    _touch(conn, discussion_id, at)
    (event,) = _load_events(conn, discussion_events.c.id == event_id)
    return event


def _insert_event(
    conn: sa.Connection, discussion_id: int, author_id: int, at: dt.datetime, detail: EventDetail
) -> int:
    values: dict[str, object] = {
        "discussion_id": discussion_id,
        "kind": detail.kind.value,
        "author_id": author_id,
        "created_at": at,
    }
    match detail:
        case Comment():
            values.update(
                content=detail.content,
                hidden=detail.hidden,
                edits=detail.edits,
                updated_at=detail.updated_at,
            )
        case StatusChange():
            values.update(status=detail.status.value)
        case TitleChange():
            values.update(old_title=detail.old, new_title=detail.new)
        case CommitAdded():
            values.update(commit_id=detail.commit_id, summary=detail.summary)
    key = conn.execute(sa.insert(discussion_events).values(values)).inserted_primary_key
    assert key is not None
    event_id: int = key[0]
    return event_id


def _load_events(conn: sa.Connection, condition: sa.ColumnElement[bool]) -> list[DiscussionEvent]:
    """The events matching the condition in id order, comments with their history."""
    query = (
        sa.select(discussion_events, accounts.c.name.label("author_name"))
        .outerjoin(accounts, accounts.c.id == discussion_events.c.author_id)
        .where(condition)
        .order_by(discussion_events.c.id)
    )
    rows = [row._mapping for row in conn.execute(query)]
    histories = _histories(conn, [row["id"] for row in rows if row["edits"]])
    hiders = _hiders(conn, [row for row in rows if row["hidden"]])
    return [_event(row, histories.get(row["id"], ()), hiders.get(row["id"])) for row in rows]


def _hiders(conn: sa.Connection, hidden: list[Any]) -> dict[int, str]:
    """Who hid each of these hidden comments, from the events `hide_comment` recorded with them.

    The event keeps the hider's name as it was then (it stays once the account is gone).
    """
    if not hidden:
        return {}
    ids = {row["id"] for row in hidden}
    query = (
        sa.select(hub_events.c.payload, hub_events.c.actor_name)
        .join(
            discussions,
            (discussions.c.repo_id == hub_events.c.repo_id)
            & (discussions.c.num == hub_events.c.discussion_num),
        )
        .where(discussions.c.id.in_({row["discussion_id"] for row in hidden}))
        .where(hub_events.c.kind == HubEventKind.COMMENT_UPDATE.value)
        .order_by(hub_events.c.id)
    )
    found: dict[int, str] = {}
    for payload, actor_name in conn.execute(query):
        event_id = payload.get("event_id")
        if payload.get("change") == "hide" and event_id in ids and actor_name is not None:
            found.setdefault(event_id, actor_name)
    return found


def _histories(conn: sa.Connection, event_ids: list[int]) -> dict[int, tuple[CommentEdit, ...]]:
    if not event_ids:
        return {}
    query = (
        sa.select(comment_edits)
        .where(comment_edits.c.event_id.in_(event_ids))
        .order_by(comment_edits.c.id)
    )
    histories: dict[int, list[CommentEdit]] = {}
    for row in conn.execute(query):
        edit = CommentEdit(row.content, as_utc(row.written_at))
        histories.setdefault(row.event_id, []).append(edit)
    return {event_id: tuple(edits) for event_id, edits in histories.items()}


def _event(
    row: Any, history: tuple[CommentEdit, ...], hidden_by: str | None = None
) -> DiscussionEvent:
    return DiscussionEvent(
        id=row["id"],
        discussion_id=row["discussion_id"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        created_at=as_utc(row["created_at"]),
        detail=_detail(row, history, hidden_by),
    )


def _detail(row: Any, history: tuple[CommentEdit, ...], hidden_by: str | None) -> EventDetail:
    match EventKind(row["kind"]):
        case EventKind.COMMENT:
            updated_at = as_utc(row["updated_at"])
            return Comment(
                row["content"], row["hidden"], row["edits"], updated_at, history, hidden_by
            )
        case EventKind.STATUS_CHANGE:
            return StatusChange(DiscussionStatus(row["status"]))
        case EventKind.TITLE_CHANGE:
            return TitleChange(row["old_title"], row["new_title"])
        case EventKind.COMMIT:
            return CommitAdded(row["commit_id"], row["summary"])


def _discussion(row: Any) -> DiscussionRecord:
    return DiscussionRecord(
        id=row["id"],
        repo_id=row["repo_id"],
        num=row["num"],
        title=row["title"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        is_pull_request=row["is_pull_request"],
        status=DiscussionStatus(row["status"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        target_branch=row["target_branch"],
        merge_commit_id=row["merge_commit_id"],
        comments=row.get("comments") or 0,
    )
