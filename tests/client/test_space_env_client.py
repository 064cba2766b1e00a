"""hubstead's `HfApi` on Space secrets and variables, against the live hub, checked with the
official client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubstead import errors
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser


@pytest.fixture
def space(repo_factory: Callable[..., str]) -> str:
    return repo_factory("space")


def test_variables_round_trip_as_with_the_official_client(
    client: HfApi, user: HubUser, space: str
) -> None:
    after_add = client.add_space_variable(space, "MODE", "fast", description="speed")
    client.add_space_variable(space, "OTHER", "x")
    after_delete = client.delete_space_variable(space, "OTHER")

    assert list(after_add) == ["MODE"]
    assert list(after_delete) == ["MODE"]
    ours = client.get_space_variables(space)["MODE"]
    theirs = user.api.get_space_variables(space)["MODE"]
    assert (ours.key, ours.value, ours.description, ours.updated_at) == (
        theirs.key,
        theirs.value,
        theirs.description,
        theirs.updated_at,
    )


def test_secrets_are_added_listed_and_deleted(client: HfApi, user: HubUser, space: str) -> None:
    client.add_space_secret(space, "API_KEY", "hunter2", description="the key")

    secret = client.get_space_secrets(space)["API_KEY"]
    assert (secret.key, secret.description) == ("API_KEY", "the key")
    assert secret.updated_at == user.api.get_space_secrets(space)["API_KEY"].updated_at

    client.delete_space_secret(space, "API_KEY")
    assert client.get_space_secrets(space) == {}


def test_a_bad_key_raises_bad_request(client: HfApi, space: str) -> None:
    with pytest.raises(errors.BadRequestError, match="not an environment variable name"):
        client.add_space_secret(space, "1BAD", "v")
