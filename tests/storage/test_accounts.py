"""The `AccountStore` contract (accounts and memberships), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from hubstead.server.domain.accounts import AccountKind, Role
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.tokens import TokenStore

T = TypeVar("T")


def user(accounts: AccountStore, name: str, *, email: str | None = None) -> int:
    return accounts.create_account(name, AccountKind.USER, f"User {name}", email, False).id


def org(accounts: AccountStore, name: str) -> int:
    return accounts.create_account(name, AccountKind.ORG, f"Org {name}", None, False).id


def in_threads(count: int, work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `work(i)` in `count` threads released at once; results and exceptions."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            value = work(i)
        except BaseException as exc:  # collected and asserted on by the caller
            with lock:
                failures.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, failures


# --- accounts -----------------------------------------------------------------------------------


def test_create_account_round_trips_every_field(accounts: AccountStore) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    created = accounts.create_account("Ada", AccountKind.USER, "Ada Lovelacé 🤗", "ada@x.org", True)
    fetched = accounts.get_account("Ada")
    assert fetched == created
    assert (fetched.name, fetched.kind, fetched.fullname) == (
        "Ada",
        AccountKind.USER,
        "Ada Lovelacé 🤗",
    )
    assert (fetched.email, fetched.is_admin) == ("ada@x.org", True)
    assert fetched.created_at.tzinfo is not None
    assert before <= fetched.created_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert accounts.get_account_by_id(created.id) == created


def test_account_names_are_case_insensitive_and_keep_their_case(accounts: AccountStore) -> None:
    user(accounts, "MixedCase")
    found = accounts.get_account("mixedcase")
    assert found is not None
    assert found.name == "MixedCase"
    with pytest.raises(AlreadyExistsError):
        user(accounts, "MIXEDCASE")
    with pytest.raises(AlreadyExistsError):
        org(accounts, "mixedCase")
    assert accounts.count_accounts() == 1


def test_missing_accounts_are_none(accounts: AccountStore) -> None:
    assert accounts.get_account("nobody") is None
    assert accounts.get_account_by_id(12345) is None


def test_list_accounts_sorts_by_name_and_filters_by_kind(accounts: AccountStore) -> None:
    user(accounts, "bob")
    org(accounts, "Acme")
    user(accounts, "alice")
    org(accounts, "zeta")
    assert [a.name for a in accounts.list_accounts()] == ["Acme", "alice", "bob", "zeta"]
    assert [a.name for a in accounts.list_accounts(AccountKind.ORG)] == ["Acme", "zeta"]
    assert [a.name for a in accounts.list_accounts(AccountKind.USER)] == ["alice", "bob"]
    assert accounts.count_accounts() == 4


def test_delete_account_removes_its_tokens_and_memberships(
    accounts: AccountStore, tokens: TokenStore
) -> None:
    acme = org(accounts, "acme")
    ada = user(accounts, "ada")
    bob = user(accounts, "bob")
    accounts.set_membership(acme, ada, Role.ADMIN)
    accounts.set_membership(acme, bob, Role.READ)
    tokens.add_token(ada, "laptop", Role.WRITE, "a" * 64)
    assert accounts.delete_account(ada, with_repos=False) == []
    assert accounts.get_account("ada") is None
    assert tokens.find_token("a" * 64) is None
    assert [m.user.name for m in accounts.members_of(acme)] == ["bob"]
    # The name is free again.
    user(accounts, "ada")


def test_concurrent_creation_of_one_name_lets_exactly_one_win(accounts: AccountStore) -> None:
    results, failures = in_threads(
        6, lambda i: user(accounts, "Contested" if i % 2 else "contested")
    )
    assert len(results) == 1
    assert len(failures) == 5
    assert all(isinstance(f, AlreadyExistsError) for f in failures)
    assert accounts.count_accounts() == 1


def test_concurrent_writers_of_different_rows_all_succeed(
    accounts: AccountStore, tokens: TokenStore
) -> None:
    def work(i: int) -> int:
        account = user(accounts, f"writer{i}")
        for n in range(3):
            tokens.add_token(account, f"t{n}", Role.READ, f"{i:032d}{n:032d}")
        return account

    results, failures = in_threads(8, work)
    assert failures == []
    assert accounts.count_accounts() == 8
    assert all(len(tokens.list_tokens(account)) == 3 for account in results)


# --- memberships --------------------------------------------------------------------------------


def test_set_membership_adds_then_changes_the_role(accounts: AccountStore) -> None:
    acme = org(accounts, "acme")
    ada = user(accounts, "ada")
    accounts.set_membership(acme, ada, Role.READ)
    accounts.set_membership(acme, ada, Role.WRITE)
    [membership] = accounts.memberships_of(ada)
    assert (membership.org.name, membership.user.name, membership.role) == (
        "acme",
        "ada",
        Role.WRITE,
    )
    assert accounts.members_of(acme) == [membership]


def test_memberships_are_sorted_and_scoped(accounts: AccountStore) -> None:
    acme, beta = org(accounts, "acme"), org(accounts, "Beta")
    ada, bob = user(accounts, "ada"), user(accounts, "Bob")
    accounts.set_membership(beta, ada, Role.READ)
    accounts.set_membership(acme, ada, Role.ADMIN)
    accounts.set_membership(acme, bob, Role.WRITE)
    assert [m.org.name for m in accounts.memberships_of(ada)] == ["acme", "Beta"]
    assert [(m.user.name, m.role) for m in accounts.members_of(acme)] == [
        ("ada", Role.ADMIN),
        ("Bob", Role.WRITE),
    ]
    assert accounts.memberships_of(user(accounts, "loner")) == []


def test_remove_membership_reports_whether_there_was_one(accounts: AccountStore) -> None:
    acme, ada = org(accounts, "acme"), user(accounts, "ada")
    accounts.set_membership(acme, ada, Role.READ)
    assert accounts.remove_membership(acme, ada) is True
    assert accounts.remove_membership(acme, ada) is False
    assert accounts.members_of(acme) == []


def test_private_by_default_is_off_until_set(accounts: AccountStore) -> None:
    lab = org(accounts, "lab")
    assert accounts.get_account("lab").private_by_default is False  # type: ignore[union-attr]

    accounts.set_private_by_default(lab, True)

    assert accounts.get_account("LAB").private_by_default is True  # type: ignore[union-attr]
    accounts.set_private_by_default(lab, False)
    assert accounts.get_account("lab").private_by_default is False  # type: ignore[union-attr]


def test_set_fullname_changes_only_the_full_name(accounts: AccountStore) -> None:
    ada = user(accounts, "ada")
    before = accounts.get_account_by_id(ada)

    accounts.set_fullname(ada, "Ada Lovelace")

    after = accounts.get_account("ada")
    assert after is not None and before is not None
    assert after.fullname == "Ada Lovelace"
    assert (after.name, after.email, after.is_admin) == (before.name, before.email, before.is_admin)
