"""Migrations and transactions of the metadata database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from hubstead.server.storage import migrations
from hubstead.server.storage.db import Database
from hubstead.server.storage.repos_sql import SqlRepoStore
from hubstead.server.storage.schema import accounts, metadata, repos


@pytest.fixture
def database(empty_database_url: str) -> Iterator[Database]:
    """An empty, unmigrated database on each backend."""
    database = Database(empty_database_url)
    try:
        yield database
    finally:
        database.close()


def tables(database: Database) -> set[str]:
    return set(sa.inspect(database.engine).get_table_names())


def test_migrating_an_empty_database_creates_the_schema(database: Database) -> None:
    assert tables(database) == set()
    database.migrate()
    assert tables(database) == set(metadata.tables) | {"alembic_version"}


def test_migrations_produce_exactly_the_declared_schema(database: Database) -> None:
    database.migrate()
    with database.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrating_twice_is_a_no_op_that_keeps_the_data(database: Database) -> None:
    database.migrate()
    with database.write() as conn:
        conn.execute(
            sa.insert(accounts).values(
                name="Ada",
                name_lower="ada",
                kind="user",
                fullname="Ada",
                email=None,
                is_admin=False,
                created_at=sa.func.now(),
            )
        )
    with database.read() as conn:
        version = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    database.migrate()
    with database.read() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == version
        assert conn.scalar(sa.select(accounts.c.name)) == "Ada"


def test_the_spaces_of_an_upgraded_database_are_found_by_their_host_label(
    database: Database,
) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0017")  # before Space host labels were kept
        now = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
        for type, name in (("space", "Team_A/My.App"), ("model", "team-a/my-app")):
            conn.execute(
                sa.insert(repos).values(
                    type=type,
                    namespace=name.split("/")[0],
                    name=name.split("/")[1],
                    lookup=name.lower(),
                    storage_key=type,
                    private=False,
                    discussions_disabled=False,
                    created_at=now,
                    last_modified=now,
                    downloads=0,
                    likes=0,
                )
            )

    database.migrate()

    found = SqlRepoStore(database).spaces_by_host_label("team-a-my-app")
    assert [(repo.type, repo.repo_id) for repo in found] == [("space", "Team_A/My.App")]


def _migrate_together(url: str, barrier: Barrier) -> None:
    """One process of a simultaneous start: open the database, wait for the others, migrate."""
    database = Database(url)
    try:
        barrier.wait()
        database.migrate()
    finally:
        database.close()


def test_processes_starting_together_migrate_one_after_another(
    database: Database, empty_database_url: str
) -> None:
    # `serve --workers`, `hubstead worker`s and timers started by one systemd target.
    count = 4
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    processes = [
        context.Process(target=_migrate_together, args=(empty_database_url, barrier))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [process.exitcode for process in processes] == [0] * count
    assert tables(database) == set(metadata.tables) | {"alembic_version"}


def test_a_failed_write_transaction_is_rolled_back(database: Database) -> None:
    database.migrate()
    row = {
        "name": "Ada",
        "name_lower": "ada",
        "kind": "user",
        "fullname": "Ada",
        "is_admin": False,
        "created_at": sa.func.now(),
    }
    with pytest.raises(sa.exc.IntegrityError), database.write() as conn:
        conn.execute(sa.insert(accounts).values(row))
        conn.execute(sa.insert(accounts).values(row))
    with database.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(accounts)) == 0
