"""User and organization profiles through the official client: overviews, members, followers,
following, and `list_user_repos` (the namespace storage listing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org
from tests.helpers.clients import hf_ok
from tests.helpers.live_server import LiveServer


def _follow(server: LiveServer, follower: HubUser, name: str, *, org: bool = False) -> None:
    kind = "organizations" if org else "users"
    response = httpx.post(
        f"{server.url}/api/{kind}/{name}/follow",
        headers={"authorization": f"Bearer {follower.token}"},
    )
    response.raise_for_status()


def test_user_overview_counts_what_the_caller_may_see(
    live_server: LiveServer,
    hf_api: HfApi,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
) -> None:
    repo_factory()
    repo_factory(private=True)
    repo_factory("dataset")
    repo_factory("space")
    org = make_org(live_server, {user.name: Role.ADMIN})
    _follow(live_server, other_user, user.name)

    mine = hf_api.get_user_overview(user.name)
    theirs = other_user.api.get_user_overview(user.name)

    assert mine.username == user.name
    assert mine.fullname == f"Test {user.name}"
    assert mine.avatar_url == f"{live_server.url}/avatars/{user.name}.svg"
    assert (mine.num_models, mine.num_datasets, mine.num_spaces) == (2, 1, 1)
    assert (theirs.num_models, theirs.num_datasets, theirs.num_spaces) == (1, 1, 1)
    assert mine.num_followers == 1
    assert mine.num_following == 0
    assert mine.is_following is False
    assert theirs.is_following is True
    assert [o.name for o in mine.orgs] == [org]
    assert mine.user_type == "user"
    assert httpx.get(mine.avatar_url).headers["content-type"].startswith("image/svg+xml")


def test_user_overview_counts_discussions_the_user_opened(
    hf_api: HfApi, user: HubUser, repo: str
) -> None:
    hf_api.create_discussion(repo, "First")
    hf_api.create_discussion(repo, "Second")

    assert hf_api.get_user_overview(user.name).num_discussions == 2


def test_user_overview_counts_the_likes_the_caller_may_see(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    hidden = f"{other_user.name}/hidden"
    other_user.api.create_repo(hidden, private=True)
    for name in (repo, hidden):
        httpx.post(
            f"{live_server.url}/api/models/{name}/like",
            headers={"authorization": f"Bearer {other_user.token}"},
        ).raise_for_status()

    assert other_user.api.get_user_overview(other_user.name).num_likes == 2
    assert user.api.get_user_overview(other_user.name).num_likes == 1  # not the private one


def test_unknown_user_and_org_are_404_with_a_clear_message(hf_api: HfApi, user: HubUser) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.get_user_overview("nobody-here-at-all")
    assert caught.value.response.status_code == 404
    assert "No user named 'nobody-here-at-all'" in str(caught.value)

    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.get_organization_overview(user.name)  # a user, not an org
    assert caught.value.response.status_code == 404
    assert f"No organization named {user.name!r}" in str(caught.value)

    with pytest.raises(HfHubHTTPError) as caught:
        list(hf_api.list_organization_members("no-such-org-here"))
    assert caught.value.response.status_code == 404


def test_organization_overview_members_and_followers(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN, other_user.name: Role.READ})
    hf_api.create_repo(f"{org}/model")
    hf_api.create_repo(f"{org}/secret", private=True)
    _follow(live_server, user, org, org=True)

    overview = hf_api.get_organization_overview(org)
    outsider = HfApi(endpoint=live_server.url, token=False).get_organization_overview(org)
    members = list(hf_api.list_organization_members(org))
    followers = list(hf_api.list_organization_followers(org))

    assert overview.name == org
    assert overview.fullname == f"Org {org}"
    assert overview.avatar_url == f"{live_server.url}/avatars/{org}.svg"
    assert overview.num_users == 2
    assert overview.num_models == 2
    assert outsider.num_models == 1
    assert overview.num_followers == 1
    assert overview.is_following is True
    assert sorted(m.username for m in members) == sorted([user.name, other_user.name])
    assert all(m.avatar_url.endswith(f"/avatars/{m.username}.svg") for m in members)
    assert [f.username for f in followers] == [user.name]


def test_followers_and_following_of_a_user(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, other_user: HubUser
) -> None:
    _follow(live_server, other_user, user.name)

    assert [u.username for u in hf_api.list_user_followers(user.name)] == [other_user.name]
    assert [u.username for u in hf_api.list_user_following(other_user.name)] == [user.name]
    assert list(hf_api.list_user_following(user.name)) == []


def test_list_user_repos_lists_storage_of_my_namespace(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    public = repo_factory()
    private = repo_factory("dataset", private=True)
    hf_api.upload_file(path_or_fileobj=b"x" * 4096, path_in_repo="weights.bin", repo_id=public)

    listed = {info.id: info for info in hf_api.list_user_repos()}

    assert set(listed) == {public, private}
    assert listed[public].type == "model"
    assert listed[public].visibility == "public"
    assert listed[private].type == "dataset"
    assert listed[private].visibility == "private"
    assert listed[public].storage >= 4096
    assert listed[public].storage > listed[private].storage > 0
    assert sum(info.storage_percent for info in listed.values()) == pytest.approx(100, abs=0.1)
    assert listed[public].updated_at.tzinfo is not None


def test_list_user_repos_of_an_org_is_for_its_members(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.WRITE})
    hf_api.create_repo(f"{org}/model", private=True)

    listed = list(hf_api.list_user_repos(namespace=org))
    with pytest.raises(HfHubHTTPError) as caught:
        list(other_user.api.list_user_repos(namespace=org))

    assert [(info.id, info.visibility) for info in listed] == [(f"{org}/model", "private")]
    assert listed[0].storage_percent == 100
    assert caught.value.response.status_code == 403
    assert f"Only members of {org!r}" in str(caught.value)


def test_hf_repos_ls_lists_my_repos_with_their_storage(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    public = repo_factory()
    private = repo_factory("dataset", private=True)
    listed = hf_ok(live_server, user, tmp_path, "repos", "ls", "--format", "json")

    rows = {row["id"]: row for row in json.loads(listed)}
    assert set(rows) == {public, private}
    assert rows[private]["type"] == "dataset"
    assert rows[private]["visibility"] == "private"
