"""`DeviceLoginStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.device_logins import DeviceLogin, DeviceLoginState
from hubstead.server.storage.db import Database, as_utc
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.schema import device_logins


class SqlDeviceLoginStore:
    """Device logins in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_device_login(
        self,
        code_hash: str,
        user_code: str,
        client_id: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> DeviceLogin:
        """Insert a pending device login."""
        values = {
            "code_hash": code_hash,
            "user_code": user_code,
            "client_id": client_id,
            "state": DeviceLoginState.PENDING.value,
            "account_id": None,
            "created_at": now,
            "expires_at": expires_at,
            "last_polled_at": None,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(device_logins).values(values)).inserted_primary_key
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(user_code) from exc
        assert new_id is not None
        return _login({"id": new_id[0], **values})

    def device_login_by_code(self, code_hash: str) -> DeviceLogin | None:
        """By device code hash."""
        return self._one(device_logins.c.code_hash == code_hash)

    def device_login_by_user_code(self, user_code: str) -> DeviceLogin | None:
        """By user code."""
        return self._one(device_logins.c.user_code == user_code)

    def _one(self, condition: sa.ColumnElement[bool]) -> DeviceLogin | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(device_logins).where(condition)).first()
        return _login(row._mapping) if row else None

    def record_poll(self, login_id: int, now: dt.datetime) -> None:
        """Update `last_polled_at`."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(device_logins)
                .where(device_logins.c.id == login_id)
                .values(last_polled_at=now)
            )

    def decide_device_login(self, login_id: int, state: DeviceLoginState, account_id: int) -> bool:
        """Move a pending login to `state`, naming who decided."""
        return self._move(
            login_id, DeviceLoginState.PENDING, state=state.value, account_id=account_id
        )

    def claim_device_login(self, login_id: int) -> bool:
        """Move an approved login to delivered."""
        return self._move(
            login_id, DeviceLoginState.APPROVED, state=DeviceLoginState.DELIVERED.value
        )

    def _move(self, login_id: int, expected: DeviceLoginState, **values: object) -> bool:
        # One conditional UPDATE: of two concurrent movers, exactly one sees its row change.
        condition = (device_logins.c.id == login_id) & (device_logins.c.state == expected.value)
        with self._db.write() as conn:
            result = conn.execute(sa.update(device_logins).where(condition).values(**values))
        return bool(result.rowcount)

    def delete_expired_device_logins(self, now: dt.datetime) -> int:
        """Delete the device logins past their expiry."""
        with self._db.write() as conn:
            result = conn.execute(sa.delete(device_logins).where(device_logins.c.expires_at < now))
        return int(result.rowcount)


def _login(row: Any) -> DeviceLogin:
    polled = row["last_polled_at"]
    return DeviceLogin(
        id=row["id"],
        user_code=row["user_code"],
        client_id=row["client_id"],
        state=DeviceLoginState(row["state"]),
        account_id=row["account_id"],
        created_at=as_utc(row["created_at"]),
        expires_at=as_utc(row["expires_at"]),
        last_polled_at=as_utc(polled) if polled else None,
    )
