"""Unavailable Hub features over raw HTTP: every method gets the same clear 404, and the routes
that exist beside them keep working."""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi

from hubstead.server.http.unavailable import UNAVAILABLE
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer

FEATURE_PATHS = [
    ("/api/collections/someone/mine-0123/resource-group", "Resource groups of collections"),
    ("/api/spaces/zero-gpu/quota", "ZeroGPU quotas"),
    ("/api/spaces/semantic-search", "Space semantic search"),
    ("/api/buckets/someone/bucket", "Buckets"),
    ("/api/jobs/someone/abc/cancel", "Jobs"),
    ("/api/scheduled-jobs/someone", "Jobs"),
]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(("path", "feature"), FEATURE_PATHS)
def test_every_method_on_an_unavailable_feature_is_a_404_naming_it(
    http: httpx.Client, repo: str, method: str, path: str, feature: str
) -> None:
    response = http.request(method, path.format(repo=repo), json={})

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "NotImplemented"
    message = response.headers["X-Error-Message"]
    assert message.startswith(feature)
    assert message.endswith("are not available on this hub yet")
    assert response.json() == {"error": message}


def test_head_on_an_unavailable_feature_has_the_headers_and_no_body(http: httpx.Client) -> None:
    response = http.head("/api/buckets/someone/bucket")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "NotImplemented"
    assert response.content == b""


def test_an_unavailable_feature_answers_anonymous_callers_the_same(
    live_server: LiveServer, repo: str
) -> None:
    response = httpx.get(f"{live_server.url}/api/buckets/someone/bucket")

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "NotImplemented"


def test_every_feature_in_the_table_names_itself_in_its_message() -> None:
    for entry in UNAVAILABLE:
        assert entry.message == f"{entry.feature} are not available on this hub yet"
        assert entry.patterns


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/models/{repo}"),
        ("GET", "/api/models/{repo}/refs"),
        ("GET", "/api/models/{repo}/tree/main"),
        ("GET", "/api/models/{repo}/lfs-files"),
        ("GET", "/api/models/{repo}/auth-check"),
        ("GET", "/api/whoami-v2"),
    ],
)
def test_served_routes_beside_the_unavailable_ones_still_answer(
    http: httpx.Client, repo: str, method: str, path: str
) -> None:
    response = http.request(method, path.format(repo=repo))

    assert response.status_code == 200
    assert "X-Error-Code" not in response.headers


def test_a_space_named_hardware_is_still_served(
    http: httpx.Client, hf_api: HfApi, user: HubUser
) -> None:
    space = f"{user.name}/hardware"
    hf_api.create_repo(space, repo_type="space", space_sdk="gradio")

    response = http.get(f"/api/spaces/{space}")

    assert response.status_code == 200
    assert response.json()["id"] == space
