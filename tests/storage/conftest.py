"""Empty databases on every metadata backend, for the SQL storage suites.

PostgreSQL databases are slow to create and drop, so each test module gets one and every test
starts from an empty `public` schema in it; SQLite gets a new file per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.databases import postgres_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database for one test module."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database without any table, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    return url
