"""Profiles over raw HTTP: follow rules and errors, Link pagination, who sees which repos."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user
from tests.helpers.live_server import LiveServer


def as_user(server: LiveServer, user: HubUser | None) -> httpx.Client:
    headers = {} if user is None else {"authorization": f"Bearer {user.token}"}
    return httpx.Client(base_url=server.url, headers=headers)


def test_follow_and_unfollow_are_idempotent(
    live_server: LiveServer, http: httpx.Client, user: HubUser, other_user: HubUser
) -> None:
    path = f"/api/users/{other_user.name}/follow"

    first, again = http.post(path), http.post(path)
    followed = http.get(f"/api/users/{other_user.name}/overview").json()
    gone, gone_again = http.delete(path), http.delete(path)

    assert (first.status_code, first.json()) == (200, {"changed": True})
    assert again.json() == {"changed": False}
    assert (followed["numFollowers"], followed["isFollowing"]) == (1, True)
    assert (gone.json(), gone_again.json()) == ({"changed": True}, {"changed": False})
    assert http.get(f"/api/users/{other_user.name}/followers").json() == []


@pytest.mark.parametrize(
    ("who", "status", "message"),
    [
        (None, 401, "You must be authenticated to follow"),
        ("read", 403, "has the read role only"),
    ],
)
def test_following_needs_a_write_token(
    live_server: LiveServer, other_user: HubUser, who: str | None, status: int, message: str
) -> None:
    caller = None if who is None else make_user(live_server, role=Role.READ)
    with as_user(live_server, caller) as client:
        response = client.post(f"/api/users/{other_user.name}/follow")

    assert response.status_code == status
    assert message in response.headers["X-Error-Message"]
    assert response.json()["error"] == response.headers["X-Error-Message"]


def test_following_yourself_or_nobody_is_refused(http: httpx.Client, user: HubUser) -> None:
    myself = http.post(f"/api/users/{user.name}/follow")
    nobody = http.post("/api/users/nobody-at-all-here/follow")
    not_an_org = http.post(f"/api/organizations/{user.name}/follow")

    assert myself.status_code == 400
    assert myself.headers["X-Error-Message"] == "You cannot follow yourself"
    assert nobody.status_code == 404
    assert nobody.headers["X-Error-Message"] == "No user named 'nobody-at-all-here' on this hub"
    assert not_an_org.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/nobody-at-all-here/overview",
        "/api/users/nobody-at-all-here/followers",
        "/api/users/nobody-at-all-here/following",
        "/api/organizations/nobody-at-all-here/overview",
        "/api/organizations/nobody-at-all-here/members",
        "/api/organizations/nobody-at-all-here/followers",
        "/api/organizations/nobody-at-all-here/settings/repositories",
    ],
)
def test_unknown_accounts_are_404_with_a_json_error(http: httpx.Client, path: str) -> None:
    response = http.get(path)

    assert response.status_code == 404
    assert "named 'nobody-at-all-here'" in response.headers["X-Error-Message"]
    assert response.json() == {"error": response.headers["X-Error-Message"]}


def test_followers_are_link_paginated_with_absolute_urls(
    live_server: LiveServer, user: HubUser
) -> None:
    fans = [make_user(live_server, "fan") for _ in range(3)]
    for fan in fans:
        with as_user(live_server, fan) as client:
            client.post(f"/api/users/{user.name}/follow").raise_for_status()

    names: list[str] = []
    url: str | None = f"{live_server.url}/api/users/{user.name}/followers?limit=2"
    pages = 0
    with httpx.Client() as client:
        while url is not None:
            response = client.get(url)
            response.raise_for_status()
            names += [item["user"] for item in response.json()]
            url = response.links.get("next", {}).get("url")
            pages += 1

    assert pages == 2
    assert names == sorted((f.name for f in fans), key=str.lower)


def test_members_are_link_paginated(live_server: LiveServer, http: httpx.Client) -> None:
    people = [make_user(live_server, "member") for _ in range(3)]
    org = make_org(live_server, {p.name: Role.READ for p in people})

    first = http.get(f"/api/organizations/{org}/members", params={"limit": 2})
    second = http.get(first.links["next"]["url"])

    assert [m["user"] for m in first.json() + second.json()] == sorted(
        (p.name for p in people), key=str.lower
    )
    assert "next" not in second.links
    assert (
        first.json()[0]["avatarUrl"] == f"{live_server.url}/avatars/{first.json()[0]['user']}.svg"
    )


def test_overview_hides_private_repos_from_outsiders(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_factory(private=True)

    with as_user(live_server, None) as anonymous:
        outsider = anonymous.get(f"/api/users/{user.name}/overview").json()
    with as_user(live_server, user) as owner:
        mine = owner.get(f"/api/users/{user.name}/overview").json()

    assert outsider["numModels"] == 0
    assert "isFollowing" not in outsider
    assert mine["numModels"] == 1
    assert mine["createdAt"].endswith("Z")


def test_repo_storage_listing_needs_a_token_and_membership(
    live_server: LiveServer, http: httpx.Client, other_user: HubUser
) -> None:
    org = make_org(live_server, {other_user.name: Role.ADMIN})

    with as_user(live_server, None) as anonymous:
        unauthenticated = anonymous.get("/api/settings/repositories")
    outsider = http.get(f"/api/organizations/{org}/settings/repositories")

    assert unauthenticated.status_code == 401
    assert "You must be authenticated" in unauthenticated.headers["X-Error-Message"]
    assert outsider.status_code == 403
    assert (
        outsider.headers["X-Error-Message"]
        == f"Only members of {org!r} may list its repos' storage"
    )


def test_repo_storage_listing_is_link_paginated(
    http: httpx.Client, repo_factory: Callable[..., str]
) -> None:
    made = {repo_factory() for _ in range(3)}

    first = http.get("/api/settings/repositories", params={"limit": 2})
    second = http.get(first.links["next"]["url"])

    assert len(first.json()) == 2
    assert {item["id"] for item in first.json() + second.json()} == made
    assert all(item["updatedAt"].endswith("Z") for item in first.json())


def test_an_invalid_cursor_or_limit_is_a_400(http: httpx.Client, user: HubUser) -> None:
    bad_cursor = http.get(f"/api/users/{user.name}/followers", params={"cursor": "nope!"})
    bad_limit = http.get(f"/api/users/{user.name}/followers", params={"limit": "0"})

    assert bad_cursor.status_code == 400
    assert bad_limit.status_code == 400


def test_an_unknown_action_under_a_user_is_an_unknown_endpoint(http: httpx.Client) -> None:
    response = http.get("/api/users/someone/nonsense")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EndpointNotFound"


def test_org_admins_set_private_by_default_and_create_repo_honours_it(
    live_server: LiveServer, http: httpx.Client, user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN})

    changed = http.put(f"/api/organizations/{org}/settings", json={"privateByDefault": True})
    default = http.post("/api/repos/create", json={"name": "default", "organization": org})
    public = http.post(
        "/api/repos/create", json={"name": "open", "organization": org, "private": False}
    )

    assert changed.json() == {"name": org, "privateByDefault": True}
    assert default.status_code == public.status_code == 200
    assert http.get(f"/api/models/{org}/default").json()["private"] is True
    assert http.get(f"/api/models/{org}/open").json()["private"] is False


@pytest.mark.parametrize(
    ("role", "body", "status", "message"),
    [
        (None, {"privateByDefault": True}, 401, "You must be authenticated"),
        (Role.WRITE, {"privateByDefault": True}, 403, "only admins of the namespace"),
        (Role.ADMIN, {"privateByDefault": "yes"}, 400, "'privateByDefault' must be a boolean"),
    ],
)
def test_org_settings_refusals(
    live_server: LiveServer,
    user: HubUser,
    role: Role | None,
    body: dict[str, object],
    status: int,
    message: str,
) -> None:
    org = make_org(live_server, {} if role is None else {user.name: role})

    with as_user(live_server, None if role is None else user) as client:
        response = client.put(f"/api/organizations/{org}/settings", json=body)

    assert response.status_code == status
    assert message in response.headers["X-Error-Message"]
    assert live_server.services.auth.get_account(org).private_by_default is False
