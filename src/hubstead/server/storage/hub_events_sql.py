"""`HubEventLog` on SQL: the `hub_events` table, and `record_event` for the stores that write it.

Ids are visible in the order they are given out. SQLite has one writer at a time; on
PostgreSQL, two transactions could take ids 5 and 6 and commit 6 first, and a reader that saw
6 would then skip 5. So every writer takes one transaction-scoped advisory lock before taking
an id, and holds it until its commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.hub_events import TOPIC, HubEventKind, HubEventRecord
from hubstead.server.storage.db import Database, announce, as_utc, upsert
from hubstead.server.storage.schema import accounts, hub_event_cursors, hub_events, repos

# The key of the PostgreSQL advisory lock that orders the outbox ("hubevts" in ASCII).
_OUTBOX_LOCK = 0x68756265767473


@dataclasses.dataclass(frozen=True)
class EventNames:
    """What an event calls its repo and actor: the names they have when it is recorded."""

    repo_type: str
    repo_name: str
    actor_name: str | None


def event_names(conn: sa.Connection, repo_id: int, actor_id: int | None) -> EventNames:
    """The names of a repo and an account as they are now, in the caller's transaction."""
    repo = conn.execute(
        sa.select(repos.c.type, repos.c.namespace, repos.c.name).where(repos.c.id == repo_id)
    ).one()
    actor = None
    if actor_id is not None:
        actor = conn.execute(sa.select(accounts.c.name).where(accounts.c.id == actor_id)).scalar()
    return EventNames(repo.type, f"{repo.namespace}/{repo.name}", actor)


def record_event(
    conn: sa.Connection,
    kind: HubEventKind,
    repo_id: int,
    discussion_num: int | None,
    actor_id: int | None,
    payload: dict[str, object],
    created_at: dt.datetime,
    *,
    names: EventNames | None = None,
) -> None:
    """Add an event to the outbox, as the last statement of the caller's write transaction.

    Last, because the outbox lock is held from here to the commit: a writer holding it waits
    for nothing else, so writers cannot deadlock on it. The repo's and the actor's names are
    read first, in the same transaction, and kept with the event; a transaction that renames
    or deletes the repo reads them with `event_names` before, and passes them as `names`.
    """
    if names is None:
        names = event_names(conn, repo_id, actor_id)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_OUTBOX_LOCK)))
    values = {
        "kind": kind.value,
        "repo_id": repo_id,
        "repo_type": names.repo_type,
        "repo_name": names.repo_name,
        "discussion_num": discussion_num,
        "actor_id": actor_id,
        "actor_name": names.actor_name,
        "payload": payload,
        "created_at": created_at,
    }
    conn.execute(sa.insert(hub_events).values(values))
    announce(conn, TOPIC)


class SqlHubEventLog:
    """The outbox, read by id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list_events(self, after_id: int, limit: int) -> list[HubEventRecord]:
        """A page in id order (keyset on the id)."""
        query = (
            sa.select(hub_events)
            .where(hub_events.c.id > after_id)
            .order_by(hub_events.c.id)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]

    def cursor(self, reader: str) -> int:
        """The last id `reader` is done with (0 before its first)."""
        query = sa.select(hub_event_cursors.c.last_id).where(hub_event_cursors.c.name == reader)
        with self._db.read() as conn:
            return conn.scalar(query) or 0

    def advance(self, reader: str, last_id: int) -> None:
        """Move the cursor forward to `last_id`; never back (two readers may race)."""
        with self._db.write() as conn:
            insert = upsert(conn, hub_event_cursors).values(name=reader, last_id=last_id)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[hub_event_cursors.c.name],
                    set_={"last_id": last_id},
                    where=hub_event_cursors.c.last_id < last_id,
                )
            )


def _record(row: Any) -> HubEventRecord:
    return HubEventRecord(
        id=row["id"],
        kind=HubEventKind(row["kind"]),
        repo_id=row["repo_id"],
        repo_type=row["repo_type"],
        repo_name=row["repo_name"],
        discussion_num=row["discussion_num"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        payload=row["payload"],
        created_at=as_utc(row["created_at"]),
    )
