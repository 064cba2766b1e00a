"""`hf spaces` of huggingface_hub 2.4.0, the real entry point, against the hub: secrets,
variables and the runtime commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hubstead.protocol import RepoType
from hubstead.server.services.access import Action
from tests.helpers.accounts import HubUser
from tests.helpers.clients import hf_ok
from tests.helpers.live_server import LiveServer


def test_secrets_and_variables_are_added_listed_and_deleted(
    live_server: LiveServer, user: HubUser, tmp_path: Path, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory("space")

    def hf(*args: str) -> str:
        return hf_ok(live_server, user, tmp_path / "home", "spaces", *args)

    hf("secrets", "add", space, "-s", "API_KEY=hunter2-value", "-s", "OTHER=x")
    hf("variables", "add", space, "-e", "MODE=fast", "-e", "DEBUG=1")
    secrets = hf("secrets", "ls", space)
    variables = hf("variables", "ls", space)
    hf("secrets", "delete", space, "OTHER", "--yes")
    hf("variables", "delete", space, "DEBUG", "--yes")

    assert "API_KEY" in secrets
    assert "hunter2-value" not in secrets
    assert "MODE" in variables
    assert "fast" in variables
    assert list(user.api.get_space_secrets(space)) == ["API_KEY"]
    assert list(user.api.get_space_variables(space)) == ["MODE"]


def test_the_runtime_commands_answer(
    live_server: LiveServer, user: HubUser, tmp_path: Path, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory("space", space_sdk="static")
    user.api.upload_file(
        path_or_fileobj=b"<h1>hi</h1>", path_in_repo="index.html", repo_id=space, repo_type="space"
    )
    hub = live_server.services
    record = hub.repos.locate(
        hub.auth.authenticate(user.token), RepoType.SPACE, space, Action.WRITE
    )
    hub.space_builds.build(record.id, note=lambda _: None)  # as a worker would

    def hf(*args: str) -> str:
        return hf_ok(live_server, user, tmp_path / "home", "spaces", *args)

    hardware = hf("hardware")
    templates = hf("templates")
    logs = hf("logs", space, "--build")
    paused = hf("pause", space)
    restarted = hf("restart", space)

    assert "cpu-basic" in hardware
    assert "templates/gradio" in templates
    assert "Static Space: the hub serves index.html" in logs
    assert "Space paused" in paused
    assert "PAUSED" in paused
    assert "BUILDING" in restarted  # this hub runs no jobs: the build waits for a worker
