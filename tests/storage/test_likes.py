"""The `LikeStore` contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.likes import LikeStore
from hubstead.server.storage.likes_sql import SqlLikeStore
from hubstead.server.storage.repos import RepoStore

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@dataclasses.dataclass(frozen=True)
class World:
    """Two users, a public repo of ada's and a private one of bob's."""

    ada: int
    bob: int
    public: int
    private: int


@pytest.fixture
def store(database: Database) -> LikeStore:
    return SqlLikeStore(database)


@pytest.fixture
def world(accounts: AccountStore, repos: RepoStore) -> World:
    ada = accounts.create_account("ada", AccountKind.USER, "Ada L", None, False).id
    bob = accounts.create_account("bob", AccountKind.USER, "Bob", None, False).id
    public = repos.create_repo("model", "ada", "demo", "key-demo", False).id
    private = repos.create_repo("dataset", "bob", "secret", "key-secret", True).id
    return World(ada, bob, public, private)


def likes_of(repos: RepoStore, repo_id: int) -> int:
    repo = repos.get_repo_by_key(repo_id)
    assert repo is not None
    return repo.likes


def test_a_like_is_counted_once_on_its_repo(
    store: LikeStore, repos: RepoStore, world: World
) -> None:
    assert store.like(world.ada, world.public, T0)
    assert not store.like(world.ada, world.public, at(1))
    assert store.like(world.bob, world.public, at(2))

    assert likes_of(repos, world.public) == 2


def test_unliking_takes_the_like_off_the_count_and_twice_changes_nothing(
    store: LikeStore, repos: RepoStore, world: World
) -> None:
    store.like(world.ada, world.public, T0)

    assert store.unlike(world.ada, world.public)
    assert not store.unlike(world.ada, world.public)
    assert likes_of(repos, world.public) == 0
    assert store.likers(world.public, 0, 10) == []


def test_likers_come_most_recent_first_with_their_names_and_pages(
    store: LikeStore, world: World
) -> None:
    store.like(world.ada, world.public, T0)
    store.like(world.bob, world.public, at(5))

    likers = store.likers(world.public, 0, 10)

    assert [(u.name, u.fullname, u.liked_at) for u in likers] == [
        ("bob", "Bob", at(5)),
        ("ada", "Ada L", T0),
    ]
    assert [u.name for u in store.likers(world.public, 1, 10)] == ["ada"]
    assert [u.name for u in store.likers(world.public, 0, 1)] == ["bob"]


def test_liked_repos_hide_private_repos_outside_the_visible_namespaces(
    store: LikeStore, world: World
) -> None:
    store.like(world.bob, world.public, T0)
    store.like(world.bob, world.private, at(1))

    everything = store.liked_repos(world.bob, None, 0, 10)
    outsider = store.liked_repos(world.bob, [], 0, 10)
    member = store.liked_repos(world.bob, ["BOB"], 0, 10)

    assert [(r.repo.repo_id, r.liked_at) for r in everything] == [
        ("bob/secret", at(1)),
        ("ada/demo", T0),
    ]
    assert [r.repo.repo_id for r in outsider] == ["ada/demo"]
    assert [r.repo.repo_id for r in member] == ["bob/secret", "ada/demo"]


def test_deleting_a_repo_deletes_its_likes(
    store: LikeStore, repos: RepoStore, world: World
) -> None:
    store.like(world.ada, world.private, T0)

    repos.delete_repo(world.private)

    assert store.liked_repos(world.ada, None, 0, 10) == []


def test_deleting_a_user_takes_its_likes_off_the_counts(
    store: LikeStore, accounts: AccountStore, repos: RepoStore, world: World
) -> None:
    store.like(world.ada, world.public, T0)
    store.like(world.bob, world.public, T0)

    accounts.delete_account(world.bob, with_repos=True)

    assert likes_of(repos, world.public) == 1
    assert [u.name for u in store.likers(world.public, 0, 10)] == ["ada"]


def test_whether_a_user_likes_a_repo(store: LikeStore, world: World) -> None:
    store.like(world.ada, world.public, T0)

    assert store.likes(world.ada, world.public)
    assert not store.likes(world.bob, world.public)
    assert not store.likes(world.ada, world.private)
    store.unlike(world.ada, world.public)
    assert not store.likes(world.ada, world.public)
