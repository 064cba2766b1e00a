"""Likes over raw HTTP: like, unlike, likers and liked repos, their pages and who sees them."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def as_user(live_server: LiveServer, token: str | None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=live_server.url, headers=headers)


def likes_of(http: httpx.Client, repo: str, type: str = "models") -> int:
    response = http.get(f"/api/{type}/{repo}", params={"expand": "likes"})
    assert response.status_code == 200
    count: int = response.json()["likes"]
    return count


def test_liking_counts_once_per_user_and_unliking_takes_it_back(
    live_server: LiveServer, http: httpx.Client, other_user: HubUser, repo: str
) -> None:
    with as_user(live_server, other_user.token) as other:
        assert http.post(f"/api/models/{repo}/like").status_code == 200
        assert http.post(f"/api/models/{repo}/like").status_code == 200
        assert other.post(f"/api/models/{repo}/like").status_code == 200
        assert likes_of(http, repo) == 2

        assert other.delete(f"/api/models/{repo}/like").status_code == 200
        assert other.delete(f"/api/models/{repo}/like").status_code == 200
    assert likes_of(http, repo) == 1


def test_likers_carry_name_fullname_and_a_served_avatar(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo: str
) -> None:
    http.post(f"/api/models/{repo}/like")

    likers = http.get(f"/api/models/{repo}/likers").json()

    avatar = f"{live_server.url}/avatars/{user.name}.svg"
    assert likers == [{"user": user.name, "fullname": f"Test {user.name}", "avatarUrl": avatar}]
    assert httpx.get(avatar).headers["content-type"] == "image/svg+xml"


def test_likers_are_paginated_with_an_absolute_next_link(
    live_server: LiveServer, http: httpx.Client, other_user: HubUser, repo: str
) -> None:
    http.post(f"/api/models/{repo}/like")
    with as_user(live_server, other_user.token) as other:
        other.post(f"/api/models/{repo}/like")

    first = http.get(f"/api/models/{repo}/likers", params={"limit": 1})
    second = httpx.get(first.links["next"]["url"])

    assert first.links["next"]["url"].startswith(live_server.url)
    assert [u["user"] for u in first.json() + second.json()] == [other_user.name, http_user(http)]
    assert "next" not in second.links


def http_user(http: httpx.Client) -> str:
    name: str = http.get("/api/whoami-v2").json()["name"]
    return name


def test_liked_repos_list_each_repo_with_its_type_and_time(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    model, dataset = repo_factory(), repo_factory("dataset")
    http.post(f"/api/models/{model}/like")
    http.post(f"/api/datasets/{dataset}/like")

    liked = http.get(f"/api/users/{user.name}/likes").json()

    assert [item["repo"] for item in liked] == [
        {"name": dataset, "type": "dataset"},
        {"name": model, "type": "model"},
    ]
    assert all(item["createdAt"].endswith("Z") for item in liked)


def test_a_private_repo_and_its_likes_are_invisible_to_outsiders(
    live_server: LiveServer,
    http: httpx.Client,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
) -> None:
    private = repo_factory(private=True)
    http.post(f"/api/models/{private}/like")

    with as_user(live_server, other_user.token) as outsider, as_user(live_server, None) as anon:
        for client in (outsider, anon):
            for method, path in [
                ("GET", f"/api/models/{private}/likers"),
                ("POST", f"/api/models/{private}/like"),
                ("DELETE", f"/api/models/{private}/like"),
            ]:
                response = client.request(method, path)
                missing = client.request(method, path.replace(private, f"{user.name}/missing"))
                assert response.status_code == missing.status_code
                assert response.headers["X-Error-Code"] == "RepoNotFound"
            assert client.get(f"/api/users/{user.name}/likes").json() == []
    assert [item["repo"]["name"] for item in http.get(f"/api/users/{user.name}/likes").json()] == [
        private
    ]


def test_liking_needs_a_token_that_may_write(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret
    with as_user(live_server, None) as anon, as_user(live_server, read_token) as reader:
        anonymous = anon.post(f"/api/models/{repo}/like")
        read_only = reader.delete(f"/api/models/{repo}/like")

    assert anonymous.status_code == 401
    assert "authenticated to like" in anonymous.headers["X-Error-Message"]
    assert read_only.status_code == 403
    assert "read role only" in read_only.headers["X-Error-Message"]


def test_liking_a_missing_repo_is_repo_not_found(http: httpx.Client, user: HubUser) -> None:
    response = http.post(f"/api/spaces/{user.name}/nothing-here/like")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "RepoNotFound"


def test_likes_of_an_unknown_user_are_a_404(http: httpx.Client) -> None:
    response = http.get("/api/users/nobody-at-all-here/likes")

    assert response.status_code == 404
    assert "No user named 'nobody-at-all-here'" in response.headers["X-Error-Message"]


def test_deleting_a_repo_removes_its_likes(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    doomed = repo_factory()
    http.post(f"/api/models/{doomed}/like")

    user.api.delete_repo(doomed)

    assert http.get(f"/api/users/{user.name}/likes").json() == []


@pytest.mark.parametrize("direction", ["-1", "1"])
def test_listings_sort_by_likes(
    live_server: LiveServer,
    http: httpx.Client,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    direction: str,
) -> None:
    loved, liked, plain = repo_factory(), repo_factory(), repo_factory()
    with as_user(live_server, other_user.token) as other:
        for client, target in [(http, loved), (other, loved), (http, liked)]:
            client.post(f"/api/models/{target}/like")

    listing = http.get(
        "/api/models",
        params={"author": user.name, "sort": "likes", "direction": direction, "expand": "likes"},
    ).json()

    found = [(item["id"], item["likes"]) for item in listing]
    expected = [(loved, 2), (liked, 1), (plain, 0)]
    assert found == (expected if direction == "-1" else expected[::-1])
