"""`hubstead spaces secrets|variables` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from hubstead.protocol import RepoType
from hubstead.server.services.access import Action
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, input: str | None = None) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": user.token}
        return CliRunner().invoke(cli, list(args), env=env, input=input)

    return invoke


@pytest.fixture
def space(repo_factory: Callable[..., str]) -> str:
    return repo_factory("space")


def test_a_secret_is_read_from_stdin_listed_without_value_and_deleted(
    run: Run, user: HubUser, space: str
) -> None:
    added = run(
        "spaces", "secrets", "add", space, "API_KEY", "--description", "key", input="hunter2\n"
    )
    assert added.exit_code == 0, (added.output, added.exception)
    assert f"Secret API_KEY set on {space}." in added.stderr

    listed = run("spaces", "secrets", "list", space, "--json")
    assert listed.exit_code == 0, listed.output
    assert "hunter2" not in listed.output
    assert [(s["key"], s["description"]) for s in json.loads(listed.stdout)] == [("API_KEY", "key")]
    assert list(user.api.get_space_secrets(space)) == ["API_KEY"]

    deleted = run("spaces", "secrets", "delete", space, "API_KEY")
    assert deleted.exit_code == 0, deleted.output
    assert user.api.get_space_secrets(space) == {}


def test_variables_are_added_listed_and_deleted(run: Run, user: HubUser, space: str) -> None:
    added = run("spaces", "variables", "add", space, "MODE", "fast")
    assert added.exit_code == 0, added.output
    assert user.api.get_space_variables(space)["MODE"].value == "fast"

    listed = run("spaces", "variables", "list", space)
    assert listed.exit_code == 0, listed.output
    assert "MODE" in listed.stdout
    assert "fast" in listed.stdout

    deleted = run("spaces", "variables", "delete", space, "MODE")
    assert deleted.exit_code == 0, deleted.output
    assert user.api.get_space_variables(space) == {}


def test_a_reserved_key_is_refused_with_the_hub_s_reason(run: Run, space: str) -> None:
    result = run("spaces", "variables", "add", space, "LD_PRELOAD", "/tmp/x.so")

    assert result.exit_code != 0
    assert "reserved" in result.output


def test_runtime_pause_sleep_time_and_restart(run: Run, user: HubUser, space: str) -> None:
    shown = run("spaces", "runtime", space)
    assert shown.exit_code == 0, shown.output
    assert f"{space}: BUILDING" in shown.stdout

    slept = run("spaces", "sleep-time", space, "3600")
    assert slept.exit_code == 0, slept.output
    assert "sleeps: after 3600 s idle" in slept.stdout
    assert user.api.get_space_runtime(space).sleep_time == 3600

    paused = run("spaces", "pause", space)
    assert paused.exit_code == 0, paused.output
    assert f"{space}: PAUSED" in paused.stdout
    assert "hubstead spaces restart" in paused.stderr

    restarted = run("spaces", "restart", space, "--factory", "--json")
    assert restarted.exit_code == 0, restarted.output
    assert json.loads(restarted.stdout)["stage"] == "BUILDING"
    assert "from scratch" in restarted.stderr


def test_a_sleep_time_the_hub_refuses_is_a_usage_error(run: Run, space: str) -> None:
    result = run("spaces", "sleep-time", space, "5")

    assert result.exit_code == 1
    assert "at least 60 seconds" in result.output


def test_build_logs_are_printed(
    run: Run, live_server: LiveServer, repo_factory: Callable[..., str], user: HubUser
) -> None:
    space = repo_factory("space", space_sdk="static")
    user.api.upload_file(
        path_or_fileobj=b"<h1>hi</h1>", path_in_repo="index.html", repo_id=space, repo_type="space"
    )
    hub = live_server.services
    caller = hub.auth.authenticate(user.token)
    record = hub.repos.locate(caller, RepoType.SPACE, space, Action.WRITE)
    hub.space_builds.build(record.id, note=lambda _: None)  # as a worker would

    result = run("spaces", "logs", space, "--build")

    assert result.exit_code == 0, result.output
    assert "Static Space: the hub serves index.html" in result.stdout
    assert run("spaces", "runtime", space).stdout.startswith(f"{space}: RUNNING")


def test_the_logs_of_another_users_space_are_refused(
    run: Run, other_user: HubUser, live_server: LiveServer
) -> None:
    space = f"{other_user.name}/private-space"
    other_user.api.create_repo(space, repo_type="space", space_sdk="static", private=True)

    result = run("spaces", "logs", space)

    assert result.exit_code == 2
    assert "not found" in result.output.lower()
