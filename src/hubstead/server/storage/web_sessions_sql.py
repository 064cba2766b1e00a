"""`WebSessionStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.accounts import Account
from hubstead.server.domain.web_sessions import WebSession
from hubstead.server.storage.accounts_sql import account_record
from hubstead.server.storage.db import Database, as_utc
from hubstead.server.storage.schema import accounts, web_sessions


class SqlWebSessionStore:
    """Session hashes in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_session(
        self,
        account_id: int,
        token_hash: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        user_agent: str,
    ) -> WebSession:
        """Insert a session."""
        values = {
            "account_id": account_id,
            "token_hash": token_hash,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": expires_at,
            "user_agent": user_agent,
        }
        with self._db.write() as conn:
            new_id = conn.execute(sa.insert(web_sessions).values(values)).inserted_primary_key
        assert new_id is not None
        return _session({"id": new_id[0], **values})

    def find_session(self, token_hash: str, now: dt.datetime) -> tuple[WebSession, Account] | None:
        """Session and account by hash, unless expired."""
        query = (
            sa.select(web_sessions, accounts)
            .join(accounts, accounts.c.id == web_sessions.c.account_id)
            .where((web_sessions.c.token_hash == token_hash) & (web_sessions.c.expires_at > now))
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        values = row._mapping
        session = _session({c.name: values[web_sessions.c[c.name]] for c in web_sessions.columns})
        account = account_record({c.name: values[accounts.c[c.name]] for c in accounts.columns})
        return session, account

    def touch_session(self, session_id: int, now: dt.datetime) -> None:
        """Update `last_seen_at`."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(web_sessions)
                .where(web_sessions.c.id == session_id)
                .values(last_seen_at=now)
            )

    def delete_session(self, token_hash: str) -> None:
        """Delete a session by hash."""
        with self._db.write() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

    def delete_account_sessions(self, account_id: int) -> int:
        """Delete an account's sessions."""
        with self._db.write() as conn:
            result = conn.execute(
                sa.delete(web_sessions).where(web_sessions.c.account_id == account_id)
            )
        return int(result.rowcount)

    def delete_expired_sessions(self, now: dt.datetime) -> int:
        """Delete the sessions past their expiry."""
        with self._db.write() as conn:
            result = conn.execute(sa.delete(web_sessions).where(web_sessions.c.expires_at < now))
        return int(result.rowcount)


def _session(row: Any) -> WebSession:
    return WebSession(
        id=row["id"],
        account_id=row["account_id"],
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        expires_at=as_utc(row["expires_at"]),
        user_agent=row["user_agent"],
    )
