"""Repo and identity endpoints over raw HTTP: what the official client cannot express.

Error shapes, listing order and pagination, settings the client no longer sends, and the exact
answers that make a private repo indistinguishable from a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    """A plain HTTP client on the live server, without credentials."""
    with httpx.Client(base_url=live_server.url) as client:
        yield client


def _auth(user: HubUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def _assert_hub_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status
    assert response.headers["X-Error-Message"]
    assert response.headers["X-Request-Id"]
    assert response.headers.get("X-Error-Code") == code
    if response.request.method != "HEAD":
        # The header is the body's message with control characters blanked out.
        message = "".join(" " if c < " " else c for c in response.json()["error"])
        assert message.strip() == response.headers["X-Error-Message"]


# --- error shapes ---------------------------------------------------------------------------------


def test_errors_carry_message_request_id_and_a_json_body(
    http: httpx.Client, user: HubUser, other_user: HubUser, repo: str
) -> None:
    _assert_hub_error(http.get("/api/whoami-v2"), 401)
    _assert_hub_error(http.get("/api/no/such/endpoint/at/all"), 404, "EndpointNotFound")
    _assert_hub_error(
        http.post("/api/repos/create", content=b"{not json", headers=_auth(user)), 400
    )
    _assert_hub_error(
        http.put(f"/api/models/{repo}/settings", json={"private": True}, headers=_auth(other_user)),
        403,
    )
    _assert_hub_error(http.get(f"/api/models/{repo}/revision/nope"), 404, "RevisionNotFound")


def test_head_errors_have_headers_and_no_body(http: httpx.Client, user: HubUser) -> None:
    response = http.head(f"/{user.name}/{unique_name('missing')}/resolve/main/x.txt")

    _assert_hub_error(response, 401, "RepoNotFound")
    assert response.content == b""


def test_a_request_id_sent_by_the_caller_is_echoed(http: httpx.Client) -> None:
    response = http.get("/api/whoami-v2", headers={"X-Request-Id": "trace-me-42"})

    assert response.headers["X-Request-Id"] == "trace-me-42"


def test_an_invalid_token_is_401_with_the_hub_message_everywhere(
    http: httpx.Client, repo: str
) -> None:
    bad = {"Authorization": "Bearer hf_not_a_real_token_at_all"}
    for response in (
        http.get("/api/whoami-v2", headers=bad),
        http.get(f"/api/models/{repo}", headers=bad),
        http.get("/api/models", headers=bad),
        http.head(f"/{repo}/resolve/main/.gitattributes", headers=bad),
    ):
        _assert_hub_error(response, 401)
        assert response.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


# --- private repos look missing -------------------------------------------------------------------


@pytest.mark.parametrize("logged_in", [False, True])
def test_a_private_repo_answers_exactly_like_a_missing_one(
    http: httpx.Client,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    logged_in: bool,
) -> None:
    private = repo_factory(private=True)
    missing = f"{user.name}/{unique_name('missing')}"
    headers = _auth(other_user) if logged_in else {}
    status = 404 if logged_in else 401

    for template in ("/api/models/{}", "/api/models/{}/tree/main", "/{}/resolve/main/README.md"):
        seen = http.get(template.format(private), headers=headers)
        absent = http.get(template.format(missing), headers=headers)
        _assert_hub_error(seen, status, "RepoNotFound")
        _assert_hub_error(absent, status, "RepoNotFound")
        assert seen.json()["error"].replace(private, "X") == absent.json()["error"].replace(
            missing, "X"
        )
        assert set(seen.headers) == set(absent.headers)


def test_a_delete_of_a_missing_repo_is_repo_not_found(http: httpx.Client, user: HubUser) -> None:
    response = http.request(
        "DELETE",
        "/api/repos/delete",
        json={"name": unique_name("missing"), "organization": user.name},
        headers=_auth(user),
    )

    _assert_hub_error(response, 404, "RepoNotFound")


# --- create, settings, move -----------------------------------------------------------------------


def test_creating_an_existing_repo_is_409_with_its_url(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo: str
) -> None:
    name = repo.split("/")[1]

    response = http.post(
        "/api/repos/create", json={"name": name, "organization": user.name}, headers=_auth(user)
    )

    _assert_hub_error(response, 409)
    assert response.json()["url"] == f"{live_server.url}/{repo}"


def test_create_accepts_the_older_private_flag(http: httpx.Client, user: HubUser) -> None:
    name = unique_name("old-client")

    created = http.post(
        "/api/repos/create",
        json={"name": name, "organization": None, "type": "dataset", "private": True},
        headers=_auth(user),
    )

    assert created.status_code == 200
    assert created.json()["url"].endswith(f"/datasets/{user.name}/{name}")
    info = http.get(f"/api/datasets/{user.name}/{name}", headers=_auth(user)).json()
    assert info["private"] is True
    http.request(
        "DELETE", "/api/repos/delete", json={"name": name, "type": "dataset"}, headers=_auth(user)
    )


@pytest.mark.parametrize(
    "name", ["bad--name", "-leading", "trailing.", "dots..x", "x.git", "sp ace", "é", "a" * 97]
)
def test_invalid_repo_names_are_a_clear_400(http: httpx.Client, user: HubUser, name: str) -> None:
    response = http.post("/api/repos/create", json={"name": name}, headers=_auth(user))

    _assert_hub_error(response, 400)
    assert "Invalid repo name" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "ok", "type": "notebook"},
        {"name": "ok", "type": "space", "sdk": "flash"},
        {"name": 42},
        {"name": "ok", "visibility": "secret"},
        {"name": "ok", "visibility": "protected"},
        {"name": "ok", "private": "yes"},
    ],
)
def test_malformed_create_requests_are_a_clear_400(
    http: httpx.Client, user: HubUser, body: dict[str, object]
) -> None:
    response = http.post("/api/repos/create", json=body, headers=_auth(user))

    _assert_hub_error(response, 400)


def test_creating_without_a_token_is_401(http: httpx.Client) -> None:
    _assert_hub_error(http.post("/api/repos/create", json={"name": unique_name("x")}), 401)


def test_creating_in_a_namespace_that_does_not_exist_is_refused(
    http: httpx.Client, user: HubUser
) -> None:
    response = http.post(
        "/api/repos/create",
        json={"name": "x", "organization": unique_name("ghost")},
        headers=_auth(user),
    )

    _assert_hub_error(response, 403)


def test_discussions_can_be_disabled_with_a_raw_settings_put(
    http: httpx.Client, user: HubUser, repo: str
) -> None:
    response = http.put(
        f"/api/models/{repo}/settings", json={"discussionsDisabled": True}, headers=_auth(user)
    )

    assert response.status_code == 200
    assert response.json()["discussionsDisabled"] is True
    info = http.get(f"/api/models/{repo}", headers=_auth(user)).json()
    assert info["discussionsDisabled"] is True
    assert info["private"] is False


@pytest.mark.parametrize(
    "body", [{"gated": "sometimes"}, {"gated": 3}, {"discussionsDisabled": "no"}, {"private": 1}]
)
def test_invalid_settings_are_a_clear_400(
    http: httpx.Client, user: HubUser, repo: str, body: dict[str, object]
) -> None:
    response = http.put(f"/api/models/{repo}/settings", json=body, headers=_auth(user))

    _assert_hub_error(response, 400)


def test_the_old_name_of_a_moved_repo_redirects_api_calls(
    http: httpx.Client, user: HubUser
) -> None:
    old, new = f"{user.name}/{unique_name('old')}", f"{user.name}/{unique_name('new')}"
    user.api.create_repo(old)
    user.api.move_repo(old, new)

    response = http.get(f"/api/models/{old}/revision/main", headers=_auth(user))

    assert response.status_code == 307
    assert response.headers["Location"] == f"/api/models/{new}/revision/main"
    user.api.delete_repo(new)


def test_a_protected_space_is_kept_private(http: httpx.Client, user: HubUser) -> None:
    name = unique_name("space")
    body = {"name": name, "type": "space", "sdk": "static", "visibility": "protected"}

    assert http.post("/api/repos/create", json=body, headers=_auth(user)).status_code == 200

    assert http.get(f"/api/spaces/{user.name}/{name}").status_code == 401
    user.api.delete_repo(f"{user.name}/{name}", repo_type="space")


def test_a_change_of_case_then_a_move_keeps_both_old_names(
    http: httpx.Client, user: HubUser
) -> None:
    name = unique_name("case")
    user.api.create_repo(f"{user.name}/{name}")
    for target in (name, name.upper(), f"{name}-moved"):
        response = http.post(
            "/api/repos/move",
            json={"fromRepo": f"{user.name}/{name}", "toRepo": f"{user.name}/{target}"},
            headers=_auth(user),
        )
        assert response.status_code == 200

    for old in (name, name.upper()):
        info = http.get(
            f"/api/models/{user.name}/{old}", headers=_auth(user), follow_redirects=True
        )
        assert info.json()["id"] == f"{user.name}/{name}-moved"
    user.api.delete_repo(f"{user.name}/{name}-moved")


def test_a_move_to_an_invalid_or_unknown_namespace_is_400(
    http: httpx.Client, user: HubUser, repo: str
) -> None:
    for target in (f"{user.name}/bad--name", f"{unique_name('ghost')}/x", "no-namespace"):
        response = http.post(
            "/api/repos/move", json={"fromRepo": repo, "toRepo": target}, headers=_auth(user)
        )
        _assert_hub_error(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/%00/x",
        "/api/models/a/%00",
        "/api/datasets/a%20b/c",
        "/%00/x/resolve/main/a.txt",
        "/api/models/x/y/auth-check",
    ],
)
def test_ids_that_break_the_naming_rules_are_repo_not_found(
    http: httpx.Client, user: HubUser, path: str
) -> None:
    _assert_hub_error(http.get(path, headers=_auth(user)), 404, "RepoNotFound")


def test_moving_a_repo_named_with_a_nul_is_repo_not_found(
    http: httpx.Client, user: HubUser
) -> None:
    response = http.post(
        "/api/repos/move", json={"fromRepo": "a\u0000/b", "toRepo": "x/y"}, headers=_auth(user)
    )

    _assert_hub_error(response, 404, "RepoNotFound")


# --- listings -------------------------------------------------------------------------------------


def test_listing_direction_orders_both_ways(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    created = [repo_factory() for _ in range(3)]

    def ids(direction: str) -> list[str]:
        params = {"author": user.name, "sort": "createdAt", "direction": direction}
        return [item["id"] for item in http.get("/api/models", params=params).json()]

    assert ids("1") == created
    assert ids("-1") == created[::-1]


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "up"},
        {"sort": "size"},
        {"limit": "-1"},
        {"cursor": "%%%"},
        {"cursor": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ=="},  # 10**30, past any SQL integer
    ],
)
def test_bad_listing_parameters_are_a_clear_400(http: httpx.Client, params: dict[str, str]) -> None:
    _assert_hub_error(http.get("/api/models", params=params), 400)


@pytest.mark.parametrize("key", ["search", "author", "filter", "pipeline_tag"])
def test_a_listing_filter_with_a_nul_matches_nothing(http: httpx.Client, key: str) -> None:
    response = http.get("/api/models", params={key: "a\x00b"})

    assert response.status_code == 200
    assert response.json() == []


def test_listings_paginate_with_absolute_link_headers(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    created = [repo_factory("dataset") for _ in range(5)]
    url: str | None = f"/api/datasets?author={user.name}&limit=2&direction=1"
    pages: list[list[str]] = []

    while url is not None:
        response = http.get(url)
        assert response.status_code == 200
        pages.append([item["id"] for item in response.json()])
        link = response.links.get("next")
        url = link["url"] if link else None
        assert url is None or url.startswith(f"{live_server.url}/api/datasets?")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [repo_id for page in pages for repo_id in page] == created


def test_a_listing_item_has_the_fields_clients_read(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_id = repo_factory("space", space_sdk="static")

    [item] = http.get("/api/spaces", params={"author": user.name}).json()

    assert item["id"] == repo_id
    assert item["author"] == user.name
    assert item["sdk"] == "static"
    assert item["createdAt"].endswith("Z") and item["lastModified"].endswith("Z")
    assert item["private"] is False and item["gated"] is False
