"""`LockStore` on SQL: the `lfs_locks` table, unique per (repo, path), joined with the owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.locks import LockRecord
from hubstead.server.storage.db import Database, as_utc
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.schema import accounts, lfs_locks


def _select() -> sa.Select[Any]:
    return sa.select(lfs_locks, accounts.c.name.label("owner_name")).join(
        accounts, accounts.c.id == lfs_locks.c.owner_id
    )


class SqlLockStore:
    """File locks, with their owners' names."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, repo_id: int, path: str, owner_id: int, locked_at: dt.datetime) -> LockRecord:
        """Insert the lock; the unique (repo, path) key refuses a second one."""
        values = {"repo_id": repo_id, "path": path, "owner_id": owner_id, "locked_at": locked_at}
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(lfs_locks).values(values)).inserted_primary_key
                assert new_id is not None
                row = conn.execute(_select().where(lfs_locks.c.id == new_id[0])).one()
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(path) from exc
        return _record(row._mapping)

    def get(self, repo_id: int, lock_id: int) -> LockRecord | None:
        """The lock by id, if it is the repo's."""
        return self._one((lfs_locks.c.repo_id == repo_id) & (lfs_locks.c.id == lock_id))

    def find(self, repo_id: int, path: str) -> LockRecord | None:
        """The lock on the path."""
        return self._one((lfs_locks.c.repo_id == repo_id) & (lfs_locks.c.path == path))

    def list(self, repo_id: int, start: str | None, limit: int) -> list[LockRecord]:
        """A page in path order (keyset: stable while locks come and go)."""
        query = _select().where(lfs_locks.c.repo_id == repo_id)
        if start is not None:
            query = query.where(lfs_locks.c.path >= start)
        query = query.order_by(lfs_locks.c.path).limit(limit)
        with self._db.read() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]

    def remove(self, repo_id: int, lock_id: int) -> bool:
        """Delete the lock."""
        condition = (lfs_locks.c.repo_id == repo_id) & (lfs_locks.c.id == lock_id)
        with self._db.write() as conn:
            return bool(conn.execute(sa.delete(lfs_locks).where(condition)).rowcount)

    def _one(self, condition: sa.ColumnElement[bool]) -> LockRecord | None:
        with self._db.read() as conn:
            row = conn.execute(_select().where(condition)).first()
        return _record(row._mapping) if row else None


def _record(row: Any) -> LockRecord:
    return LockRecord(
        id=row["id"],
        repo_id=row["repo_id"],
        path=row["path"],
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        locked_at=as_utc(row["locked_at"]),
    )
