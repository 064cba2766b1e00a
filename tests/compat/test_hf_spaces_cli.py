"""`hf spaces secrets|variables` of huggingface_hub 2.4.0, the real entry point, against the hub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
