"""`hubstead spaces secrets|variables` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
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
