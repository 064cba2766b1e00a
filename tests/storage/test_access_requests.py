"""The `AccessRequestStore` contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.access_requests import AccessStatus
from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.hub_events import HubEventKind, HubEventRecord
from hubstead.server.storage.access_requests import AccessRequestStore
from hubstead.server.storage.access_requests_sql import SqlAccessRequestStore
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.hub_events_sql import SqlHubEventLog
from hubstead.server.storage.repos import RepoStore
from tests.storage.test_accounts import in_threads

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)
PENDING, ACCEPTED, REJECTED = AccessStatus.PENDING, AccessStatus.ACCEPTED, AccessStatus.REJECTED


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@dataclasses.dataclass(frozen=True)
class World:
    """An owner, two users asking, a gated repo of the owner's and another repo."""

    owner: int
    ada: int
    bob: int
    repo: int
    other: int


@pytest.fixture
def store(database: Database) -> AccessRequestStore:
    return SqlAccessRequestStore(database)


def request_events(database: Database) -> list[HubEventRecord]:
    """The outbox's events about access requests (the world's repos have theirs too)."""
    events = SqlHubEventLog(database).list_events(0, 100)
    return [e for e in events if e.kind.startswith("access-request.")]


@pytest.fixture
def world(accounts: AccountStore, repos: RepoStore) -> World:
    owner = accounts.create_account("owner", AccountKind.USER, "Owner", None, False).id
    ada = accounts.create_account("ada", AccountKind.USER, "Ada L", "ada@example.com", False).id
    bob = accounts.create_account("bob", AccountKind.USER, "Bob", None, False).id
    repo = repos.create_repo("model", "owner", "gated", "key-gated", False).id
    other = repos.create_repo("dataset", "owner", "data", "key-data", False).id
    return World(owner, ada, bob, repo, other)


def test_a_request_keeps_its_user_fields_and_times(store: AccessRequestStore, world: World) -> None:
    record = store.ask(world.repo, world.ada, PENDING, {"name": "Ada", "ok": "on"}, T0)

    assert (record.user_name, record.user_fullname, record.user_email) == (
        "ada",
        "Ada L",
        "ada@example.com",
    )
    assert (record.status, record.fields, record.granted) == (
        PENDING,
        {"name": "Ada", "ok": "on"},
        False,
    )
    assert (record.created_at, record.updated_at, record.rejection_reason) == (T0, T0, None)
    assert store.find(world.repo, world.ada) == record
    assert store.get(world.repo, record.id) == record
    assert store.get(world.other, record.id) is None
    assert store.find(world.other, world.ada) is None


def test_asking_again_returns_the_first_request_unchanged(
    store: AccessRequestStore, database: Database, world: World
) -> None:
    first = store.ask(world.repo, world.ada, PENDING, {"a": "1"}, T0)
    store.set_status(first.id, PENDING, REJECTED, "no", world.owner, at(1))

    again = store.ask(world.repo, world.ada, ACCEPTED, {"a": "2"}, at(2))

    assert (again.id, again.status, again.fields) == (first.id, REJECTED, {"a": "1"})
    kinds = [event.kind for event in request_events(database)]
    assert kinds == [HubEventKind.ACCESS_REQUEST_CREATE, HubEventKind.ACCESS_REQUEST_UPDATE]


def test_concurrent_asks_leave_one_request(store: AccessRequestStore, world: World) -> None:
    results, failures = in_threads(8, lambda i: store.ask(world.repo, world.ada, PENDING, {}, T0))

    assert failures == []
    assert len({record.id for record in results}) == 1


def test_a_status_change_compares_the_status_it_expects(
    store: AccessRequestStore, database: Database, world: World
) -> None:
    asked = store.ask(world.repo, world.ada, PENDING, {}, T0)

    rejected = store.set_status(asked.id, PENDING, REJECTED, "Too vague", world.owner, at(1))

    assert rejected is not None
    assert (rejected.status, rejected.rejection_reason, rejected.updated_at) == (
        REJECTED,
        "Too vague",
        at(1),
    )
    assert store.set_status(asked.id, PENDING, ACCEPTED, None, world.owner, at(2)) is None
    accepted = store.set_status(asked.id, REJECTED, ACCEPTED, None, world.owner, at(3))
    assert accepted is not None and accepted.rejection_reason is None
    event = request_events(database)[-1]
    assert (event.kind, event.actor_name, event.repo_name) == (
        HubEventKind.ACCESS_REQUEST_UPDATE,
        "owner",
        "owner/gated",
    )
    assert event.payload == {"user": "ada", "status": "accepted", "previous_status": "rejected"}


def test_only_one_of_two_racing_decisions_wins(store: AccessRequestStore, world: World) -> None:
    asked = store.ask(world.repo, world.ada, PENDING, {}, T0)
    targets = [ACCEPTED, REJECTED] * 4

    results, failures = in_threads(
        8, lambda i: store.set_status(asked.id, PENDING, targets[i], None, world.owner, at(1))
    )

    assert failures == []
    assert len([record for record in results if record is not None]) == 1


def test_grant_creates_an_accepted_request_or_accepts_one(
    store: AccessRequestStore, database: Database, world: World
) -> None:
    granted = store.grant(world.repo, world.bob, world.owner, T0)
    asked = store.ask(world.repo, world.ada, PENDING, {"x": "y"}, T0)
    accepted = store.grant(world.repo, world.ada, world.owner, at(1))

    assert granted is not None
    assert (granted.status, granted.granted, granted.fields) == (ACCEPTED, True, {})
    assert accepted is not None
    assert (accepted.id, accepted.status, accepted.granted) == (asked.id, ACCEPTED, False)
    assert store.grant(world.repo, world.ada, world.owner, at(2)) is None
    event = request_events(database)[0]
    assert (event.kind, event.actor_name) == (HubEventKind.ACCESS_REQUEST_CREATE, "owner")
    assert event.payload == {"user": "bob", "status": "accepted", "granted": True}


def test_lists_page_one_status_oldest_first(store: AccessRequestStore, world: World) -> None:
    ada = store.ask(world.repo, world.ada, PENDING, {}, T0)
    bob = store.ask(world.repo, world.bob, PENDING, {}, at(1))
    store.ask(world.other, world.ada, PENDING, {}, T0)
    owner = store.grant(world.repo, world.owner, world.owner, at(2))

    assert [r.id for r in store.list(world.repo, PENDING, 0, 10)] == [ada.id, bob.id]
    assert [r.id for r in store.list(world.repo, PENDING, 1, 10)] == [bob.id]
    assert [r.id for r in store.list(world.repo, PENDING, 0, 1)] == [ada.id]
    assert owner is not None
    assert [r.id for r in store.list(world.repo, ACCEPTED, 0, 10)] == [owner.id]
    assert store.list(world.repo, REJECTED, 0, 10) == []


def test_accepted_repos_are_those_of_accepted_requests(
    store: AccessRequestStore, world: World
) -> None:
    store.ask(world.repo, world.ada, ACCEPTED, {}, T0)
    store.ask(world.other, world.ada, PENDING, {}, T0)

    assert store.accepted_repos(world.ada) == frozenset({world.repo})
    assert store.accepted_repos(world.bob) == frozenset()


def test_requests_go_with_their_repo_and_their_user(
    store: AccessRequestStore, accounts: AccountStore, repos: RepoStore, world: World
) -> None:
    ada = store.ask(world.repo, world.ada, ACCEPTED, {}, T0)
    bob = store.ask(world.other, world.bob, ACCEPTED, {}, T0)

    repos.delete_repo(world.repo)
    accounts.delete_account(world.bob, with_repos=False)

    assert store.get(world.repo, ada.id) is None
    assert store.get(world.other, bob.id) is None
    assert store.accepted_repos(world.ada) == frozenset()
