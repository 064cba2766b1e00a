"""Likes through the official client: `unlike`, `list_liked_repos`, `list_repo_likers`, and the
count in repo info and listings (the client cannot like: the web hub does, with a raw POST)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def like(live_server: LiveServer, who: HubUser, repo: str, type: str = "model") -> None:
    response = httpx.post(
        f"{live_server.url}/api/{type}s/{repo}/like",
        headers={"authorization": f"Bearer {who.token}"},
    )
    assert response.status_code == 200


def test_liked_repos_are_bucketed_by_type(
    live_server: LiveServer, user: HubUser, hf_api: HfApi, repo_factory: Callable[..., str]
) -> None:
    model, dataset, space = repo_factory(), repo_factory("dataset"), repo_factory("space")
    for repo, type in [(model, "model"), (dataset, "dataset"), (space, "space")]:
        like(live_server, user, repo, type)

    likes = hf_api.list_liked_repos()

    assert (likes.user, likes.total) == (user.name, 3)
    assert (likes.models, likes.datasets, likes.spaces) == ([model], [dataset], [space])


def test_unlike_takes_the_repo_out_of_the_likes_and_the_count(
    live_server: LiveServer, user: HubUser, hf_api: HfApi, repo: str
) -> None:
    like(live_server, user, repo)
    assert hf_api.model_info(repo).likes == 1

    hf_api.unlike(repo)

    assert hf_api.model_info(repo).likes == 0
    assert hf_api.list_liked_repos(user.name).total == 0


def test_likers_are_users_with_avatars(
    live_server: LiveServer, user: HubUser, other_user: HubUser, hf_api: HfApi, repo: str
) -> None:
    like(live_server, user, repo)
    like(live_server, other_user, repo)

    likers = list(hf_api.list_repo_likers(repo))

    assert [u.username for u in likers] == [other_user.name, user.name]
    assert likers[1].fullname == f"Test {user.name}"
    assert likers[1].avatar_url == f"{live_server.url}/avatars/{user.name}.svg"


def test_listings_sort_by_likes_and_expand_them(
    live_server: LiveServer, user: HubUser, hf_api: HfApi, repo_factory: Callable[..., str]
) -> None:
    plain, liked = repo_factory(), repo_factory()
    like(live_server, user, liked)

    found = list(hf_api.list_models(author=user.name, sort="likes", expand=["likes"]))

    assert [(m.id, m.likes) for m in found] == [(liked, 1), (plain, 0)]


def test_a_private_repo_cannot_be_unliked_or_its_likers_listed_by_outsiders(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
) -> None:
    private = repo_factory(private=True)
    like(live_server, user, private)

    with pytest.raises(RepositoryNotFoundError):
        other_user.api.unlike(private)
    with pytest.raises(RepositoryNotFoundError):
        list(other_user.api.list_repo_likers(private))
    assert other_user.api.list_liked_repos(user.name).total == 0
    assert user.api.list_liked_repos().models == [private]
