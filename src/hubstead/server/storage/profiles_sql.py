"""`ProfileStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from hubstead.server.domain.accounts import Account
from hubstead.server.storage.accounts_sql import account_record
from hubstead.server.storage.db import Database, utc_now
from hubstead.server.storage.schema import accounts, discussions, follows, likes, repos


class SqlProfileStore:
    """Follows and profile counts in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def follow(self, follower_id: int, followee_id: int) -> bool:
        """Insert a follow unless it exists (the primary key refuses a second one)."""
        values = {"follower_id": follower_id, "followee_id": followee_id, "created_at": utc_now()}
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(follows).values(values))
        except sa.exc.IntegrityError:
            return False
        return True

    def unfollow(self, follower_id: int, followee_id: int) -> bool:
        """Delete a follow."""
        with self._db.write() as conn:
            deleted = conn.execute(sa.delete(follows).where(_pair(follower_id, followee_id)))
        return bool(deleted.rowcount)

    def is_following(self, follower_id: int, followee_id: int) -> bool:
        """Whether the follow exists."""
        with self._db.read() as conn:
            found = conn.scalar(
                sa.select(sa.func.count())
                .select_from(follows)
                .where(_pair(follower_id, followee_id))
            )
        return bool(found)

    def followers(self, account_id: int, offset: int, limit: int) -> list[Account]:
        """Followers by name."""
        return self._accounts(
            follows.c.follower_id, follows.c.followee_id, account_id, offset, limit
        )

    def following(self, account_id: int, offset: int, limit: int) -> list[Account]:
        """Followed accounts by name."""
        return self._accounts(
            follows.c.followee_id, follows.c.follower_id, account_id, offset, limit
        )

    def count_followers(self, account_id: int) -> int:
        """Number of followers."""
        return self._count(follows.c.followee_id == account_id)

    def count_following(self, account_id: int) -> int:
        """Number of followed accounts."""
        return self._count(follows.c.follower_id == account_id)

    def count_discussions(self, author_id: int, visible_namespaces: Sequence[str] | None) -> int:
        """Discussions the author opened in public repos and in the visible namespaces."""
        return self._count_in_repos(
            discussions, discussions.c.author_id == author_id, visible_namespaces
        )

    def count_likes(self, account_id: int, visible_namespaces: Sequence[str] | None) -> int:
        """Likes of public repos and of repos in the visible namespaces."""
        return self._count_in_repos(likes, likes.c.account_id == account_id, visible_namespaces)

    def _count_in_repos(
        self,
        table: sa.Table,
        condition: sa.ColumnElement[bool],
        visible_namespaces: Sequence[str] | None,
    ) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(table.join(repos, repos.c.id == table.c.repo_id))
            .where(condition)
        )
        if visible_namespaces is not None:
            visible = sa.func.lower(repos.c.namespace).in_([n.lower() for n in visible_namespaces])
            query = query.where(sa.or_(repos.c.private.is_(False), visible))
        with self._db.read() as conn:
            return int(conn.scalar(query) or 0)

    def _accounts(
        self,
        listed: sa.Column[int],
        key: sa.Column[int],
        account_id: int,
        offset: int,
        limit: int,
    ) -> list[Account]:
        query = (
            sa.select(accounts)
            .join(follows, listed == accounts.c.id)
            .where(key == account_id)
            .order_by(accounts.c.name_lower)
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [account_record(row._mapping) for row in conn.execute(query)]

    def _count(self, condition: sa.ColumnElement[bool]) -> int:
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(follows).where(condition)
            return int(conn.scalar(query) or 0)


def _pair(follower_id: int, followee_id: int) -> sa.ColumnElement[bool]:
    return (follows.c.follower_id == follower_id) & (follows.c.followee_id == followee_id)
