"""The `LockStore` contract (git-lfs file locks), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.locks import LockRecord
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.locks import LockStore
from hubstead.server.storage.locks_sql import SqlLockStore
from hubstead.server.storage.repos import RepoStore
from tests.storage.test_accounts import in_threads

WHEN = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class World:
    """Two users, an org, a repo of the org and one of ada's."""

    ada: int
    bob: int
    org: int
    shared: int
    own: int


@pytest.fixture
def store(database: Database) -> LockStore:
    return SqlLockStore(database)


@pytest.fixture
def world(accounts: AccountStore, repos: RepoStore) -> World:
    ada = accounts.create_account("ada", AccountKind.USER, "Ada", None, False).id
    bob = accounts.create_account("bob", AccountKind.USER, "Bob", None, False).id
    org = accounts.create_account("team", AccountKind.ORG, "Team", None, False).id
    shared = repos.create_repo("model", "team", "shared", "key-shared", False).id
    own = repos.create_repo("model", "ada", "own", "key-own", False).id
    return World(ada, bob, org, shared, own)


def test_a_lock_records_its_path_owner_and_time(store: LockStore, world: World) -> None:
    lock = store.add(world.shared, "weights/model.safetensors", world.ada, WHEN)

    assert lock == LockRecord(
        lock.id, world.shared, "weights/model.safetensors", world.ada, "ada", WHEN
    )
    assert store.get(world.shared, lock.id) == lock
    assert store.find(world.shared, "weights/model.safetensors") == lock
    assert store.get(world.shared, lock.id + 1) is None
    assert store.find(world.shared, "weights") is None


def test_a_path_has_one_lock_per_repo(store: LockStore, world: World) -> None:
    first = store.add(world.shared, "model.bin", world.ada, WHEN)

    with pytest.raises(AlreadyExistsError):
        store.add(world.shared, "model.bin", world.bob, WHEN)
    with pytest.raises(AlreadyExistsError):
        store.add(world.shared, "model.bin", world.ada, WHEN)
    other_repo = store.add(world.own, "model.bin", world.ada, WHEN)

    assert store.find(world.shared, "model.bin") == first
    assert other_repo.id != first.id and other_repo.repo_id == world.own


def test_paths_that_differ_by_case_or_unicode_form_are_locked_apart(
    store: LockStore, world: World
) -> None:
    paths = ["Model.bin", "model.bin", "modèle.bin", "mode\u0300le.bin"]
    for path in paths:
        store.add(world.shared, path, world.ada, WHEN)

    assert {lock.path for lock in store.list(world.shared, None, 10)} == set(paths)
    for path in paths:
        found = store.find(world.shared, path)
        assert found is not None and found.path == path


def test_a_lock_belongs_to_its_repo_only(store: LockStore, world: World) -> None:
    lock = store.add(world.shared, "a.bin", world.ada, WHEN)

    assert store.get(world.own, lock.id) is None
    assert store.find(world.own, "a.bin") is None
    assert store.list(world.own, None, 10) == []
    assert store.remove(world.own, lock.id) is False
    assert store.get(world.shared, lock.id) == lock


def test_locks_are_listed_in_path_order_a_page_at_a_time(store: LockStore, world: World) -> None:
    for path in ["c.bin", "a.bin", "b/z.bin", "b/a.bin", "d.bin"]:
        store.add(world.shared, path, world.ada, WHEN)

    first = store.list(world.shared, None, 2)
    second = store.list(world.shared, "b/z.bin", 2)
    last = store.list(world.shared, "d.bin", 2)

    assert [lock.path for lock in first] == ["a.bin", "b/a.bin"]
    assert [lock.path for lock in second] == ["b/z.bin", "c.bin"]
    assert [lock.path for lock in last] == ["d.bin"]
    assert store.list(world.shared, "e", 2) == []


def test_a_page_starts_where_it_was_asked_even_if_that_lock_is_gone(
    store: LockStore, world: World
) -> None:
    for path in ["a.bin", "b.bin", "c.bin"]:
        store.add(world.shared, path, world.ada, WHEN)
    gone = store.find(world.shared, "b.bin")
    assert gone is not None and store.remove(world.shared, gone.id)

    assert [lock.path for lock in store.list(world.shared, "b.bin", 5)] == ["c.bin"]


def test_removing_a_lock_frees_its_path_and_its_id_is_never_reused(
    store: LockStore, world: World
) -> None:
    lock = store.add(world.shared, "a.bin", world.ada, WHEN)

    assert store.remove(world.shared, lock.id) is True
    assert store.remove(world.shared, lock.id) is False
    assert store.get(world.shared, lock.id) is None
    again = store.add(world.shared, "a.bin", world.bob, WHEN)
    assert (again.owner_name, again.id != lock.id) == ("bob", True)


def test_concurrent_locks_of_one_path_leave_exactly_one(store: LockStore, world: World) -> None:
    owners = [world.ada, world.bob] * 4

    taken, failures = in_threads(
        len(owners), lambda i: store.add(world.shared, "x", owners[i], WHEN)
    )

    assert len(taken) == 1
    assert len(failures) == len(owners) - 1
    assert all(isinstance(failure, AlreadyExistsError) for failure in failures)
    assert store.list(world.shared, None, 10) == taken


def test_locks_go_with_their_repo(
    store: LockStore, repos: RepoStore, accounts: AccountStore, world: World
) -> None:
    lock = store.add(world.own, "a.bin", world.ada, WHEN)
    kept = store.add(world.shared, "a.bin", world.ada, WHEN)

    moved = repos.move_repo(world.own, "ada", "renamed")
    assert store.get(moved.id, lock.id) == lock
    repos.delete_repo(world.own)

    assert store.get(world.own, lock.id) is None
    assert store.list(world.own, None, 10) == []
    assert store.get(world.shared, kept.id) == kept


def test_deleting_an_account_releases_its_locks_everywhere(
    store: LockStore, repos: RepoStore, accounts: AccountStore, world: World
) -> None:
    in_org = store.add(world.shared, "ada.bin", world.ada, WHEN)
    in_own = store.add(world.own, "ada.bin", world.ada, WHEN)
    bobs = store.add(world.shared, "bob.bin", world.bob, WHEN)

    deleted = accounts.delete_account(world.ada, with_repos=True)

    assert [repo.id for repo in deleted] == [world.own]
    assert store.get(world.shared, in_org.id) is None
    assert store.get(world.own, in_own.id) is None
    assert store.list(world.shared, None, 10) == [bobs]


def test_deleting_an_org_with_its_repos_drops_their_locks(
    store: LockStore, repos: RepoStore, accounts: AccountStore, world: World
) -> None:
    lock = store.add(world.shared, "a.bin", world.bob, WHEN)

    accounts.delete_account(world.org, with_repos=True)

    assert store.get(world.shared, lock.id) is None
    assert store.list(world.shared, None, 10) == []
