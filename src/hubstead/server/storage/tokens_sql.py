"""`TokenStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.accounts import Account, Role, TokenRecord
from hubstead.server.storage.accounts_sql import account_record
from hubstead.server.storage.db import Database, as_utc, utc_now
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.schema import accounts, tokens

# Every authenticated request runs this: built once, so SQLAlchemy finds it compiled in its cache
# without building the statement and its cache key again (most of a lookup's time otherwise).
_TOKEN_AND_USER = (
    sa.select(tokens, accounts)
    .join(accounts, accounts.c.id == tokens.c.user_id)
    .where(tokens.c.token_hash == sa.bindparam("token_hash"))
)


class SqlTokenStore:
    """Token hashes in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_token(self, user_id: int, name: str, role: Role, token_hash: str) -> TokenRecord:
        """Insert a token hash."""
        values = {
            "user_id": user_id,
            "name": name,
            "role": role.value,
            "token_hash": token_hash,
            "created_at": utc_now(),
            "last_used_at": None,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(tokens).values(values)).inserted_primary_key
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError("token") from exc
        assert new_id is not None
        return _token({"id": new_id[0], **values})

    def find_token(self, token_hash: str) -> tuple[TokenRecord, Account] | None:
        """Token and user by hash."""
        with self._db.read() as conn:
            row = conn.execute(_TOKEN_AND_USER, {"token_hash": token_hash}).first()
        if row is None:
            return None
        values = row._mapping
        token = _token({c.name: values[tokens.c[c.name]] for c in tokens.columns})
        account = account_record({c.name: values[accounts.c[c.name]] for c in accounts.columns})
        return token, account

    def list_tokens(self, user_id: int) -> list[TokenRecord]:
        """A user's tokens."""
        query = sa.select(tokens).where(tokens.c.user_id == user_id).order_by(tokens.c.id)
        with self._db.read() as conn:
            return [_token(row._mapping) for row in conn.execute(query)]

    def delete_token(self, user_id: int, name: str) -> int:
        """Delete a user's tokens named `name`."""
        condition = (tokens.c.user_id == user_id) & (tokens.c.name == name)
        with self._db.write() as conn:
            return int(conn.execute(sa.delete(tokens).where(condition)).rowcount)


def _token(row: Any) -> TokenRecord:
    last_used = row["last_used_at"]
    return TokenRecord(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        token_hash=row["token_hash"],
        created_at=as_utc(row["created_at"]),
        last_used_at=as_utc(last_used) if last_used else None,
    )
