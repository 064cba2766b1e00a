"""Spaces whose app runs, through the official client, on a hub with a runner: the build job
writes the commit's files (large ones from the object store), the app gets the Space's
variables and secrets, its output is the run log, and a pause reaches it through the
supervisor of the process that started it.

The runner is the hub's local one; the app a plain HTTP server in the gradio environment
(`tests/helpers/plain_apps.py`), as what is tested is the hub around it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from huggingface_hub import SpaceStage

from hubstead.protocol import RepoType
from hubstead.server.domain.spaces import AppAddress
from hubstead.server.services.access import Action
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import ThreadedServer
from tests.helpers.plain_apps import SERVING_APP
from tests.helpers.spaces import space_hub
from tests.helpers.storage import lfs_bytes, upload_lfs
from tests.helpers.waiting import wait_until


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    """A hub that runs its jobs and its outbox thread (every second)."""
    with space_hub(tmp_path_factory, database_url, "space-apps", run_jobs=True) as server:
        yield server


@pytest.fixture
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub)


def _address(hub: ThreadedServer, owner: HubUser, space: str) -> AppAddress:
    caller = hub.services.auth.authenticate(owner.token)
    address = hub.services.space_runtime.runtime(caller, space).address
    assert address is not None
    return address


def _get(address: AppAddress, path: str) -> httpx.Response:
    return httpx.get(f"http://{address.host}:{address.port}{path}")


def test_an_app_runs_with_its_files_and_environment_and_logs(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = f"{owner.name}/{unique_name('app')}"
    owner.api.create_repo(
        space,
        repo_type="space",
        space_sdk="gradio",
        space_variables=[{"key": "GREETING", "value": "bonjour"}],
    )
    weights = lfs_bytes("space-weights", 200_000)
    upload_lfs(owner.api, space, "weights.bin", weights, repo_type="space")
    owner.api.upload_file(
        path_or_fileobj=SERVING_APP, path_in_repo="app.py", repo_id=space, repo_type="space"
    )

    wait_until(
        lambda: owner.api.get_space_runtime(space).stage == SpaceStage.RUNNING, "the app to run"
    )
    address = _address(hub, owner, space)
    first_lines = iter(owner.api.fetch_space_logs(space, follow=True))

    assert _get(address, "/").text == "bonjour"
    assert _get(address, "/files/weights.bin").content == weights
    assert next(first_lines) == "app starting\n"
    first_lines.close()  # type: ignore[attr-defined]


def test_a_pause_stops_the_app_and_a_restart_starts_it_again(
    hub: ThreadedServer, owner: HubUser
) -> None:
    runner = hub.services.space_runner
    assert runner is not None
    space = f"{owner.name}/{unique_name('app')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio")
    owner.api.upload_file(
        path_or_fileobj=SERVING_APP, path_in_repo="app.py", repo_id=space, repo_type="space"
    )
    wait_until(
        lambda: owner.api.get_space_runtime(space).stage == SpaceStage.RUNNING, "the app to run"
    )
    caller = hub.services.auth.authenticate(owner.token)
    key = str(hub.services.repos.locate(caller, RepoType.SPACE, space, Action.WRITE).id)
    assert runner.running(key)

    owner.api.pause_space(space)
    wait_until(lambda: not runner.running(key), "the supervisor to stop the app")
    owner.api.restart_space(space)

    assert owner.api.wait_for_space(space, timeout=60).stage == SpaceStage.RUNNING
    assert runner.running(key)
    assert _get(_address(hub, owner, space), "/").text == "hello"
