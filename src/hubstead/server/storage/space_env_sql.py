"""`SpaceEnvStore` on SQL: the `space_env` table, keyed by Space and key."""

from __future__ import annotations

import sqlalchemy as sa

from hubstead.server.domain.space_env import EnvKind, PutOutcome, StoredEntry
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.schema import repos, space_env


class SqlSpaceEnvStore:
    """Secrets and variables, one row per Space and key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def entries(self, repo_id: int, kind: EnvKind) -> list[StoredEntry]:
        """Select the Space's rows of one kind."""
        query = (
            sa.select(space_env)
            .where((space_env.c.repo_id == repo_id) & (space_env.c.kind == kind.value))
            .order_by(space_env.c.key)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            StoredEntry(row.key, row.value, row.description, as_utc(row.updated_at)) for row in rows
        ]

    def put(self, repo_id: int, kind: EnvKind, entry: StoredEntry, limit: int) -> PutOutcome:
        """Check the key's kind and the Space's count, then upsert, in one transaction.

        The Space's row is locked first (PostgreSQL), so two concurrent additions cannot both
        pass the count; SQLite writes are serialised already.
        """
        with self._db.write() as conn:
            conn.execute(sa.select(repos.c.id).where(repos.c.id == repo_id).with_for_update())
            kinds = dict(
                conn.execute(
                    sa.select(space_env.c.key, space_env.c.kind).where(
                        space_env.c.repo_id == repo_id
                    )
                ).all()
            )
            existing = kinds.get(entry.key)
            if existing is not None and existing != kind.value:
                return PutOutcome.OTHER_KIND
            if existing is None and len(kinds) >= limit:
                return PutOutcome.FULL
            values = {
                "value": entry.value,
                "description": entry.description,
                "updated_at": entry.updated_at,
            }
            insert = upsert(conn, space_env).values(
                repo_id=repo_id, key=entry.key, kind=kind.value, **values
            )
            conn.execute(
                insert.on_conflict_do_update(index_elements=["repo_id", "key"], set_=values)
            )
        return PutOutcome.STORED

    def delete(self, repo_id: int, kind: EnvKind, key: str) -> bool:
        """Delete the row by its primary key and kind."""
        with self._db.write() as conn:
            removed = conn.execute(
                sa.delete(space_env).where(
                    (space_env.c.repo_id == repo_id)
                    & (space_env.c.key == key)
                    & (space_env.c.kind == kind.value)
                )
            ).rowcount
        return bool(removed)

    def copy(self, from_repo_id: int, to_repo_id: int, kind: EnvKind) -> None:
        """INSERT ... SELECT the source's rows under the new Space's id."""
        source = sa.select(
            sa.literal(to_repo_id),
            space_env.c.key,
            space_env.c.kind,
            space_env.c.value,
            space_env.c.description,
            space_env.c.updated_at,
        ).where((space_env.c.repo_id == from_repo_id) & (space_env.c.kind == kind.value))
        columns = ["repo_id", "key", "kind", "value", "description", "updated_at"]
        with self._db.write() as conn:
            conn.execute(sa.insert(space_env).from_select(columns, source))
