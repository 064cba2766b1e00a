"""The `CollectionStore` contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.collections import CollectionQuery, ItemType, NewItem
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.collections import CollectionStore
from hubstead.server.storage.collections_sql import SqlCollectionStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.errors import AlreadyExistsError, CapacityError
from hubstead.server.storage.repos import RepoStore

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def oid(n: int) -> str:
    return f"{n:024x}"


@dataclasses.dataclass(frozen=True)
class World:
    """Ada, an org, and three repos (one private)."""

    ada: int
    org: int
    repos: tuple[int, int, int]


@pytest.fixture
def store(database: Database) -> CollectionStore:
    return SqlCollectionStore(database)


@pytest.fixture
def world(accounts: AccountStore, repos: RepoStore) -> World:
    ada = accounts.create_account("ada", AccountKind.USER, "Ada L", None, False).id
    org = accounts.create_account("Lab", AccountKind.ORG, "The Lab", None, False).id
    ids = tuple(
        repos.create_repo(type, "ada", name, f"key-{name}", private).id
        for type, name, private in [
            ("model", "m", False),
            ("dataset", "d", False),
            ("space", "s", True),
        ]
    )
    return World(ada, org, ids)  # type: ignore[arg-type]


def repo_item(repo_id: int, note: str | None = None) -> NewItem:
    return NewItem(ItemType.MODEL, note, repo_id=repo_id)


def test_a_created_collection_has_its_owner_and_no_items(
    store: CollectionStore, world: World
) -> None:
    record = store.create(world.org, oid(1), "Picks", "Good ones", True, "green", T0)

    assert (record.owner.name, record.owner.kind, record.owner.fullname) == (
        "Lab",
        AccountKind.ORG,
        "The Lab",
    )
    assert (record.title, record.description, record.private, record.theme) == (
        "Picks",
        "Good ones",
        True,
        "green",
    )
    assert (record.position, record.items, record.updated_at) == (0, (), T0)
    assert record.slug == f"Lab/picks-{oid(1)}"
    assert store.get(oid(1)) == record
    assert store.create(world.org, oid(2), "More", None, False, "blue", T0).position == 1
    with pytest.raises(AlreadyExistsError):
        store.create(world.ada, oid(1), "Again", None, False, "blue", T0)


def test_titles_are_found_ignoring_case(store: CollectionStore, world: World) -> None:
    store.create(world.ada, oid(1), "Picks", None, False, "green", T0)

    found = store.find_title(world.ada, "PICKS")

    assert found is not None and found.object_id == oid(1)
    assert store.find_title(world.org, "Picks") is None


def test_items_append_in_order_and_refuse_duplicates_and_overflow(
    store: CollectionStore, world: World
) -> None:
    record = store.create(world.ada, oid(1), "Picks", None, False, "green", T0)
    m, d, s = world.repos

    first = store.add_item(record.id, oid(10), repo_item(m, "note"), 2, at(1))
    store.add_item(record.id, oid(11), NewItem(ItemType.DATASET, None, repo_id=d), 2, at(2))

    assert first is not None
    assert (first.object_id, first.position, first.note) == (oid(10), 0, "note")
    assert first.repo is not None and first.repo.repo_id == "ada/m"
    with pytest.raises(AlreadyExistsError):
        store.add_item(record.id, oid(12), repo_item(m), 5, at(3))
    with pytest.raises(CapacityError):
        store.add_item(record.id, oid(12), repo_item(s), 2, at(3))
    loaded = store.get(oid(1))
    assert loaded is not None
    assert [(i.object_id, i.position) for i in loaded.items] == [(oid(10), 0), (oid(11), 1)]
    assert loaded.updated_at == at(2)


def test_moving_an_item_shifts_the_ones_between(store: CollectionStore, world: World) -> None:
    record = store.create(world.ada, oid(1), "Picks", None, False, "green", T0)
    for n, repo in enumerate(world.repos):
        store.add_item(record.id, oid(10 + n), repo_item(repo), 10, T0)

    assert store.update_item(record.id, oid(10), at(5), position=99, note="last")
    assert store.update_item(record.id, oid(11), at(6), note="")

    loaded = store.get(oid(1))
    assert loaded is not None
    assert [(i.object_id, i.position, i.note) for i in loaded.items] == [
        (oid(11), 0, None),
        (oid(12), 1, None),
        (oid(10), 2, "last"),
    ]
    assert loaded.updated_at == at(6)
    assert not store.update_item(record.id, oid(99), at(7), note="x")


def test_deleting_an_item_closes_the_gap(store: CollectionStore, world: World) -> None:
    record = store.create(world.ada, oid(1), "Picks", None, False, "green", T0)
    for n, repo in enumerate(world.repos):
        store.add_item(record.id, oid(10 + n), repo_item(repo), 10, T0)

    assert store.delete_item(record.id, oid(11), at(1))
    assert not store.delete_item(record.id, oid(11), at(2))

    loaded = store.get(oid(1))
    assert loaded is not None
    assert [(i.object_id, i.position) for i in loaded.items] == [(oid(10), 0), (oid(12), 1)]


def test_items_go_with_the_repos_and_collections_they_name(
    store: CollectionStore, repos: RepoStore, world: World
) -> None:
    outer = store.create(world.ada, oid(1), "Outer", None, False, "green", T0)
    inner = store.create(world.ada, oid(2), "Inner", None, True, "green", T0)
    store.add_item(outer.id, oid(10), repo_item(world.repos[0]), 10, T0)
    nested = store.add_item(
        outer.id, oid(11), NewItem(ItemType.COLLECTION, None, collection_id=inner.id), 10, T0
    )
    assert nested is not None and nested.collection is not None
    assert (nested.collection.slug, nested.collection.private) == (f"ada/inner-{oid(2)}", True)

    repos.delete_repo(world.repos[0])
    assert store.delete(inner.id)

    loaded = store.get(oid(1))
    assert loaded is not None and loaded.items == ()


def test_update_changes_metadata_and_moves_among_the_owners_collections(
    store: CollectionStore, world: World
) -> None:
    first = store.create(world.ada, oid(1), "First", None, False, "green", T0)
    store.create(world.ada, oid(2), "Second", None, False, "green", T0)

    updated = store.update(
        first.id, {"title": "Renamed", "theme": "pink", "private": True, "position": 5}, at(1)
    )

    assert updated is not None
    assert (updated.title, updated.theme, updated.private, updated.position) == (
        "Renamed",
        "pink",
        True,
        1,
    )
    second = store.get(oid(2))
    assert second is not None and second.position == 0
    assert store.update(999, {"title": "x"}, at(2)) is None


def test_list_filters_by_visibility_owner_and_item(store: CollectionStore, world: World) -> None:
    public = store.create(world.ada, oid(1), "Public", None, False, "green", T0)
    store.create(world.ada, oid(2), "Private", None, True, "green", at(1))
    org = store.create(world.org, oid(3), "Org", None, True, "green", at(2))
    store.add_item(public.id, oid(10), repo_item(world.repos[0]), 10, at(3))

    def slugs(**kwargs: object) -> list[str]:
        query = CollectionQuery(**kwargs)  # type: ignore[arg-type]
        return [record.object_id for record in store.list(query)]

    assert slugs(visible_namespaces=None) == [oid(1), oid(3), oid(2)]
    assert slugs(visible_namespaces=[]) == [oid(1)]
    assert slugs(visible_namespaces=["LAB"]) == [oid(1), oid(3)]
    assert slugs(visible_namespaces=None, owners=["lab"]) == [oid(3)]
    assert slugs(visible_namespaces=None, item_repo_id=world.repos[0]) == [oid(1)]
    assert slugs(visible_namespaces=None, item_collection_id=org.id) == []
    assert slugs(visible_namespaces=None, offset=1, limit=1) == [oid(3)]


def test_deleting_the_owner_deletes_its_collections_and_their_mentions(
    store: CollectionStore, accounts: AccountStore, world: World
) -> None:
    mine = store.create(world.ada, oid(1), "Mine", None, False, "green", T0)
    theirs = store.create(world.org, oid(2), "Theirs", None, False, "green", T0)
    store.add_item(
        theirs.id, oid(10), NewItem(ItemType.COLLECTION, None, collection_id=mine.id), 10, T0
    )

    accounts.delete_account(world.ada, with_repos=True)

    assert store.get(oid(1)) is None
    remaining = store.get(oid(2))
    assert remaining is not None and remaining.items == ()
