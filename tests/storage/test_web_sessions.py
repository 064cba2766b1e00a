"""The `WebSessionStore` contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.web_sessions import WebSessionStore
from tests.storage.test_accounts import user

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_a_session_is_found_by_hash_until_it_expires(
    accounts: AccountStore, web_sessions: WebSessionStore
) -> None:
    ada = user(accounts, "ada")
    added = web_sessions.add_session(ada, "a" * 64, NOW, NOW + DAY, "Firefox")

    found = web_sessions.find_session("a" * 64, NOW + DAY / 2)
    assert found is not None
    session, account = found
    assert session == added and account.name == "ada"
    assert web_sessions.find_session("a" * 64, NOW + 2 * DAY) is None
    assert web_sessions.find_session("b" * 64, NOW) is None


def test_expired_sessions_are_deleted_and_live_ones_kept(
    accounts: AccountStore, web_sessions: WebSessionStore
) -> None:
    ada, bob = user(accounts, "ada"), user(accounts, "bob")
    web_sessions.add_session(ada, "1" * 64, NOW, NOW + DAY, "old")
    web_sessions.add_session(bob, "2" * 64, NOW, NOW + 3 * DAY, "new")

    assert web_sessions.delete_expired_sessions(NOW + 2 * DAY) == 1
    assert web_sessions.delete_expired_sessions(NOW + 2 * DAY) == 0
    assert web_sessions.find_session("1" * 64, NOW) is None
    assert web_sessions.find_session("2" * 64, NOW + 2 * DAY) is not None


def test_ending_an_accounts_sessions_leaves_the_others(
    accounts: AccountStore, web_sessions: WebSessionStore
) -> None:
    ada, bob = user(accounts, "ada"), user(accounts, "bob")
    web_sessions.add_session(ada, "1" * 64, NOW, NOW + DAY, "a")
    web_sessions.add_session(ada, "2" * 64, NOW, NOW + DAY, "b")
    web_sessions.add_session(bob, "3" * 64, NOW, NOW + DAY, "c")

    assert web_sessions.delete_account_sessions(ada) == 2
    assert web_sessions.find_session("1" * 64, NOW) is None
    assert web_sessions.find_session("3" * 64, NOW) is not None
