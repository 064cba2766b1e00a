"""`LikeStore` on SQL: the `likes` table, and the `likes` count of `repos` kept with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from hubstead.server.domain.likes import LikedRepo, Liker
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.repos_sql import repo_record, visible_to
from hubstead.server.storage.schema import accounts, likes, repos


class SqlLikeStore:
    """Likes, one row per user and repo."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def like(self, account_id: int, repo_id: int, at: dt.datetime) -> bool:
        """Insert the row unless it exists, and count it on the repo."""
        with self._db.write() as conn:
            row = {"account_id": account_id, "repo_id": repo_id, "created_at": at}
            insert = upsert(conn, likes).values(row).on_conflict_do_nothing()
            added = conn.execute(insert.returning(likes.c.repo_id)).first() is not None
            if added:
                _count(conn, repo_id, +1)
        return added

    def unlike(self, account_id: int, repo_id: int) -> bool:
        """Delete the row and take it off the repo's count."""
        with self._db.write() as conn:
            removed = conn.execute(
                sa.delete(likes).where(
                    (likes.c.account_id == account_id) & (likes.c.repo_id == repo_id)
                )
            ).rowcount
            if removed:
                _count(conn, repo_id, -1)
        return bool(removed)

    def likes(self, account_id: int, repo_id: int) -> bool:
        """Look the row up by its primary key."""
        query = sa.select(likes.c.repo_id).where(
            (likes.c.account_id == account_id) & (likes.c.repo_id == repo_id)
        )
        with self._db.read() as conn:
            return conn.execute(query).first() is not None

    def likers(self, repo_id: int, offset: int, limit: int) -> list[Liker]:
        """Join the likes of the repo with their accounts."""
        query = (
            sa.select(accounts.c.name, accounts.c.fullname, likes.c.created_at)
            .join(accounts, accounts.c.id == likes.c.account_id)
            .where(likes.c.repo_id == repo_id)
            .order_by(likes.c.created_at.desc(), likes.c.account_id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [Liker(row.name, row.fullname, as_utc(row.created_at)) for row in rows]

    def liked_repos(
        self, account_id: int, visible_namespaces: Sequence[str] | None, offset: int, limit: int
    ) -> list[LikedRepo]:
        """Join the user's likes with the repos the caller may see."""
        query = (
            sa.select(repos, likes.c.created_at.label("liked_at"))
            .join(repos, repos.c.id == likes.c.repo_id)
            .where(likes.c.account_id == account_id)
            .where(sa.true() if visible_namespaces is None else visible_to(visible_namespaces))
            .order_by(likes.c.created_at.desc(), likes.c.repo_id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [LikedRepo(repo_record(row._mapping, ()), as_utc(row.liked_at)) for row in rows]


def _count(conn: sa.Connection, repo_id: int, change: int) -> None:
    conn.execute(sa.update(repos).where(repos.c.id == repo_id).values(likes=repos.c.likes + change))
