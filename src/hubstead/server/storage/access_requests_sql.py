"""`AccessRequestStore` on SQL: the `access_requests` table.

A user has at most one row per repo (a unique key): two requests racing leave one row, and the
second asker gets it back. A change compares the status it expects in its `UPDATE`, so of two
managers deciding at once only the first moves the request. The hub event of a change is
written last (`hub_events_sql.record_event`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.access_requests import AccessRequestRecord, AccessStatus
from hubstead.server.domain.hub_events import HubEventKind
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.hub_events_sql import record_event
from hubstead.server.storage.schema import access_requests, accounts

# Read for every authenticated request (`AuthService._identity`): built once (see tokens_sql).
_ACCEPTED_REPOS = sa.select(access_requests.c.repo_id).where(
    (access_requests.c.user_id == sa.bindparam("user_id"))
    & (access_requests.c.status == AccessStatus.ACCEPTED.value)
)


class SqlAccessRequestStore:
    """Access requests, with their users' names read along."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def ask(
        self,
        repo_id: int,
        user_id: int,
        status: AccessStatus,
        fields: dict[str, str],
        at: dt.datetime,
    ) -> AccessRequestRecord:
        """Insert the row unless the pair has one; the event only for a new row."""
        values = {
            "repo_id": repo_id,
            "user_id": user_id,
            "status": status.value,
            "fields": fields,
            "granted": False,
            "created_at": at,
            "updated_at": at,
        }
        with self._db.write() as conn:
            created = _insert_new(conn, values)
            row = conn.execute(_rows().where(_pair(repo_id, user_id))).one()
            if created:
                payload = {"user": row.user_name, "status": status.value}
                record_event(
                    conn, HubEventKind.ACCESS_REQUEST_CREATE, repo_id, None, user_id, payload, at
                )
        return _record(row._mapping)

    def find(self, repo_id: int, user_id: int) -> AccessRequestRecord | None:
        """The row of the pair."""
        return self._one(_pair(repo_id, user_id))

    def get(self, repo_id: int, request_id: int) -> AccessRequestRecord | None:
        """The row by id, within the repo."""
        return self._one(
            (access_requests.c.id == request_id) & (access_requests.c.repo_id == repo_id)
        )

    def set_status(
        self,
        request_id: int,
        expected: AccessStatus,
        status: AccessStatus,
        rejection_reason: str | None,
        actor_id: int,
        at: dt.datetime,
    ) -> AccessRequestRecord | None:
        """Compare the status and update it in one statement."""
        matches = (access_requests.c.id == request_id) & (
            access_requests.c.status == expected.value
        )
        change = {"status": status.value, "rejection_reason": rejection_reason, "updated_at": at}
        with self._db.write() as conn:
            if conn.execute(sa.update(access_requests).where(matches).values(change)).rowcount:
                return _changed(conn, request_id, expected, actor_id, at)
        return None

    def grant(
        self, repo_id: int, user_id: int, actor_id: int, at: dt.datetime
    ) -> AccessRequestRecord | None:
        """Insert an accepted row, or accept the existing one unless it is accepted."""
        values = {
            "repo_id": repo_id,
            "user_id": user_id,
            "status": AccessStatus.ACCEPTED.value,
            "fields": {},
            "granted": True,
            "created_at": at,
            "updated_at": at,
        }
        with self._db.write() as conn:
            if _insert_new(conn, values):
                row = conn.execute(_rows().where(_pair(repo_id, user_id))).one()
                payload = {"user": row.user_name, "status": row.status, "granted": True}
                record_event(
                    conn, HubEventKind.ACCESS_REQUEST_CREATE, repo_id, None, actor_id, payload, at
                )
                return _record(row._mapping)
            found = conn.execute(_rows().where(_pair(repo_id, user_id))).one()
            if found.status == AccessStatus.ACCEPTED.value:
                return None
            change = {
                "status": AccessStatus.ACCEPTED.value,
                "rejection_reason": None,
                "updated_at": at,
            }
            conn.execute(
                sa.update(access_requests).where(access_requests.c.id == found.id).values(change)
            )
            return _changed(conn, found.id, AccessStatus(found.status), actor_id, at)

    def list(
        self, repo_id: int, status: AccessStatus, offset: int, limit: int
    ) -> list[AccessRequestRecord]:
        """A page in id order."""
        query = (
            _rows()
            .where(
                (access_requests.c.repo_id == repo_id) & (access_requests.c.status == status.value)
            )
            .order_by(access_requests.c.id)
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]

    def accepted_repos(self, user_id: int) -> frozenset[int]:
        """The repo ids of the user's accepted rows."""
        with self._db.read() as conn:
            return frozenset(conn.execute(_ACCEPTED_REPOS, {"user_id": user_id}).scalars())

    def _one(self, condition: sa.ColumnElement[bool]) -> AccessRequestRecord | None:
        with self._db.read() as conn:
            row = conn.execute(_rows().where(condition)).first()
        return _record(row._mapping) if row else None


def _changed(
    conn: sa.Connection, request_id: int, previous: AccessStatus, actor_id: int, at: dt.datetime
) -> AccessRequestRecord:
    """The row after a status change, with the change's event recorded."""
    row = conn.execute(_rows().where(access_requests.c.id == request_id)).one()
    payload: dict[str, object] = {
        "user": row.user_name,
        "status": row.status,
        "previous_status": previous.value,
    }
    if row.rejection_reason is not None:
        payload["rejection_reason"] = row.rejection_reason
    record_event(conn, HubEventKind.ACCESS_REQUEST_UPDATE, row.repo_id, None, actor_id, payload, at)
    return _record(row._mapping)


def _insert_new(conn: sa.Connection, values: dict[str, Any]) -> bool:
    """Insert the row unless the user has one for the repo; whether it was inserted.

    RETURNING tells, on both databases (a row count does not, where the driver returns ids).
    """
    insert = upsert(conn, access_requests).values(values).on_conflict_do_nothing()
    return conn.execute(insert.returning(access_requests.c.id)).first() is not None


def _pair(repo_id: int, user_id: int) -> sa.ColumnElement[bool]:
    return (access_requests.c.repo_id == repo_id) & (access_requests.c.user_id == user_id)


def _rows() -> sa.Select[Any]:
    return sa.select(
        access_requests,
        accounts.c.name.label("user_name"),
        accounts.c.fullname.label("user_fullname"),
        accounts.c.email.label("user_email"),
    ).join(accounts, accounts.c.id == access_requests.c.user_id)


def _record(row: Any) -> AccessRequestRecord:
    return AccessRequestRecord(
        id=row["id"],
        repo_id=row["repo_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        user_fullname=row["user_fullname"],
        user_email=row["user_email"],
        status=AccessStatus(row["status"]),
        fields=dict(row["fields"] or {}),
        granted=bool(row["granted"]),
        rejection_reason=row["rejection_reason"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )
