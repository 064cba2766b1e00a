"""`hubstead webhooks ...` against a live hub that delivers for real to a loopback endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until
from tests.helpers.webhook_receiver import Receiver, hooked_hub, receiving

Run = Callable[..., Result]


@pytest.fixture
def hub(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    """A hub that runs its jobs and may call loopback endpoints."""
    with hooked_hub(tmp_path, database_url) as server:
        yield server


@pytest.fixture
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture
def run(hub: LiveServer, owner: HubUser) -> Run:
    def invoke(*args: str) -> Result:
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": owner.token}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as endpoint:
        yield endpoint


def test_create_list_deliveries_and_delete(run: Run, owner: HubUser, receiver: Receiver) -> None:
    repo = f"{owner.name}/{unique_name('cli')}"
    owner.api.create_repo(repo)

    created = run(
        "webhooks", "create", "--url", receiver.url, "--watch", f"model:{repo}",
        "--domain", "discussion", "--secret", "s3cret",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    webhook_id = created.stdout.strip()
    listed = run("webhooks", "list")
    assert webhook_id in listed.stdout and f"model:{repo}" in listed.stdout

    owner.api.create_discussion(repo, "Ping")
    receiver.wait_for("discussion.create")

    def delivered() -> list[dict[str, object]] | None:
        result = run("webhooks", "deliveries", webhook_id, "--json")
        found = json.loads(result.stdout)
        return found if found and found[0]["state"] == "succeeded" else None

    [delivery] = wait_until(delivered, "the delivery to be logged")
    assert (delivery["event"], delivery["status_code"], delivery["attempts"]) == (
        "discussion.create",
        200,
        1,
    )
    table = run("webhooks", "deliveries", webhook_id)
    assert "discussion.create" in table.stdout and "succeeded" in table.stdout

    assert run("webhooks", "disable", webhook_id).exit_code == 0
    assert "disabled" in run("webhooks", "info", webhook_id).stdout
    deleted = run("webhooks", "delete", webhook_id, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert owner.api.list_webhooks() == []


def test_a_malformed_watch_a_refused_url_and_a_missing_webhook(run: Run, owner: HubUser) -> None:
    malformed = run("webhooks", "create", "--url", "http://ci.invalid/", "--watch", "bert")
    refused = run(
        "webhooks", "create", "--url", "http://169.254.169.254/", "--watch", f"user:{owner.name}"
    )
    missing = run("webhooks", "deliveries", "0" * 24)

    assert malformed.exit_code == 1 and "TYPE:NAME" in malformed.output
    assert refused.exit_code == 1 and "link-local" in refused.output
    assert missing.exit_code == 2 and "not found" in missing.output
