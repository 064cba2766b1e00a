"""Test databases: SQLite files, or a fresh PostgreSQL database per test session."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

_ADMIN_URL = "postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql"


def _ensure_postgres_running() -> None:
    """Start the machine's PostgreSQL cluster if it is down (the env notes' command)."""
    engine = sa.create_engine(_ADMIN_URL)
    try:
        with engine.connect():
            return
    except sa.exc.OperationalError:
        pass
    finally:
        engine.dispose()
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    pg_ctlcluster = shutil.which("pg_ctlcluster")
    if not versions or pg_ctlcluster is None:
        raise RuntimeError("PostgreSQL is not running and cannot be started here")
    subprocess.run(
        [pg_ctlcluster, "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True
    )


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; yields its URL."""
    _ensure_postgres_running()
    name = f"hubstead_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@/{name}?host=/var/run/postgresql"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
