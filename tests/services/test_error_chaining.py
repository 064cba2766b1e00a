"""A storage error a service translates stays the cause of the domain error (for the log).

The caller sees the domain error and its message; the operator reading a traceback sees which
storage call refused, and why.
"""

from __future__ import annotations

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services
from hubstead.server.storage.errors import AlreadyExistsError, RefConflictError


@pytest.fixture
def ada(hub: Services) -> Identity:
    hub.auth.create_user("ada", is_admin=False)
    identity = hub.auth.authenticate(hub.auth.create_token("ada", Role.WRITE).secret)
    hub.repos.create(identity, RepoType.MODEL, None, "model")
    hub.repos.create(identity, RepoType.MODEL, None, "other")
    return identity


def test_a_taken_user_name_is_a_conflict_caused_by_the_store(hub: Services) -> None:
    hub.auth.create_user("bob", is_admin=False)

    with pytest.raises(errors.ConflictError, match="already taken") as raised:
        hub.auth.create_user("bob", is_admin=False)

    assert isinstance(raised.value.__cause__, AlreadyExistsError)


def test_a_reused_token_secret_is_a_conflict_caused_by_the_store(
    hub: Services, ada: Identity
) -> None:
    secret = hub.auth.create_token("ada", Role.READ).secret

    with pytest.raises(errors.ConflictError, match="already in use") as raised:
        hub.auth.create_token("ada", Role.READ, name="again", secret=secret)

    assert isinstance(raised.value.__cause__, AlreadyExistsError)


def test_a_move_onto_a_taken_name_is_a_conflict_caused_by_the_store(
    hub: Services, ada: Identity
) -> None:
    with pytest.raises(errors.ConflictError, match="already exists") as raised:
        hub.repos.move(ada, RepoType.MODEL, "ada/model", "ada/other")

    assert isinstance(raised.value.__cause__, AlreadyExistsError)


def test_an_existing_branch_is_a_conflict_caused_by_the_ref_swap(
    hub: Services, ada: Identity
) -> None:
    hub.refs.create_branch(ada, RepoType.MODEL, "ada/model", "dev", None)

    with pytest.raises(errors.ConflictError, match="already exists") as raised:
        hub.refs.create_branch(ada, RepoType.MODEL, "ada/model", "dev", None)

    assert isinstance(raised.value.__cause__, RefConflictError)
