"""The `TokenStore` contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from hubstead.server.domain.accounts import Role
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.tokens import TokenStore
from tests.storage.test_accounts import user


def test_tokens_are_found_by_hash_with_their_user(
    accounts: AccountStore, tokens: TokenStore
) -> None:
    ada = user(accounts, "ada")
    record = tokens.add_token(ada, "ci", Role.WRITE, "f" * 64)
    found = tokens.find_token("f" * 64)
    assert found is not None
    token, account = found
    assert token == record
    assert (token.name, token.role, token.user_id, token.last_used_at) == (
        "ci",
        Role.WRITE,
        ada,
        None,
    )
    assert account.name == "ada"
    assert tokens.find_token("e" * 64) is None


def test_a_token_hash_is_unique(accounts: AccountStore, tokens: TokenStore) -> None:
    ada, bob = user(accounts, "ada"), user(accounts, "bob")
    tokens.add_token(ada, "one", Role.READ, "1" * 64)
    with pytest.raises(AlreadyExistsError):
        tokens.add_token(bob, "two", Role.READ, "1" * 64)


def test_list_and_delete_tokens_by_name(accounts: AccountStore, tokens: TokenStore) -> None:
    ada, bob = user(accounts, "ada"), user(accounts, "bob")
    tokens.add_token(ada, "laptop", Role.READ, "1" * 64)
    tokens.add_token(ada, "ci", Role.WRITE, "2" * 64)
    tokens.add_token(ada, "laptop", Role.ADMIN, "3" * 64)
    tokens.add_token(bob, "laptop", Role.READ, "4" * 64)
    assert [t.token_hash[0] for t in tokens.list_tokens(ada)] == ["1", "2", "3"]
    assert tokens.delete_token(ada, "laptop") == 2
    assert tokens.delete_token(ada, "laptop") == 0
    assert [t.name for t in tokens.list_tokens(ada)] == ["ci"]
    assert [t.name for t in tokens.list_tokens(bob)] == ["laptop"]
