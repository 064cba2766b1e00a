"""The `ProfileStore` contract (follows, authored discussions), on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.discussions_sql import SqlDiscussionStore
from hubstead.server.storage.profiles import ProfileStore
from hubstead.server.storage.profiles_sql import SqlProfileStore
from hubstead.server.storage.repos import RepoStore
from tests.storage.test_accounts import org, user
from tests.storage.test_discussions import discussion


@pytest.fixture
def profiles(database: Database) -> ProfileStore:
    return SqlProfileStore(database)


def test_follow_once_list_count_and_unfollow(
    accounts: AccountStore, profiles: ProfileStore
) -> None:
    ada, bob, cat = (user(accounts, n) for n in ("ada", "Bob", "cat"))
    lab = org(accounts, "lab")

    assert profiles.follow(bob, ada) is True
    assert profiles.follow(bob, ada) is False
    assert profiles.follow(cat, ada) is True
    assert profiles.follow(bob, lab) is True

    assert [a.name for a in profiles.followers(ada, 0, 10)] == ["Bob", "cat"]
    assert [a.name for a in profiles.followers(ada, 1, 10)] == ["cat"]
    assert [a.name for a in profiles.followers(ada, 0, 1)] == ["Bob"]
    assert [a.name for a in profiles.following(bob, 0, 10)] == ["ada", "lab"]
    assert [a.kind for a in profiles.following(bob, 0, 10)] == [AccountKind.USER, AccountKind.ORG]
    assert (profiles.count_followers(ada), profiles.count_following(bob)) == (2, 2)
    assert profiles.is_following(bob, ada) and not profiles.is_following(ada, bob)

    assert profiles.unfollow(bob, ada) is True
    assert profiles.unfollow(bob, ada) is False
    assert [a.name for a in profiles.followers(ada, 0, 10)] == ["cat"]


def test_follows_go_with_either_account(accounts: AccountStore, profiles: ProfileStore) -> None:
    ada, bob, cat = (user(accounts, n) for n in ("ada", "bob", "cat"))
    profiles.follow(bob, ada)
    profiles.follow(ada, cat)

    accounts.delete_account(ada, with_repos=False)

    assert profiles.count_following(bob) == 0
    assert profiles.count_followers(cat) == 0


def test_discussions_are_counted_where_the_caller_may_see_them(
    database: Database, accounts: AccountStore, repos: RepoStore, profiles: ProfileStore
) -> None:
    ada = user(accounts, "ada")
    public = repos.create_repo("model", "ada", "open", "k1", False, None)
    secret = repos.create_repo("model", "Ada", "closed", "k2", True, None)
    threads = SqlDiscussionStore(database)
    for repo in (public, secret, secret):
        threads.create(repo.id, discussion(ada))

    assert profiles.count_discussions(ada, []) == 1
    assert profiles.count_discussions(ada, ["ada"]) == 3
    assert profiles.count_discussions(ada, None) == 3
    assert profiles.count_discussions(user(accounts, "bob"), None) == 0
