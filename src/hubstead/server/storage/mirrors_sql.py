"""`MirrorStore` on SQL: the `mirrors` table, one row per mirrored repo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.mirrors import MirrorRecord, NewMirror
from hubstead.server.storage.db import Database, as_utc, utc_now
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.schema import mirrors, repos

_LIST_COLUMNS = ("revisions", "include", "exclude")


def _select() -> sa.Select[Any]:
    return sa.select(mirrors, repos.c.type, repos.c.namespace, repos.c.name).join(
        repos, repos.c.id == mirrors.c.repo_id
    )


class SqlMirrorStore:
    """Mirror configurations, joined with their repo rows for the repo's type and id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, mirror: NewMirror) -> MirrorRecord:
        """Insert a mirror row."""
        values: dict[str, Any] = {
            "repo_id": mirror.repo_id,
            "upstream": mirror.upstream,
            "upstream_repo_id": mirror.upstream_repo_id,
            "upstream_token": mirror.upstream_token,
            "revisions": list(mirror.revisions),
            "include": list(mirror.include),
            "exclude": list(mirror.exclude),
            "schedule_seconds": mirror.schedule_seconds,
            "on_demand": mirror.on_demand,
            "created_at": utc_now(),
            "next_sync_at": mirror.next_sync_at,
        }
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(mirrors).values(values))
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(str(mirror.repo_id)) from exc
        record = self.get(mirror.repo_id)
        assert record is not None
        return record

    def get(self, repo_id: int) -> MirrorRecord | None:
        """The mirror of a repo row."""
        with self._db.read() as conn:
            row = conn.execute(_select().where(mirrors.c.repo_id == repo_id)).first()
        return _record(row._mapping) if row else None

    def list_all(self) -> list[MirrorRecord]:
        """Every mirror."""
        query = _select().order_by(repos.c.type, repos.c.lookup)
        with self._db.read() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]

    def update(self, repo_id: int, **values: object) -> MirrorRecord | None:
        """Change columns; list columns take any sequence."""
        columns = {
            k: list(v) if k in _LIST_COLUMNS and isinstance(v, tuple | list) else v
            for k, v in values.items()
        }
        with self._db.write() as conn:
            conn.execute(sa.update(mirrors).where(mirrors.c.repo_id == repo_id).values(columns))
        return self.get(repo_id)

    def remove(self, repo_id: int) -> bool:
        """Delete the row."""
        with self._db.write() as conn:
            result = conn.execute(sa.delete(mirrors).where(mirrors.c.repo_id == repo_id))
        return bool(result.rowcount)


def _record(row: Any) -> MirrorRecord:
    return MirrorRecord(
        repo_id=row["repo_id"],
        repo_type=row["type"],
        local_id=f"{row['namespace']}/{row['name']}",
        upstream=row["upstream"],
        upstream_repo_id=row["upstream_repo_id"],
        upstream_token=row["upstream_token"],
        revisions=tuple(row["revisions"]),
        include=tuple(row["include"]),
        exclude=tuple(row["exclude"]),
        schedule_seconds=row["schedule_seconds"],
        on_demand=bool(row["on_demand"]),
        created_at=as_utc(row["created_at"]),
        synced_at=_optional_utc(row["synced_at"]),
        sync_error=row["sync_error"],
        next_sync_at=_optional_utc(row["next_sync_at"]),
    )


def _optional_utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)
