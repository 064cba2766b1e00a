"""Database connections, transactions and migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions start
with `BEGIN IMMEDIATE` so that two writers queue for the lock instead of failing when a read
transaction tries to upgrade. PostgreSQL needs none of this.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite

_MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """An engine with read and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {}
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            # Requests run their service calls in up to 40 worker threads (anyio's default), each
            # holding a connection. A smaller pool closes the connections it cannot keep, so under
            # load most requests would open a new one (and run the PRAGMAs below) again.
            options.update(pool_size=40, max_overflow=20)
        else:
            options.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine = sa.create_engine(url, **options)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A transaction that only reads."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that writes; committed on success, rolled back on error."""
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def insert_missing(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows whose primary key is not taken yet (concurrent inserts included)."""
    if rows:
        conn.execute(upsert(conn, table).on_conflict_do_nothing(), list(rows))


def upsert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into the table that can take an ON CONFLICT clause, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def utc_now() -> dt.datetime:
    """The time a row is written at, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A timestamp read back from the database, as an aware UTC datetime.

    SQLite stores timestamps without their zone; every timestamp this hub writes is UTC.
    """
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    immediate = conn.info.pop("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
