"""Space volumes, end to end: repos mounted read-only into a running app, set with the official
client (`set_space_volumes`, `delete_space_volumes`) and read by the app through the hub.

The app is the echo app (tests/helpers/space_apps.py), whose `/control/file` endpoint says
what it sees at a path of its own view, run by the real local runner; the test builds the
Space when it wants it built, as its build job would. The volumes are mounted at top-level
folders (`/data`), which the runner makes on this machine when they are missing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, SpaceStage, Volume

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import ThreadedServer
from tests.helpers.space_apps import build, running_space, space_record
from tests.helpers.spaces import space_hub

pytestmark = pytest.mark.slow

CONFIG = b'{"layers": 2}\n'
WEIGHTS = b"\0weights\0" * 4096
"""Binary: the hub has the client upload it as an LFS file."""


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "volumes") as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


def _model(user: HubUser, files: dict[str, bytes]) -> str:
    model = f"{user.name}/{unique_name('weights')}"
    user.api.create_repo(model)
    _commit(user, model, files)
    return model


def _commit(user: HubUser, repo: str, files: dict[str, bytes]) -> None:
    user.api.create_commit(
        repo,
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="weights",
    )


def _mount(hub: ThreadedServer, owner: HubUser, space: str, *volumes: Volume) -> str:
    """Set the Space's volumes, which restarts its app; build it; its stage then."""
    owner.api.set_space_volumes(space, list(volumes))
    assert owner.api.get_space_runtime(space).stage in ("BUILDING", "RUNNING_BUILDING")
    return build(hub, owner, space)


def _seen(hub: ThreadedServer, user: HubUser, space: str, path: str) -> dict[str, Any]:
    """What the app sees at `path`, asked through the hub's proxy."""
    answer = httpx.get(
        f"{hub.url}/spaces/{space}/app/control/file",
        params={"path": path},
        headers={"authorization": f"Bearer {user.token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    seen: dict[str, Any] = answer.json()
    return seen


def _write(hub: ThreadedServer, user: HubUser, space: str, path: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{hub.url}/spaces/{space}/app/control/file",
        params={"path": path},
        content=b"changed",
        headers={"authorization": f"Bearer {user.token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    written: dict[str, Any] = answer.json()
    return written


def _runs(hub: ThreadedServer) -> list[str]:
    """The runs with volumes the hub's runner holds trees for."""
    return sorted(os.listdir(hub.settings.effective_spaces_dir / "volumes" / "runs"))


def _error(owner: HubUser, space: str) -> str:
    runtime = owner.api.get_space_runtime(space)
    return str(runtime.raw.get("errorMessage"))


def test_an_app_reads_a_mounted_model_with_its_large_files_and_cannot_change_it(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"config.json": CONFIG, "weights/model.bin": WEIGHTS})
    space = running_space(hub, owner)

    stage = _mount(
        hub,
        owner,
        space,
        Volume(type="model", source=model, mount_path="/data"),
        Volume(type="model", source=model, mount_path="/data-weights", path="weights"),
    )

    assert stage == SpaceStage.RUNNING, _error(owner, space)
    assert _seen(hub, owner, space, "/data") == {
        "entries": [".gitattributes", "config.json", "weights"]
    }
    assert _seen(hub, owner, space, "/data/config.json")["text"] == CONFIG.decode()
    large = _seen(hub, owner, space, "/data/weights/model.bin")
    assert large["sha256"] == hashlib.sha256(WEIGHTS).hexdigest()
    assert _seen(hub, owner, space, "/data-weights") == {"entries": ["model.bin"]}
    assert _write(hub, owner, space, "/data/config.json") == {"error": "Read-only file system"}
    assert _write(hub, owner, space, "/data/new.txt") == {"error": "Read-only file system"}
    assert _seen(hub, owner, space, "/data/config.json")["text"] == CONFIG.decode()
    mounts = _seen(hub, owner, space, "/proc/self/mountinfo")["text"].splitlines()
    assert any(line.split()[4] == "/data" and " ro," in line for line in mounts)
    # The two volumes' copies of the large file are one file on the hub's machine.
    runs = hub.settings.effective_spaces_dir / "volumes" / "runs"
    run = next(runs.glob(f"{space_record(hub, owner, space).id}-*"))
    whole, folder = run / "0" / "weights" / "model.bin", run / "1" / "model.bin"
    assert whole.stat().st_ino == folder.stat().st_ino


def test_the_mounts_are_the_apps_alone(hub: ThreadedServer, owner: HubUser) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data")
    assert _mount(hub, owner, space, volume) == SpaceStage.RUNNING
    other = running_space(hub, owner, name="other")
    runs = hub.settings.effective_spaces_dir / "volumes" / "runs"
    tree = next(runs.glob(f"{space_record(hub, owner, space).id}-*/0"))

    # The hub's own mount table has no trace of the app's.
    mounted = {line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()}
    assert "/data" not in mounted
    assert not any(point.startswith(str(runs)) for point in mounted)
    # Another Space's app sees the empty folder, and cannot reach the tree on the machine.
    assert _seen(hub, owner, other, "/data") == {"entries": []}
    assert _seen(hub, owner, other, str(tree / "config.json")) == {"error": "Permission denied"}
    assert _seen(hub, owner, other, str(runs)) == {"error": "Permission denied"}
    # Nor can the Space's own app, but where the tree is mounted.
    assert _seen(hub, owner, space, str(tree / "config.json")) == {"error": "Permission denied"}
    # In its mount namespace, the hub's data dir is hidden behind an empty file system.
    data_dir = str(hub.settings.resolved_data_dir)
    mounts = _seen(hub, owner, space, "/proc/self/mountinfo")["text"].splitlines()
    assert any(line.split()[4] == data_dir and " - tmpfs " in line for line in mounts)


def test_a_restart_mounts_what_was_pushed_to_the_volume_since(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data")
    assert _mount(hub, owner, space, volume) == SpaceStage.RUNNING

    _commit(owner, model, {"config.json": b"version 2\n", "added.txt": b"new\n"})
    assert _seen(hub, owner, space, "/data/config.json")["text"] == CONFIG.decode()
    owner.api.restart_space(space)
    assert build(hub, owner, space) == SpaceStage.RUNNING

    assert _seen(hub, owner, space, "/data/config.json")["text"] == "version 2\n"
    assert _seen(hub, owner, space, "/data") == {
        "entries": [".gitattributes", "added.txt", "config.json"]
    }


def test_deleting_the_volumes_unmounts_them(hub: ThreadedServer, owner: HubUser) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data")
    assert _mount(hub, owner, space, volume) == SpaceStage.RUNNING
    key = str(space_record(hub, owner, space).id)

    owner.api.delete_space_volumes(space)
    assert owner.api.get_space_runtime(space).stage == "RUNNING_BUILDING"
    assert build(hub, owner, space) == SpaceStage.RUNNING

    assert _seen(hub, owner, space, "/data") == {"entries": []}
    assert not [run for run in _runs(hub) if run.startswith(f"{key}-")]
    # What no tree links to any more is gone from the runner's contents.
    contents = hub.settings.effective_spaces_dir / "volumes" / "content"
    assert all(path.stat().st_nlink > 1 for path in contents.rglob("*") if path.is_file())


@pytest.mark.parametrize("change", ["private", "deleted", "gated"])
def test_a_volume_taken_away_stops_the_app_with_a_config_error(
    hub: ThreadedServer, owner: HubUser, change: str
) -> None:
    stranger = make_user(hub, "stranger")
    model = _model(stranger, {"config.json": CONFIG})
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data")
    assert _mount(hub, owner, space, volume) == SpaceStage.RUNNING

    if change == "private":
        stranger.api.update_repo_settings(model, private=True)
    elif change == "gated":
        stranger.api.update_repo_settings(model, gated="manual")
    else:
        stranger.api.delete_repo(model)
    # The builder reads the change from the hub's events, as its outbox thread would.
    hub.services.space_builds.enqueue_pending()
    assert owner.api.get_space_runtime(space).stage == "RUNNING_BUILDING"

    assert build(hub, owner, space) == SpaceStage.CONFIG_ERROR
    assert _error(owner, space) == (
        f"The volume at /data (model {model}) cannot be mounted: the repo does not exist any "
        f"more or {owner.name} may no longer read it; change or delete the volume"
    )
    hub.services.space_builds.supervise()
    runner = hub.services.space_runner
    assert runner is not None
    assert not runner.running(str(space_record(hub, owner, space).id))


def test_a_volume_whose_revision_is_gone_is_a_config_error_at_the_next_start(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    owner.api.create_branch(model, branch="v1")
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data", revision="v1")
    assert _mount(hub, owner, space, volume) == SpaceStage.RUNNING

    owner.api.delete_branch(model, branch="v1")
    owner.api.restart_space(space)

    assert build(hub, owner, space) == SpaceStage.CONFIG_ERROR
    assert _error(owner, space) == (
        f"The volume at /data (model {model}) cannot be mounted: the repo has no revision "
        "'v1' any more; change or delete the volume"
    )


def test_a_large_file_deleted_from_the_repo_is_not_mounted_from_another_repos_copy(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"weights/model.bin": WEIGHTS})
    before = owner.api.model_info(model).sha
    # Another repo holds the same bytes: the hub keeps them, for that repo only.
    _model(owner, {"model.bin": WEIGHTS})
    owner.api.delete_file("weights/model.bin", model)
    deleted = list(owner.api.list_lfs_files(model))
    owner.api.permanently_delete_lfs_files(model, deleted, rewrite_history=False)
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data", revision=before)

    assert _mount(hub, owner, space, volume) == SpaceStage.CONFIG_ERROR
    assert _error(owner, space) == (
        f"The volume at /data (model {model}) cannot be mounted: the content of "
        "weights/model.bin is missing from this hub"
    )


def test_a_volume_of_a_folder_the_repo_lacks_is_a_config_error(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    volume = Volume(type="model", source=model, mount_path="/data", path="weights")

    assert _mount(hub, owner, space, volume) == SpaceStage.CONFIG_ERROR
    assert _error(owner, space) == (
        f"The volume at /data (model {model}) cannot be mounted: the repo has no folder "
        "'weights' at 'main'; change or delete the volume"
    )


def test_a_paused_space_mounts_its_volumes_when_restarted(
    hub: ThreadedServer, owner: HubUser
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    owner.api.pause_space(space)

    owner.api.set_space_volumes(space, [Volume(type="model", source=model, mount_path="/data")])
    assert owner.api.get_space_runtime(space).stage == SpaceStage.PAUSED
    owner.api.restart_space(space)
    assert build(hub, owner, space) == SpaceStage.RUNNING

    assert _seen(hub, owner, space, "/data/config.json")["text"] == CONFIG.decode()


def test_an_org_space_mounts_only_what_the_org_may_read(
    hub: ThreadedServer, owner: HubUser
) -> None:
    # Its members may read what the app serves: a member's private model would reach them all.
    org = make_org(hub, {owner.name: Role.WRITE})
    private = f"{owner.name}/{unique_name('mine')}"
    owner.api.create_repo(private, private=True)
    _commit(owner, private, {"config.json": CONFIG})
    space = running_space(hub, owner, space=f"{org}/{unique_name('app')}")

    stage = _mount(hub, owner, space, Volume(type="model", source=private, mount_path="/data"))

    assert stage == SpaceStage.CONFIG_ERROR
    assert _error(owner, space) == (
        f"The volume at /data (model {private}) cannot be mounted: the repo does not exist any "
        f"more or {org} may no longer read it; change or delete the volume"
    )


@pytest.mark.parametrize(
    ("mount_path", "reason"),
    [
        ("/no-such-folder-of-the-hub/data", "it does not exist on the hub's machine"),
        ("/etc/models", "it is, holds or is inside /etc, which apps get as it is"),
    ],
    ids=["deep-and-missing", "system-folder"],
)
def test_a_mount_path_the_runner_refuses_is_a_runtime_error_saying_why(
    hub: ThreadedServer, owner: HubUser, mount_path: str, reason: str
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)

    stage = _mount(hub, owner, space, Volume(type="model", source=model, mount_path=mount_path))

    assert stage == SpaceStage.RUNTIME_ERROR
    assert _error(owner, space).startswith(f"A volume cannot be mounted at {mount_path}: {reason}")
    assert not Path(mount_path).exists()  # nothing is made below the top level


def test_a_mount_path_inside_a_folder_others_may_change_is_refused(
    hub: ThreadedServer, owner: HubUser, tmp_path: Path
) -> None:
    model = _model(owner, {"config.json": CONFIG})
    space = running_space(hub, owner)
    # Below /tmp, another user could swap a folder of the path for a link to elsewhere.
    stage = _mount(hub, owner, space, Volume(type="model", source=model, mount_path=str(tmp_path)))

    assert stage == SpaceStage.RUNTIME_ERROR
    assert _error(owner, space) == (
        f"A volume cannot be mounted at {tmp_path}: users other than root may change /tmp"
    )
