"""hubstead's `HfApi` on people: overviews, members, follows and the namespace storage listing,
checked against what the official client reads from the same hub."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import hubstead
from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org
from tests.helpers.live_server import LiveServer


@pytest.fixture
def fan(live_server: LiveServer, other_user: HubUser) -> Iterator[HfApi]:
    """hubstead's `HfApi` acting as `other_user`."""
    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as api:
        yield api


def test_user_overview_matches_the_official_client(
    client: HfApi, live_server: LiveServer, user: HubUser, fan: HfApi, repo: str
) -> None:
    org = make_org(live_server, {user.name: Role.READ})
    assert fan.follow(user.name) is True

    ours = client.get_user_overview(user.name)
    theirs = user.api.get_user_overview(user.name)

    assert isinstance(ours, models.User)
    assert (ours.username, ours.fullname, ours.avatar_url) == (
        theirs.username,
        theirs.fullname,
        theirs.avatar_url,
    )
    assert (ours.num_models, ours.num_followers, ours.num_following) == (1, 1, 0)
    assert ours.user_type == "user"
    assert [o.name for o in ours.orgs] == [org]
    assert ours.orgs[0].avatar_url == f"{live_server.url}/avatars/{org}.svg"


def test_organization_overview_members_and_followers(
    client: HfApi, live_server: LiveServer, user: HubUser, other_user: HubUser, fan: HfApi
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN, other_user.name: Role.READ})
    assert fan.follow(org, organization=True) is True
    assert fan.follow(org, organization=True) is False

    overview = client.get_organization_overview(org)
    members = [m.username for m in client.list_organization_members(org)]
    followers = [f.username for f in client.list_organization_followers(org)]

    assert isinstance(overview, models.Organization)
    assert (overview.name, overview.num_users, overview.num_followers) == (org, 2, 1)
    assert sorted(members) == sorted([user.name, other_user.name])
    assert followers == [other_user.name]
    assert [u.user_type for u in fan.list_user_following(other_user.name)] == ["org"]
    assert fan.unfollow(org, organization=True) is True
    assert list(client.list_organization_followers(org)) == []


def test_followers_and_following(
    client: HfApi, user: HubUser, other_user: HubUser, fan: HfApi
) -> None:
    fan.follow(user.name)

    assert [u.username for u in client.list_user_followers(user.name)] == [other_user.name]
    assert [u.username for u in client.list_user_following(other_user.name)] == [user.name]
    assert fan.unfollow(user.name) is True
    assert fan.unfollow(user.name) is False


def test_list_user_repos_matches_the_official_client(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_factory()
    repo_factory("space", private=True)

    ours = sorted(client.list_user_repos(), key=lambda r: r.id)
    theirs = sorted(user.api.list_user_repos(), key=lambda r: r.id)

    assert all(isinstance(r, models.RepoStorageInfo) for r in ours)
    assert [(r.id, r.type, r.visibility, r.storage) for r in ours] == [
        (r.id, r.type, r.visibility, r.storage) for r in theirs
    ]
    assert [r.updated_at for r in ours] == [r.updated_at for r in theirs]


def test_errors_are_raised_as_the_hub_states_them(client: HfApi, user: HubUser) -> None:
    with pytest.raises(errors.HfHubHTTPError) as caught:
        client.get_user_overview("nobody-at-all-here")
    assert caught.value.response is not None
    assert caught.value.response.status_code == 404
    assert "No user named 'nobody-at-all-here'" in str(caught.value)

    with pytest.raises(errors.BadRequestError, match="You cannot follow yourself"):
        client.follow(user.name)

    with pytest.raises(errors.HFValidationError):
        client.get_organization_overview("../api")


def test_module_level_functions_use_the_environment(
    live_server: LiveServer, user: HubUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.setenv("HF_TOKEN", user.token)

    assert hubstead.get_user_overview(user.name).username == user.name
    assert list(hubstead.list_user_followers(user.name)) == []


def test_update_organization_settings_makes_new_repos_private(
    client: HfApi, live_server: LiveServer, user: HubUser, fan: HfApi
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN})

    client.update_organization_settings(org, private_by_default=True)
    client.create_repo(f"{org}/model")

    assert client.repo_info(f"{org}/model").private is True
    with pytest.raises(errors.HfHubHTTPError) as caught:
        fan.update_organization_settings(org, private_by_default=False)
    assert caught.value.response is not None
    assert caught.value.response.status_code == 403
