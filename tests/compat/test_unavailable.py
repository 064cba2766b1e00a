"""Hub features this hub does not serve, through the official client: a clear error, never a
misleading one (no 405, no Space named "hardware", no unknown repo type "users")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils._http import get_session, hf_raise_for_status

from tests.helpers.accounts import HubUser

Call = Callable[[HfApi, str, str, str], Any]


CALLS: list[tuple[str, Call, str]] = [
    (
        "update_collection_resource_group",
        lambda api, repo, space, me: api.update_collection_resource_group(
            f"{me}/mine-{'0' * 24}", None
        ),
        "Resource groups of collections",
    ),
    (
        "get_zero_gpu_quota",
        lambda api, repo, space, me: api.get_zero_gpu_quota(),
        "ZeroGPU quotas",
    ),
    ("list_buckets", lambda api, repo, space, me: list(api.list_buckets()), "Buckets"),
    ("list_jobs", lambda api, repo, space, me: list(api.list_jobs(namespace=me)), "Jobs"),
    ("list_jobs_hardware", lambda api, repo, space, me: api.list_jobs_hardware(), "Jobs"),
]


@pytest.mark.parametrize(
    ("call", "feature"), [(c, f) for _, c, f in CALLS], ids=[n for n, _, _ in CALLS]
)
def test_an_unavailable_feature_is_a_404_naming_it(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str], call: Call, feature: str
) -> None:
    repo = repo_factory()
    space = repo_factory("space")

    with pytest.raises(HfHubHTTPError) as caught:
        call(hf_api, repo, space, user.name)

    response = caught.value.response
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "NotImplemented"
    message = response.headers["X-Error-Message"]
    assert message.startswith(feature)
    assert message.endswith("are not available on this hub yet")
    assert message in str(caught.value)


def test_served_endpoints_still_answer_beside_unavailable_ones(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory("space")

    assert hf_api.whoami()["name"] == user.name
    assert hf_api.space_info(space).id == space
    assert [r.id for r in hf_api.list_spaces(author=user.name)] == [space]


@pytest.mark.parametrize("path", ["/api/foo/someone/thing", "/api/models/someone/thing/frobnicate"])
def test_an_unknown_api_is_an_error_saying_so_never_a_missing_repo(
    hf_api: HfApi, path: str
) -> None:
    response = get_session().get(hf_api.endpoint + path)

    with pytest.raises(HfHubHTTPError) as caught:
        hf_raise_for_status(response)

    assert not isinstance(caught.value, RepositoryNotFoundError)
    assert caught.value.response.status_code == 404
    assert caught.value.response.headers["X-Error-Code"] == "EndpointNotFound"
    assert f"No such API: GET {path} is not an endpoint of this hub" in str(caught.value)
