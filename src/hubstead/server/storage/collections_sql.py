"""`CollectionStore` on SQL: `collections` and `collection_items`.

Positions are rewritten together with the change that moves them, in one write transaction;
on PostgreSQL the collection's row is locked first, so concurrent changes to one collection
take turns (and an append counts the items it may add to).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.collections import (
    CollectionItem,
    CollectionOwner,
    CollectionQuery,
    CollectionRecord,
    ItemType,
    NestedCollection,
    NewItem,
)
from hubstead.server.storage.db import Database, as_utc
from hubstead.server.storage.errors import AlreadyExistsError, CapacityError
from hubstead.server.storage.repos_sql import repo_record
from hubstead.server.storage.schema import accounts, collection_items, collections, repos

_UPDATABLE = frozenset({"title", "description", "private", "theme"})


class SqlCollectionStore:
    """Collections and their items in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        owner_id: int,
        object_id: str,
        title: str,
        description: str | None,
        private: bool,
        theme: str,
        at: dt.datetime,
    ) -> CollectionRecord:
        """Insert the row at the end of the owner's collections."""
        with self._db.write() as conn:
            count = conn.scalar(
                sa.select(sa.func.count()).where(collections.c.owner_id == owner_id)
            )
            values = {
                "object_id": object_id,
                "owner_id": owner_id,
                "title": title,
                "description": description,
                "private": private,
                "theme": theme,
                "position": count,
                "created_at": at,
                "updated_at": at,
            }
            try:
                conn.execute(sa.insert(collections).values(values))
            except sa.exc.IntegrityError as exc:
                raise AlreadyExistsError(object_id) from exc
            [record] = _load(conn, collections.c.object_id == object_id)
        return record

    def find_title(self, owner_id: int, title: str) -> CollectionRecord | None:
        """Compare titles in lower case."""
        condition = (collections.c.owner_id == owner_id) & (
            sa.func.lower(collections.c.title) == title.lower()
        )
        with self._db.read() as conn:
            found = _load(conn, condition, limit=1)
        return found[0] if found else None

    def get(self, object_id: str) -> CollectionRecord | None:
        """The collection and its items."""
        with self._db.read() as conn:
            found = _load(conn, collections.c.object_id == object_id)
        return found[0] if found else None

    def list(self, query: CollectionQuery) -> list[CollectionRecord]:
        """Filter on owners, visibility and an item; newest change first."""
        condition: sa.ColumnElement[bool] = sa.true()
        if query.visible_namespaces is not None:
            visible = [name.lower() for name in query.visible_namespaces]
            condition &= collections.c.private.is_(False) | accounts.c.name_lower.in_(visible)
        if query.owners:
            condition &= accounts.c.name_lower.in_([owner.lower() for owner in query.owners])
        if query.item_repo_id is not None:
            condition &= collections.c.id.in_(
                sa.select(collection_items.c.collection_id).where(
                    collection_items.c.repo_id == query.item_repo_id
                )
            )
        if query.item_collection_id is not None:
            condition &= collections.c.id.in_(
                sa.select(collection_items.c.collection_id).where(
                    collection_items.c.item_collection_id == query.item_collection_id
                )
            )
        with self._db.read() as conn:
            return _load(conn, condition, offset=query.offset, limit=query.limit)

    def update(
        self, collection_id: int, values: dict[str, object], at: dt.datetime
    ) -> CollectionRecord | None:
        """Write the columns, then move the collection among its owner's when asked."""
        with self._db.write() as conn:
            owner_id = _lock(conn, collection_id)
            if owner_id is None:
                return None
            changes = {key: value for key, value in values.items() if key in _UPDATABLE}
            conn.execute(
                sa.update(collections)
                .where(collections.c.id == collection_id)
                .values(**changes, updated_at=at)
            )
            position = values.get("position")
            if isinstance(position, int):
                siblings = _ordered(conn, collections, collections.c.owner_id == owner_id)
                _renumber(conn, collections, _moved(siblings, collection_id, position))
            [record] = _load(conn, collections.c.id == collection_id)
        return record

    def delete(self, collection_id: int) -> bool:
        """Delete the row (items cascade) and renumber the owner's others."""
        with self._db.write() as conn:
            owner_id = _lock(conn, collection_id)
            if owner_id is None:
                return False
            conn.execute(sa.delete(collections).where(collections.c.id == collection_id))
            _renumber(
                conn, collections, _ordered(conn, collections, collections.c.owner_id == owner_id)
            )
        return True

    def add_item(
        self, collection_id: int, object_id: str, item: NewItem, max_items: int, at: dt.datetime
    ) -> CollectionItem | None:
        """Count the items under the collection's lock, then append."""
        with self._db.write() as conn:
            if _lock(conn, collection_id) is None:
                return None
            named = (
                collection_items.c.repo_id == item.repo_id
                if item.repo_id is not None
                else collection_items.c.item_collection_id == item.collection_id
            )
            in_collection = collection_items.c.collection_id == collection_id
            if conn.scalar(sa.select(sa.func.count()).where(in_collection & named)):
                raise AlreadyExistsError(object_id)
            count = conn.scalar(sa.select(sa.func.count()).where(in_collection)) or 0
            if count >= max_items:
                raise CapacityError(str(max_items))
            conn.execute(
                sa.insert(collection_items).values(
                    object_id=object_id,
                    collection_id=collection_id,
                    item_type=item.type.value,
                    repo_id=item.repo_id,
                    item_collection_id=item.collection_id,
                    note=item.note,
                    position=count,
                    created_at=at,
                )
            )
            _touch(conn, collection_id, at)
            [added] = _items(conn, collection_items.c.object_id == object_id).values()
        return added[0]

    def update_item(
        self,
        collection_id: int,
        object_id: str,
        at: dt.datetime,
        *,
        note: str | None = None,
        position: int | None = None,
    ) -> bool:
        """Set the note, then move the item when asked."""
        with self._db.write() as conn:
            item_id = _item_id(conn, collection_id, object_id)
            if item_id is None:
                return False
            if note is not None:
                conn.execute(
                    sa.update(collection_items)
                    .where(collection_items.c.id == item_id)
                    .values(note=note or None)
                )
            if position is not None:
                items = _ordered(
                    conn, collection_items, collection_items.c.collection_id == collection_id
                )
                _renumber(conn, collection_items, _moved(items, item_id, position))
            _touch(conn, collection_id, at)
        return True

    def delete_item(self, collection_id: int, object_id: str, at: dt.datetime) -> bool:
        """Delete the row and renumber the rest."""
        with self._db.write() as conn:
            item_id = _item_id(conn, collection_id, object_id)
            if item_id is None:
                return False
            conn.execute(sa.delete(collection_items).where(collection_items.c.id == item_id))
            in_collection = collection_items.c.collection_id == collection_id
            _renumber(conn, collection_items, _ordered(conn, collection_items, in_collection))
            _touch(conn, collection_id, at)
        return True


def _lock(conn: sa.Connection, collection_id: int) -> int | None:
    """Lock the collection's row (PostgreSQL); its owner's id, or None when it is gone."""
    query = sa.select(collections.c.owner_id).where(collections.c.id == collection_id)
    owner: int | None = conn.scalar(query.with_for_update())
    return owner


def _item_id(conn: sa.Connection, collection_id: int, object_id: str) -> int | None:
    if _lock(conn, collection_id) is None:
        return None
    found: int | None = conn.scalar(
        sa.select(collection_items.c.id).where(
            (collection_items.c.collection_id == collection_id)
            & (collection_items.c.object_id == object_id)
        )
    )
    return found


def _touch(conn: sa.Connection, collection_id: int, at: dt.datetime) -> None:
    conn.execute(
        sa.update(collections).where(collections.c.id == collection_id).values(updated_at=at)
    )


def _ordered(conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> list[int]:
    query = sa.select(table.c.id).where(where).order_by(table.c.position, table.c.id)
    return list(conn.scalars(query))


def _moved(ids: list[int], moving: int, position: int) -> list[int]:
    rest = [i for i in ids if i != moving]
    rest.insert(max(0, min(position, len(rest))), moving)
    return rest


def _renumber(conn: sa.Connection, table: sa.Table, ids: Iterable[int]) -> None:
    for position, row_id in enumerate(ids):
        conn.execute(sa.update(table).where(table.c.id == row_id).values(position=position))


def _load(
    conn: sa.Connection, where: sa.ColumnElement[bool], *, offset: int = 0, limit: int | None = None
) -> list[CollectionRecord]:
    query = (
        sa.select(collections, accounts.c.name, accounts.c.kind, accounts.c.fullname)
        .join(accounts, accounts.c.id == collections.c.owner_id)
        .where(where)
        .order_by(collections.c.updated_at.desc(), collections.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    ids = [row.id for row in rows]
    items = _items(conn, collection_items.c.collection_id.in_(ids)) if ids else {}
    return [_collection(row._mapping, items.get(row.id, ())) for row in rows]


def _items(
    conn: sa.Connection, where: sa.ColumnElement[bool]
) -> dict[int, tuple[CollectionItem, ...]]:
    """The items `where` selects, by collection, in order, with what they name."""
    query = (
        sa.select(
            collection_items.c.collection_id.label("item_of"),
            collection_items.c.object_id.label("item_object_id"),
            collection_items.c.item_type,
            collection_items.c.position.label("item_position"),
            collection_items.c.note,
            collection_items.c.item_collection_id,
            repos,
        )
        .outerjoin(repos, repos.c.id == collection_items.c.repo_id)
        .where(where)
        .order_by(collection_items.c.position, collection_items.c.id)
    )
    rows = conn.execute(query).all()
    nested = _nested(conn, {row.item_collection_id for row in rows} - {None})
    found: dict[int, list[CollectionItem]] = {}
    for row in rows:
        values = row._mapping
        found.setdefault(row.item_of, []).append(
            CollectionItem(
                object_id=row.item_object_id,
                type=ItemType(row.item_type),
                position=row.item_position,
                note=row.note,
                repo=repo_record(values, ()) if values["id"] is not None else None,
                collection=nested.get(row.item_collection_id),
            )
        )
    return {key: tuple(value) for key, value in found.items()}


def _nested(conn: sa.Connection, ids: set[int]) -> dict[int, NestedCollection]:
    if not ids:
        return {}
    query = (
        sa.select(collections.c.id, collections.c.object_id, collections.c.title)
        .add_columns(collections.c.private, accounts.c.name)
        .join(accounts, accounts.c.id == collections.c.owner_id)
        .where(collections.c.id.in_(ids))
    )
    return {
        row.id: NestedCollection(row.object_id, row.name, row.title, bool(row.private))
        for row in conn.execute(query)
    }


def _collection(row: Any, items: tuple[CollectionItem, ...]) -> CollectionRecord:
    return CollectionRecord(
        id=row["id"],
        object_id=row["object_id"],
        owner=CollectionOwner(
            row["owner_id"], row["name"], AccountKind(row["kind"]), row["fullname"]
        ),
        title=row["title"],
        description=row["description"],
        private=bool(row["private"]),
        theme=row["theme"],
        position=row["position"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        items=items,
    )
