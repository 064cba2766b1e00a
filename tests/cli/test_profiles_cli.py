"""`hubstead user|org|follow|unfollow` and `hubstead repo storage` against the live hub."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_follow_then_user_info_and_followers(
    run: Run, user: HubUser, other_user: HubUser, repo: str
) -> None:
    followed = run("follow", other_user.name)
    again = run("follow", other_user.name)
    info = run("user", "info", other_user.name)
    mine = run("user", "info", user.name, "--json")
    followers = run("user", "followers", other_user.name, "--json")
    following = run("user", "following", user.name)

    assert followed.exit_code == 0, followed.output
    assert f"You follow {other_user.name}." in followed.stderr
    assert f"You already follow {other_user.name}." in again.stderr
    assert info.exit_code == 0, info.output
    assert "followers    1" in info.stdout
    assert "you follow   True" in info.stdout
    profile = json.loads(mine.stdout)
    assert (profile["username"], profile["num_models"], profile["num_following"]) == (
        user.name,
        1,
        1,
    )
    assert [p["username"] for p in json.loads(followers.stdout)] == [user.name]
    assert other_user.name in following.stdout

    unfollowed = run("unfollow", other_user.name)
    assert f"You no longer follow {other_user.name}." in unfollowed.stderr
    assert json.loads(run("user", "followers", other_user.name, "--json").stdout) == []


def test_org_info_members_and_follow(
    run: Run, live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN, other_user.name: Role.READ})

    followed = run("follow", org, "--org")
    info = run("org", "info", org, "--json")
    members = run("org", "members", org)
    followers = run("org", "followers", org, "--json")

    assert followed.exit_code == 0, followed.output
    overview = json.loads(info.stdout)
    assert (overview["name"], overview["num_users"], overview["num_followers"]) == (org, 2, 1)
    assert members.stdout.splitlines()[0].split() == ["NAME", "FULLNAME", "TYPE"]
    assert {line.split()[0] for line in members.stdout.splitlines()[1:]} == {
        user.name,
        other_user.name,
    }
    assert [p["username"] for p in json.loads(followers.stdout)] == [user.name]


def test_unknown_names_exit_not_found_with_the_hubs_message(run: Run) -> None:
    for args in (
        ("user", "info", "nobody-at-all-here"),
        ("org", "members", "nobody-at-all-here"),
        ("follow", "nobody-at-all-here"),
    ):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert "named 'nobody-at-all-here'" in result.stderr


def test_follow_needs_a_token(run: Run, other_user: HubUser) -> None:
    result = run("follow", other_user.name, token=None)

    assert result.exit_code == 3, result.output
    assert "You must be authenticated to follow" in result.stderr


def test_repo_storage_lists_my_repos(
    run: Run, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    public = repo_factory()
    private = repo_factory("dataset", private=True)

    table = run("repo", "storage")
    listed = run("repo", "storage", "--json")

    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split() == ["ID", "TYPE", "VISIBILITY", "BYTES", "SHARE"]
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {public, private}
    assert rows[private]["visibility"] == "private"
    assert rows[public]["storage"] > 0


def test_repo_storage_of_an_org_i_am_not_in_exits_with_an_auth_error(
    run: Run, live_server: LiveServer, other_user: HubUser
) -> None:
    org = make_org(live_server, {other_user.name: Role.ADMIN})

    result = run("repo", "storage", "--org", org)

    assert result.exit_code == 3, result.output
    assert f"Only members of {org!r}" in result.stderr
