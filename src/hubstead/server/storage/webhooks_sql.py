"""`WebhookStore` on SQL: `webhooks`, `webhook_watches` and `webhook_deliveries`.

A webhook's `after_event` is read from the outbox in the transaction that adds it, so it is told
of exactly the events committed after it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.webhooks import (
    Attempt,
    DeliveryRecord,
    DeliveryState,
    Domain,
    NewDelivery,
    NewWebhook,
    Watch,
    WatchKind,
    WebhookRecord,
)
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.errors import AlreadyExistsError, CapacityError
from hubstead.server.storage.schema import (
    hub_events,
    webhook_deliveries,
    webhook_watches,
    webhooks,
)


class SqlWebhookStore:
    """Webhooks and their deliveries in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, new: NewWebhook, limit: int) -> WebhookRecord:
        """Count the owner's webhooks and read the outbox's last id in the adding transaction."""
        with self._db.write() as conn:
            owned = conn.execute(
                sa.select(sa.func.count()).where(webhooks.c.owner_id == new.owner_id)
            ).scalar_one()
            if owned >= limit:
                raise CapacityError(f"at most {limit} webhooks per user")
            after = conn.scalar(sa.select(sa.func.coalesce(sa.func.max(hub_events.c.id), 0)))
            values = {
                "object_id": new.object_id,
                "owner_id": new.owner_id,
                "url": new.url,
                "secret": new.secret,
                "domains": [d.value for d in new.domains],
                "disabled": False,
                "after_event": after,
                "created_at": new.created_at,
                "updated_at": new.created_at,
            }
            try:
                webhook_id = conn.execute(
                    sa.insert(webhooks).values(values).returning(webhooks.c.id)
                ).scalar_one()
            except sa.exc.IntegrityError as exc:
                raise AlreadyExistsError(new.object_id) from exc
            _write_watches(conn, webhook_id, new.watched)
            [record] = _load(conn, webhooks.c.id == webhook_id)
        return record

    def get(self, object_id: str) -> WebhookRecord | None:
        """By public id."""
        with self._db.read() as conn:
            found = _load(conn, webhooks.c.object_id == object_id)
        return found[0] if found else None

    def get_by_id(self, webhook_id: int) -> WebhookRecord | None:
        """By row id."""
        with self._db.read() as conn:
            found = _load(conn, webhooks.c.id == webhook_id)
        return found[0] if found else None

    def list_owned(self, owner_id: int) -> list[WebhookRecord]:
        """Oldest first."""
        with self._db.read() as conn:
            return _load(conn, webhooks.c.owner_id == owner_id)

    def replace(
        self,
        webhook_id: int,
        *,
        url: str,
        secret: str | None,
        domains: Sequence[Domain],
        watched: Sequence[Watch],
        disabled: bool,
        at: dt.datetime,
    ) -> WebhookRecord | None:
        """Rewrite the row and its watched entries in one transaction."""
        values = {
            "url": url,
            "secret": secret,
            "domains": [d.value for d in domains],
            "disabled": disabled,
            "updated_at": at,
        }
        with self._db.write() as conn:
            changed = conn.execute(
                sa.update(webhooks).where(webhooks.c.id == webhook_id).values(values)
            ).rowcount
            if not changed:
                return None
            conn.execute(
                sa.delete(webhook_watches).where(webhook_watches.c.webhook_id == webhook_id)
            )
            _write_watches(conn, webhook_id, watched)
            [record] = _load(conn, webhooks.c.id == webhook_id)
        return record

    def delete(self, webhook_id: int) -> bool:
        """Deliveries and watched entries go by cascade."""
        with self._db.write() as conn:
            return bool(
                conn.execute(sa.delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount
            )

    def watching(
        self, watches: Sequence[Watch], domain: Domain, event_id: int
    ) -> list[WebhookRecord]:
        """Match watched entries by index; the domain is checked on the loaded rows."""
        if not watches:
            return []
        pairs = [
            (webhook_watches.c.kind == w.kind.value) & (webhook_watches.c.lookup == w.name.lower())
            for w in watches
        ]
        ids = (
            sa.select(webhook_watches.c.webhook_id)
            .where(sa.or_(*pairs))
            .distinct()
            .scalar_subquery()
        )
        condition = (
            webhooks.c.id.in_(ids)
            & sa.not_(webhooks.c.disabled)
            & (webhooks.c.after_event < event_id)
        )
        with self._db.read() as conn:
            found = _load(conn, condition)
        return [w for w in found if domain in w.domains]

    def add_deliveries(self, new: Sequence[NewDelivery]) -> list[DeliveryRecord]:
        """INSERT … ON CONFLICT DO NOTHING, then read back the rows this call added."""
        if not new:
            return []
        rows = [
            {
                "object_id": d.object_id,
                "webhook_id": d.webhook_id,
                "event_id": d.event_id,
                "event": d.event,
                "payload": d.payload,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "created_at": d.created_at,
            }
            for d in new
        ]
        with self._db.write() as conn:
            conn.execute(upsert(conn, webhook_deliveries).on_conflict_do_nothing(), rows)
            return _load_deliveries(
                conn, webhook_deliveries.c.object_id.in_([d.object_id for d in new])
            )

    def get_delivery(self, delivery_id: int) -> DeliveryRecord | None:
        """By row id."""
        with self._db.read() as conn:
            found = _load_deliveries(conn, webhook_deliveries.c.id == delivery_id)
        return found[0] if found else None

    def find_delivery(self, webhook_id: int, object_id: str) -> DeliveryRecord | None:
        """By public id, within the webhook."""
        condition = (webhook_deliveries.c.webhook_id == webhook_id) & (
            webhook_deliveries.c.object_id == object_id
        )
        with self._db.read() as conn:
            found = _load_deliveries(conn, condition)
        return found[0] if found else None

    def list_deliveries(self, webhook_id: int, offset: int, limit: int) -> list[DeliveryRecord]:
        """Newest first."""
        with self._db.read() as conn:
            return _load_deliveries(
                conn,
                webhook_deliveries.c.webhook_id == webhook_id,
                offset=offset,
                limit=limit,
            )

    def record_attempt(self, delivery_id: int, attempt: Attempt) -> DeliveryRecord | None:
        """One UPDATE: the count moves in the database, not from a value read earlier."""
        counted = 0 if attempt.state is DeliveryState.CANCELLED else 1
        values: dict[str, Any] = {
            "state": attempt.state.value,
            "attempts": webhook_deliveries.c.attempts + counted,
            "error": attempt.error,
            "attempted_at": attempt.at,
        }
        if attempt.status_code is not None:
            values.update(status_code=attempt.status_code, latency_ms=attempt.latency_ms)
        return self._update_delivery(delivery_id, values)

    def reset(self, delivery_id: int) -> DeliveryRecord | None:
        """Pending again; the attempts made so far stay counted."""
        return self._update_delivery(delivery_id, {"state": DeliveryState.PENDING.value})

    def _update_delivery(self, delivery_id: int, values: dict[str, Any]) -> DeliveryRecord | None:
        condition = webhook_deliveries.c.id == delivery_id
        with self._db.write() as conn:
            if not conn.execute(
                sa.update(webhook_deliveries).where(condition).values(values)
            ).rowcount:
                return None
            [record] = _load_deliveries(conn, condition)
        return record


def _write_watches(conn: sa.Connection, webhook_id: int, watched: Sequence[Watch]) -> None:
    rows = [
        {
            "webhook_id": webhook_id,
            "kind": w.kind.value,
            "lookup": w.name.lower(),
            "name": w.name,
            "position": n,
        }
        for n, w in enumerate(watched)
    ]
    if rows:
        conn.execute(sa.insert(webhook_watches), rows)


def _load(conn: sa.Connection, condition: sa.ColumnElement[bool]) -> list[WebhookRecord]:
    rows = conn.execute(sa.select(webhooks).where(condition).order_by(webhooks.c.id)).all()
    if not rows:
        return []
    watched: dict[int, list[Watch]] = {row.id: [] for row in rows}
    query = (
        sa.select(webhook_watches)
        .where(webhook_watches.c.webhook_id.in_(list(watched)))
        .order_by(webhook_watches.c.webhook_id, webhook_watches.c.position)
    )
    for watch in conn.execute(query):
        watched[watch.webhook_id].append(Watch(WatchKind(watch.kind), watch.name))
    return [_webhook(row._mapping, watched[row.id]) for row in rows]


def _webhook(row: Any, watched: list[Watch]) -> WebhookRecord:
    return WebhookRecord(
        id=row["id"],
        object_id=row["object_id"],
        owner_id=row["owner_id"],
        url=row["url"],
        secret=row["secret"],
        domains=tuple(Domain(d) for d in row["domains"]),
        watched=tuple(watched),
        disabled=row["disabled"],
        after_event=row["after_event"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )


def _load_deliveries(
    conn: sa.Connection,
    condition: sa.ColumnElement[bool],
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[DeliveryRecord]:
    query = (
        sa.select(webhook_deliveries)
        .where(condition)
        .order_by(webhook_deliveries.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_delivery(row._mapping) for row in conn.execute(query)]


def _delivery(row: Any) -> DeliveryRecord:
    attempted = row["attempted_at"]
    return DeliveryRecord(
        id=row["id"],
        object_id=row["object_id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        event=row["event"],
        payload=row["payload"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        created_at=as_utc(row["created_at"]),
        attempted_at=None if attempted is None else as_utc(attempted),
    )
