"""Database connections, transactions and migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions start
with `BEGIN IMMEDIATE` so that two writers queue for the lock instead of failing when a read
transaction tries to upgrade. PostgreSQL needs none of this.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite

_MIGRATIONS = Path(__file__).parent / "migrations"
_TOPICS = "hubstead_topics"
_NO_BEGIN = "hubstead_no_begin"
# The PostgreSQL advisory lock key that serialises migrations (any constant, the same everywhere).
_MIGRATION_LOCK = 0x6875627374656164  # "hubstead"

logger = logging.getLogger("hubstead.db")


class Database:
    """An engine with read and write transactions, and listeners of what they committed.

    A write transaction may `announce` a topic (`hub_events`: it recorded a hub event); once
    it commits, the listeners `subscribe`d to that topic are called, in the committing thread.
    Listeners are of this process only: they are a wake-up call, and whoever waits on one
    (job threads, the webhook dispatcher) also polls, which finds what other processes wrote.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._listeners: dict[str, list[Callable[[], None]]] = {}
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
    def query(self) -> Iterator[sa.Connection]:
        """A connection for one statement that only reads, outside any transaction.

        A single SELECT reads one snapshot by itself; on SQLite this saves the `BEGIN` and
        `COMMIT` of `read` (PostgreSQL's driver begins its transaction implicitly either way).
        Several statements that must agree with each other need `read`.
        """
        with self.engine.connect() as conn:
            conn.info[_NO_BEGIN] = True
            try:
                yield conn
            finally:
                conn.info.pop(_NO_BEGIN, None)  # the connection goes back to the pool

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that writes; committed on success, rolled back on error.

        After the commit, the listeners of each topic the transaction announced are called; one
        that raises is logged and ignored: the change is made whatever they do.
        """
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            try:
                with conn.begin():
                    yield conn
                topics = conn.info.get(_TOPICS, set())
            finally:
                conn.info.pop(_TOPICS, None)  # the connection goes back to the pool
        for topic in sorted(topics):
            for listener in self._listeners.get(topic, ()):
                try:
                    listener()
                except Exception:
                    logger.exception("a listener of %r failed", topic)

    def subscribe(self, topic: str, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit of a write transaction that announced `topic`."""
        self._listeners.setdefault(topic, []).append(listener)

    def unsubscribe(self, topic: str, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (no-op if it was not subscribed)."""
        listeners = self._listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)

    def migrate(self) -> None:
        """Bring the schema to the newest migration, one process at a time.

        Every process on the database migrates when it starts (`serve --workers`, `worker`s and
        the admin commands may start together, or after an upgrade), so the whole upgrade runs
        in one transaction that first takes the database's migration lock: SQLite's write lock
        (`BEGIN IMMEDIATE`; the others wait up to the busy timeout), or a PostgreSQL advisory
        lock held until the commit. Whoever comes next finds the schema current and does
        nothing. Without it, concurrent first starts failed: `database is locked` on SQLite,
        duplicate `CREATE TABLE`s on PostgreSQL.
        """
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            # Alembic runs inside a transaction it finds open (SQLite's included, which it
            # would otherwise commit migration by migration).
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def announce(conn: sa.Connection, topic: str) -> None:
    """Tell the database's listeners of `topic` once this write transaction commits."""
    conn.info.setdefault(_TOPICS, set()).add(topic)


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


_SQLITE_BUSY_MS = 30_000


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to write-ahead logging, waiting out the other processes opening it.

    Processes starting together (`serve --workers`, workers, timers) race for the lock the switch
    takes, and SQLite answers that race with "database is locked" at once, without calling its busy
    handler: the switch is retried until the busy timeout has passed.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_MS / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_begin(conn: sa.Connection) -> None:
    if conn.info.get(_NO_BEGIN):
        # `Database.query`: the statement runs in SQLite's own implicit transaction.
        return
    immediate = conn.info.pop("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
