"""hubstead's `HfApi` on likes, against the live hub, checked with the official client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def test_like_counts_once_and_unlike_takes_it_back(client: HfApi, user: HubUser, repo: str) -> None:
    client.like(repo)
    client.like(repo)
    assert user.api.model_info(repo).likes == 1

    client.unlike(repo)

    assert user.api.model_info(repo).likes == 0


def test_list_liked_repos_defaults_to_the_caller_and_buckets_by_type(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    model, space = repo_factory(), repo_factory("space")
    client.like(model)
    client.like(space, repo_type="space")

    likes = client.list_liked_repos()

    assert likes == models.UserLikes(user.name, 2, [], [], [model], [space])
    assert client.list_liked_repos(user.name) == likes


def test_list_liked_repos_without_user_or_token_says_what_to_do(live_server: LiveServer) -> None:
    with (
        HfApi(endpoint=live_server.url, token=False, trust_env=False) as anonymous,
        pytest.raises(errors.HFValidationError, match="pass a user, or sign in"),
    ):
        anonymous.list_liked_repos()


def test_list_repo_likers_matches_the_official_client(
    client: HfApi, live_server: LiveServer, other_user: HubUser, repo: str
) -> None:
    client.like(repo)
    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as other:
        other.like(repo)

    ours = list(client.list_repo_likers(repo))
    theirs = list(other_user.api.list_repo_likers(repo))

    assert [(u.username, u.fullname, u.avatar_url) for u in ours] == [
        (u.username, u.fullname, u.avatar_url) for u in theirs
    ]
    assert len(ours) == 2


def test_liking_a_private_repo_of_someone_else_is_repository_not_found(
    live_server: LiveServer, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    private = repo_factory(private=True)
    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as other:
        with pytest.raises(errors.RepositoryNotFoundError):
            other.like(private)
        with pytest.raises(errors.RepositoryNotFoundError):
            list(other.list_repo_likers(private))
