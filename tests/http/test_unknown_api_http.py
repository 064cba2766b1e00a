"""Paths under `/api/` that name no endpoint: one clear 404 with `EndpointNotFound`, whatever the
method, the caller or the body, and never a repo route run on a segment that names no repo type."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.live_server import LiveServer

UNKNOWN = [
    "/api/foo",
    "/api/foo/someone/thing",
    "/api/Models/someone/thing",
    "/api/model/someone/thing/tree/main",
    "/api/foo/someone/thing/commit/main",
    "/api/foo/someone/thing/discussions",
    "/api/models/{repo}/frobnicate",
]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_api_path_is_a_404_saying_no_such_api_exists(
    http: httpx.Client, repo: str, method: str, path: str
) -> None:
    path = path.format(repo=repo)

    response = http.request(method, path, content=b"not json")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EndpointNotFound"
    message = response.headers["X-Error-Message"]
    assert message == f"No such API: {method} {path} is not an endpoint of this hub"
    assert response.json() == {"error": message}


def test_an_unknown_repo_type_segment_is_not_blamed_on_the_repo_type(http: httpx.Client) -> None:
    response = http.get("/api/users-typo/someone/thing")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EndpointNotFound"
    assert "repo type" not in response.headers["X-Error-Message"]


@pytest.mark.parametrize("token", [None, "hf_not_a_token_of_this_hub"])
def test_an_unknown_api_path_answers_every_caller_the_same_404(
    live_server: LiveServer, token: str | None
) -> None:
    headers = {"authorization": f"Bearer {token}"} if token else {}

    response = httpx.get(f"{live_server.url}/api/foo/someone/thing", headers=headers)

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EndpointNotFound"


def test_head_on_an_unknown_api_path_has_the_headers_and_no_body(http: httpx.Client) -> None:
    response = http.head("/api/foo/someone/thing")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EndpointNotFound"
    assert response.content == b""


def test_a_long_unknown_path_is_shortened_in_the_message(http: httpx.Client) -> None:
    path = "/api/foo/" + "x" * 500

    response = http.get(path)

    assert response.status_code == 404
    assert response.headers["X-Error-Message"] == (
        f"No such API: GET {path[:200]}... is not an endpoint of this hub"
    )


def test_a_wrong_method_on_an_endpoint_that_exists_stays_a_405(
    http: httpx.Client, repo: str
) -> None:
    response = http.post(f"/api/models/{repo}/refs")

    assert response.status_code == 405
    assert "X-Error-Code" not in response.headers
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


@pytest.mark.parametrize("segment", ["models", "datasets", "spaces"])
def test_every_repo_type_segment_still_reaches_its_routes(http: httpx.Client, segment: str) -> None:
    response = http.get(f"/api/{segment}/nobody/nothing")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "RepoNotFound"


@pytest.mark.parametrize("path", ["/no-such-page", "/no-such/repo", "/no-such/repo/blob/main/x"])
def test_a_path_outside_the_api_keeps_the_plain_404(http: httpx.Client, path: str) -> None:
    """Web pages of missing things answer a client that is not a browser as unknown paths."""
    response = http.get(path)

    assert response.status_code == 404
    assert "X-Error-Code" not in response.headers
    assert response.json() == {"error": "Not Found"}
