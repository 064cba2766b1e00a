"""`POST /api/{type}s/{repo}/duplicate` over raw HTTP: the answer's shape and every refusal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


@pytest.fixture
def target(user: HubUser) -> Iterator[str]:
    """A free repo id in `user`'s namespace, deleted at teardown if something created it."""
    repo_id = f"{user.name}/{unique_name('copy')}"
    yield repo_id
    user.api.delete_repo(repo_id, missing_ok=True)


def _refused(response: httpx.Response, status: int, code: str | None, words: str) -> None:
    assert response.status_code == status
    assert response.headers.get("X-Error-Code") == code
    assert words in response.headers["X-Error-Message"]
    assert response.json() == {"error": response.headers["X-Error-Message"]}


def test_the_answer_is_the_copys_url_with_no_copy_pending(
    http: httpx.Client, live_server: LiveServer, repo: str, target: str
) -> None:
    response = http.post(f"/api/models/{repo}/duplicate", json={"repository": target})

    assert response.status_code == 200
    assert response.json() == {"url": f"{live_server.url}/{target}", "filesCopyPending": False}


def test_a_copy_without_a_target_goes_to_the_callers_namespace(
    http: httpx.Client, user: HubUser
) -> None:
    source = f"{user.name}/{unique_name('src')}"
    user.api.create_repo(source, repo_type="dataset")
    try:
        response = http.post(f"/api/datasets/{source}/duplicate", json={})
        assert response.status_code == 409  # its own name in its own namespace: the source
        assert response.json()["url"].endswith(f"/datasets/{source}")
    finally:
        user.api.delete_repo(source, repo_type="dataset")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"repository": 3}, "'repository' must be a non-empty string"),
        ({"repository": "a/b/c"}, "Invalid repo name"),
        ({"repository": "someone/bad--name"}, "Invalid repo name"),
        ({"visibility": "protected"}, "Invalid visibility 'protected' for a model"),
        ({"private": "yes"}, "'private' must be a boolean"),
    ],
)
def test_a_malformed_body_is_a_400(
    http: httpx.Client, repo: str, body: dict[str, object], words: str
) -> None:
    _refused(http.post(f"/api/models/{repo}/duplicate", json=body), 400, None, words)


@pytest.mark.parametrize(
    ("type", "body", "status", "code", "words"),
    [
        ("spaces", {"hardware": "t4-small"}, 400, None, "This hub offers cpu-basic only"),
        ("spaces", {"storageTier": "large"}, 501, "NotImplemented", "without 'storageTier'"),
        ("models", {"variables": [{"key": "K", "value": "v"}]}, 400, None, "Only a Space takes"),
    ],
)
def test_options_this_hub_does_not_have_are_refused(
    http: httpx.Client,
    user: HubUser,
    target: str,
    type: str,
    body: dict[str, object],
    status: int,
    code: str | None,
    words: str,
) -> None:
    source = f"{user.name}/{unique_name('source')}"
    repo_type = type.removesuffix("s")
    user.api.create_repo(
        source, repo_type=repo_type, space_sdk="static" if repo_type == "space" else None
    )
    try:
        response = http.post(f"/api/{type}/{source}/duplicate", json={"repository": target, **body})
        _refused(response, status, code, words)
        assert not user.api.repo_exists(target, repo_type=repo_type)
    finally:
        user.api.delete_repo(source, repo_type=repo_type)


def test_an_anonymous_caller_must_authenticate(
    live_server: LiveServer, repo: str, target: str
) -> None:
    response = httpx.post(
        f"{live_server.url}/api/models/{repo}/duplicate", json={"repository": target}
    )

    _refused(response, 401, None, "authenticated")


def test_a_missing_source_is_repo_not_found(http: httpx.Client, user: HubUser, target: str) -> None:
    missing = f"{user.name}/{unique_name('missing')}"

    response = http.post(f"/api/models/{missing}/duplicate", json={"repository": target})

    _refused(response, 404, "RepoNotFound", missing)


def test_a_private_source_answers_as_a_missing_one_to_outsiders(
    live_server: LiveServer, other_user: HubUser, user: HubUser
) -> None:
    secret = f"{user.name}/{unique_name('secret')}"
    missing = f"{user.name}/{unique_name('missing')}"
    user.api.create_repo(secret, private=True)
    auth = {"authorization": f"Bearer {other_user.token}"}
    body = {"repository": f"{other_user.name}/copy"}
    try:
        hidden = httpx.post(
            f"{live_server.url}/api/models/{secret}/duplicate", json=body, headers=auth
        )
        absent = httpx.post(
            f"{live_server.url}/api/models/{missing}/duplicate", json=body, headers=auth
        )
    finally:
        user.api.delete_repo(secret)

    assert (hidden.status_code, absent.status_code) == (404, 404)
    assert hidden.headers["X-Error-Code"] == absent.headers["X-Error-Code"] == "RepoNotFound"
    assert hidden.json()["error"].replace(secret, "X") == absent.json()["error"].replace(
        missing, "X"
    )


def test_a_target_in_a_missing_namespace_is_refused(http: httpx.Client, repo: str) -> None:
    response = http.post(
        f"/api/models/{repo}/duplicate", json={"repository": f"{unique_name('nobody')}/x"}
    )

    _refused(response, 403, None, "does not exist")
