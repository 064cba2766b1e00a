"""The `SpaceEnvStore` contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.space_env import EnvKind, PutOutcome, StoredEntry
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.repos import RepoStore
from hubstead.server.storage.space_env import SpaceEnvStore
from hubstead.server.storage.space_env_sql import SqlSpaceEnvStore

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)


def entry(key: str, value: bytes = b"v", minutes: int = 0) -> StoredEntry:
    return StoredEntry(key, value, f"about {key}", T0 + dt.timedelta(minutes=minutes))


@dataclasses.dataclass(frozen=True)
class Spaces:
    demo: int
    other: int


@pytest.fixture
def store(database: Database) -> SpaceEnvStore:
    return SqlSpaceEnvStore(database)


@pytest.fixture
def spaces(accounts: AccountStore, repos: RepoStore) -> Spaces:
    accounts.create_account("ada", AccountKind.USER, "Ada L", None, False)
    demo = repos.create_repo("space", "ada", "demo", "key-demo", False).id
    other = repos.create_repo("space", "ada", "other", "key-other", False).id
    return Spaces(demo, other)


def test_entries_are_listed_by_key_per_kind_and_space(store: SpaceEnvStore, spaces: Spaces) -> None:
    store.put(spaces.demo, EnvKind.VARIABLE, entry("B"), 10)
    store.put(spaces.demo, EnvKind.VARIABLE, entry("A"), 10)
    store.put(spaces.demo, EnvKind.SECRET, entry("S", b"\x00sealed"), 10)
    store.put(spaces.other, EnvKind.VARIABLE, entry("C"), 10)

    assert [e.key for e in store.entries(spaces.demo, EnvKind.VARIABLE)] == ["A", "B"]
    assert store.entries(spaces.demo, EnvKind.SECRET) == [entry("S", b"\x00sealed")]


def test_putting_a_key_again_replaces_its_value_description_and_time(
    store: SpaceEnvStore, spaces: Spaces
) -> None:
    store.put(spaces.demo, EnvKind.VARIABLE, entry("A", b"old"), 10)
    replacement = StoredEntry("A", b"new", "", T0 + dt.timedelta(hours=1))

    assert store.put(spaces.demo, EnvKind.VARIABLE, replacement, 10) is PutOutcome.STORED
    assert store.entries(spaces.demo, EnvKind.VARIABLE) == [replacement]


def test_a_key_of_the_other_kind_is_refused(store: SpaceEnvStore, spaces: Spaces) -> None:
    store.put(spaces.demo, EnvKind.SECRET, entry("K", b"sealed"), 10)

    outcome = store.put(spaces.demo, EnvKind.VARIABLE, entry("K"), 10)

    assert outcome is PutOutcome.OTHER_KIND
    assert store.entries(spaces.demo, EnvKind.VARIABLE) == []


def test_the_limit_counts_both_kinds_and_only_new_keys(
    store: SpaceEnvStore, spaces: Spaces
) -> None:
    store.put(spaces.demo, EnvKind.SECRET, entry("S"), 2)
    store.put(spaces.demo, EnvKind.VARIABLE, entry("V"), 2)

    assert store.put(spaces.demo, EnvKind.VARIABLE, entry("W"), 2) is PutOutcome.FULL
    assert store.put(spaces.demo, EnvKind.VARIABLE, entry("V", b"2"), 2) is PutOutcome.STORED
    assert store.put(spaces.other, EnvKind.VARIABLE, entry("W"), 2) is PutOutcome.STORED


def test_delete_removes_only_the_kind_asked_for(store: SpaceEnvStore, spaces: Spaces) -> None:
    store.put(spaces.demo, EnvKind.SECRET, entry("S"), 10)

    assert store.delete(spaces.demo, EnvKind.VARIABLE, "S") is False
    assert store.delete(spaces.demo, EnvKind.SECRET, "S") is True
    assert store.entries(spaces.demo, EnvKind.SECRET) == []


def test_copy_gives_a_space_the_entries_of_one_kind(store: SpaceEnvStore, spaces: Spaces) -> None:
    store.put(spaces.demo, EnvKind.SECRET, entry("S"), 10)
    store.put(spaces.demo, EnvKind.VARIABLE, entry("V", b"value", 3), 10)

    store.copy(spaces.demo, spaces.other, EnvKind.VARIABLE)

    assert store.entries(spaces.other, EnvKind.VARIABLE) == [entry("V", b"value", 3)]
    assert store.entries(spaces.other, EnvKind.SECRET) == []


def test_entries_go_with_their_space(
    store: SpaceEnvStore, repos: RepoStore, spaces: Spaces
) -> None:
    store.put(spaces.demo, EnvKind.SECRET, entry("S"), 10)
    store.put(spaces.demo, EnvKind.VARIABLE, entry("V"), 10)

    repos.delete_repo(spaces.demo)

    assert store.entries(spaces.demo, EnvKind.SECRET) == []
    assert store.entries(spaces.demo, EnvKind.VARIABLE) == []
