"""hubstead's `HfApi` on access requests to gated repos, against the live hub.

Results are checked against what the official client reads from the same hub.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

import hubstead
from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


@pytest.fixture
def asker(live_server: LiveServer, other_user: HubUser) -> Iterator[HfApi]:
    """hubstead's `HfApi` acting as `other_user`, who asks for access to `user`'s repos."""
    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as api:
        yield api


@pytest.fixture
def gated(user: HubUser, repo: str) -> str:
    user.api.update_repo_settings(repo, gated="manual")
    return repo


def test_request_access_returns_the_request_the_managers_list(
    client: HfApi, asker: HfApi, user: HubUser, other_user: HubUser, gated: str
) -> None:
    asked = asker.request_access(gated, fields={"name": "Other", "terms": "on"})

    assert isinstance(asked, models.AccessRequest)
    assert (asked.username, asked.status) == (other_user.name, "pending")
    assert asked.fields == {"name": "Other", "terms": "on"}
    assert abs(asked.timestamp - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert list(client.list_pending_access_requests(gated)) == [asked]
    [official] = list(user.api.list_pending_access_requests(gated))
    assert (official.request_id, official.timestamp) == (asked.request_id, asked.timestamp)


def test_decisions_return_the_request_in_its_new_state(
    client: HfApi, asker: HfApi, other_user: HubUser, gated: str
) -> None:
    asked = asker.request_access(gated)

    accepted = client.accept_access_request(gated, other_user.name)
    rejected = client.reject_access_request(
        gated, request_id=asked.request_id, rejection_reason="Closed"
    )
    pending = client.cancel_access_request(gated, other_user.name)

    assert [r.status for r in (accepted, rejected, pending)] == ["accepted", "rejected", "pending"]
    assert {r.request_id for r in (accepted, rejected, pending)} == {asked.request_id}
    assert [r.username for r in client.list_pending_access_requests(gated)] == [other_user.name]
    assert list(client.list_accepted_access_requests(gated)) == []
    assert list(client.list_rejected_access_requests(gated)) == []


def test_grant_access_and_the_module_functions(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    gated: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.setenv("HF_TOKEN", user.token)

    granted = hubstead.grant_access(gated, other_user.name)

    assert (granted.username, granted.status, granted.email) == (other_user.name, "accepted", None)
    assert [r.username for r in hubstead.list_accepted_access_requests(gated)] == [other_user.name]


def test_mistakes_raise_the_hubs_errors(
    client: HfApi,
    asker: HfApi,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    gated: str,
) -> None:
    with pytest.raises(errors.HFValidationError, match="exactly one of user, request_id"):
        client.accept_access_request(gated)
    with pytest.raises(errors.HFValidationError):
        client.cancel_access_request(gated, other_user.name, request_id="0" * 24)
    with pytest.raises(errors.BadRequestError, match="is not gated"):
        asker.request_access(repo_factory("dataset"), repo_type="dataset")
    with pytest.raises(errors.HfHubHTTPError, match="manage access requests") as caught:
        list(asker.list_pending_access_requests(gated))
    assert caught.value.status_code == 403
    with pytest.raises(errors.HfHubHTTPError, match="No user named") as caught:
        client.grant_access(gated, unique_name("nobody"))
    assert caught.value.status_code == 404
    with pytest.raises(errors.RepositoryNotFoundError):
        asker.request_access(f"{other_user.name}/{unique_name('missing')}")
