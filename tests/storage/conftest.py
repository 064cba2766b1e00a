"""Empty databases on every metadata backend, and the SQL stores on them, for the storage suites.

PostgreSQL databases are slow to create and drop, so each test module gets one and every test
starts from an empty `public` schema in it; SQLite gets a new file per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.accounts_sql import SqlAccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.repos import RepoStore
from hubstead.server.storage.repos_sql import SqlRepoStore
from hubstead.server.storage.tokens import TokenStore
from hubstead.server.storage.tokens_sql import SqlTokenStore
from hubstead.server.storage.web_sessions import WebSessionStore
from hubstead.server.storage.web_sessions_sql import SqlWebSessionStore
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


@pytest.fixture
def database(empty_database_url: str) -> Iterator[Database]:
    """A migrated, empty metadata database on each backend."""
    database = Database(empty_database_url)
    database.migrate()
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def accounts(database: Database) -> AccountStore:
    """The accounts of the metadata database, on each backend."""
    return SqlAccountStore(database)


@pytest.fixture
def tokens(database: Database) -> TokenStore:
    """The tokens of the metadata database, on each backend."""
    return SqlTokenStore(database)


@pytest.fixture
def repos(database: Database) -> RepoStore:
    """The repo rows of the metadata database, on each backend."""
    return SqlRepoStore(database)


@pytest.fixture
def web_sessions(database: Database) -> WebSessionStore:
    """The browser sessions of the metadata database, on each backend."""
    return SqlWebSessionStore(database)
