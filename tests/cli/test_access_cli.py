"""`hubstead access ...` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, ["access", *args], env=env)

    return invoke


@pytest.fixture
def gated(user: HubUser, repo: str) -> str:
    user.api.update_repo_settings(repo, gated="manual")
    return repo


def test_request_then_list_accept_reject_cancel(
    run: Run, user: HubUser, other_user: HubUser, gated: str
) -> None:
    asked = run(
        "request", gated, "--field", "name=Other", "--field", "terms=on", token=other_user.token
    )

    assert asked.exit_code == 0, asked.output
    assert "waiting for the repo's managers" in asked.stderr
    listed = run("list", gated)
    assert listed.exit_code == 0, listed.output
    assert other_user.name in listed.stdout and "name=Other, terms=on" in listed.stdout

    assert run("accept", gated, other_user.name).exit_code == 0
    [accepted] = user.api.list_accepted_access_requests(gated)
    assert accepted.username == other_user.name
    rejected = run("reject", gated, other_user.name, "--reason", "Closed")
    assert rejected.exit_code == 0 and "Rejected" in rejected.stderr
    as_json = json.loads(run("list", gated, "--status", "rejected", "--json").stdout)
    assert [(r["username"], r["status"]) for r in as_json] == [(other_user.name, "rejected")]
    assert run("cancel", gated, other_user.name).exit_code == 0
    assert [r.username for r in user.api.list_pending_access_requests(gated)] == [other_user.name]


def test_grant_gives_access_and_a_second_grant_fails(
    run: Run, user: HubUser, other_user: HubUser, gated: str
) -> None:
    first = run("grant", gated, other_user.name)
    second = run("grant", gated, other_user.name)

    assert first.exit_code == 0 and "Granted" in first.stderr
    assert [r.username for r in user.api.list_accepted_access_requests(gated)] == [other_user.name]
    assert second.exit_code == 1
    assert "already has access" in second.stderr


def test_failures_exit_with_their_codes_and_messages(
    run: Run, other_user: HubUser, gated: str
) -> None:
    not_manager = run("list", gated, token=other_user.token)
    unknown = run("grant", gated, unique_name("nobody"))
    bad_field = run("request", gated, "--field", "no-equals", token=other_user.token)

    assert not_manager.exit_code == 3
    assert "manage access requests" in not_manager.stderr
    assert unknown.exit_code == 2 and "No user named" in unknown.stderr
    assert bad_field.exit_code == 1 and "NAME=VALUE" in bad_field.stderr
