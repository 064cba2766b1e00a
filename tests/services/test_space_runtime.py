"""The Space runtime services on real storage, the real local runner and a clock moved by hand:
builds and their stages, the app's environment and logs, the supervisor (pause, idle sleep),
waking on a request, and the bounds of the logs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hubstead.protocol import RepoType
from hubstead.server.app import build_runner, build_services
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.jobs import JobState
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.space_env import EnvKind
from hubstead.server.domain.spaces import LogKind, LogLine, SpaceConfig, SpaceSdk, SpaceStage
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services
from hubstead.server.services.spaces.builds import process_name
from hubstead.server.services.spaces.logs import MAX_LINE_BYTES, TRUNCATED, SpaceLogs
from hubstead.server.services.spaces.runner import SpaceRunner
from hubstead.server.settings import load_settings
from hubstead.server.storage.spaces import StageChange
from hubstead.server.storage.spaces_sql import SqlSpaceLogStore, SqlSpaceRuntimeStore
from tests.helpers.clock import ManualClock
from tests.helpers.plain_apps import CRASHING_APP, SERVING_APP
from tests.helpers.spaces import hub_space_settings, require_wheelhouse
from tests.helpers.waiting import wait_until


@pytest.fixture
def hub(tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    require_wheelhouse()
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    settings = load_settings({"data_dir": data_dir, **hub_space_settings()}, environ={})
    services = build_services(settings, clock=clock)
    yield services
    services.close()


@pytest.fixture
def runner(hub: Services) -> SpaceRunner:
    assert hub.space_runner is not None
    return hub.space_runner


@pytest.fixture
def owner(hub: Services) -> Identity:
    hub.auth.create_user("owner", is_admin=False)
    return hub.auth.authenticate(hub.auth.create_token("owner", Role.WRITE).secret)


def _space(
    hub: Services, owner: Identity, files: dict[str, bytes], name: str = "app"
) -> RepoRecord:
    return hub.repos.create(owner, RepoType.SPACE, None, name, sdk="gradio", files=files)


def _build(hub: Services, space: RepoRecord) -> list[str]:
    notes: list[str] = []
    hub.space_builds.build(space.id, note=notes.append)
    return notes


def _stage(hub: Services, owner: Identity, space: RepoRecord) -> SpaceStage:
    return hub.space_runtime.runtime(owner, space.repo_id).stage


def _log(hub: Services, owner: Identity, space: RepoRecord, kind: LogKind) -> list[str]:
    return [line.text for line in hub.space_runtime.logs(owner, space.repo_id, kind)]


def test_an_app_runs_with_the_spaces_variables_secrets_and_hub_variables(
    hub: Services, owner: Identity
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    hub.space_env.put(owner, space.repo_id, EnvKind.VARIABLE, "GREETING", "bonjour", None)
    hub.space_env.put(owner, space.repo_id, EnvKind.SECRET, "API_KEY", "s3cr3t", None)

    _build(hub, space)

    state = hub.space_runtime.runtime(owner, space.repo_id)
    assert state.stage is SpaceStage.RUNNING
    assert state.owner == process_name()
    assert state.address is not None
    assert httpx.get(f"http://{state.address.host}:{state.address.port}/").text == "bonjour"
    wait_until(
        lambda: "app starting" in _log(hub, owner, space, LogKind.RUN), "the run log to show"
    )
    assert any("Wrote the 2 files" in line for line in _log(hub, owner, space, LogKind.BUILD))


def test_the_app_gets_the_hub_variables(
    hub: Services, owner: Identity, runner: SpaceRunner
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    hub.space_env.put(owner, space.repo_id, EnvKind.SECRET, "API_KEY", "s3cr3t", None)

    spec = hub.space_builds._spec(space, SpaceConfig(SpaceSdk.GRADIO, "app.py"), Path("."), ())

    assert spec.env["API_KEY"] == "s3cr3t"
    assert spec.env["SPACE_ID"] == space.repo_id
    assert (spec.env["SPACE_AUTHOR_NAME"], spec.env["SPACE_REPO_NAME"]) == ("owner", "app")
    assert spec.env["SYSTEM"] == "spaces"
    assert spec.public_path == f"/spaces/{space.repo_id}/app"


def test_a_requirement_that_does_not_install_is_a_build_error(
    hub: Services, owner: Identity
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP, "requirements.txt": b"no-such-package\n"})

    _build(hub, space)

    state = hub.space_runtime.runtime(owner, space.repo_id)
    assert state.stage is SpaceStage.BUILD_ERROR
    assert state.error is not None
    assert state.error.startswith("The environment did not build")
    assert "no-such-package was not found" in state.error
    assert any(
        "no-such-package was not found" in line for line in _log(hub, owner, space, LogKind.BUILD)
    )


def test_an_app_that_cannot_start_is_a_runtime_error_with_its_last_lines(
    hub: Services, owner: Identity
) -> None:
    space = _space(hub, owner, {"app.py": CRASHING_APP})

    _build(hub, space)

    state = hub.space_runtime.runtime(owner, space.repo_id)
    assert state.stage is SpaceStage.RUNTIME_ERROR
    assert state.error is not None
    assert "boom: the app cannot start" in state.error


def test_an_app_that_exits_by_itself_is_a_runtime_error(hub: Services, owner: Identity) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    _build(hub, space)
    address = hub.space_runtime.runtime(owner, space.repo_id).address
    assert address is not None

    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{address.host}:{address.port}/exit")

    wait_until(
        lambda: _stage(hub, owner, space) is SpaceStage.RUNTIME_ERROR, "the app's exit noticed"
    )
    error = hub.space_runtime.runtime(owner, space.repo_id).error
    assert error is not None
    assert error.startswith("The app exited with status 4")
    assert "asked to exit" in error
    reader = hub.space_runtime.runtime(_writer(hub), space.repo_id)  # may read, not write
    assert reader.error == "The app exited with status 4"


def test_a_pause_stops_the_app_at_the_next_supervision(
    hub: Services, owner: Identity, runner: SpaceRunner
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    _build(hub, space)
    assert runner.running(str(space.id))

    hub.space_runtime.pause(owner, space.repo_id)
    hub.space_builds.supervise()

    assert not runner.running(str(space.id))
    assert _stage(hub, owner, space) is SpaceStage.PAUSED
    assert _build(hub, space) == ["the Space is paused: not built"]


def test_an_idle_app_sleeps_and_the_next_request_wakes_it(
    hub: Services, owner: Identity, runner: SpaceRunner, clock: ManualClock
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    hub.space_runtime.set_sleep_time(owner, space.repo_id, 60)
    _build(hub, space)

    clock.advance(50)
    hub.space_runtime.record_request(space)
    clock.advance(50)
    hub.space_builds.supervise()
    assert _stage(hub, owner, space) is SpaceStage.RUNNING

    clock.advance(11)
    hub.space_builds.supervise()
    assert _stage(hub, owner, space) is SpaceStage.SLEEPING
    assert not runner.running(str(space.id))

    woken = hub.space_runtime.record_request(space)
    assert woken.stage is SpaceStage.BUILDING
    queued = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    assert [job.payload["space"] for job in queued] == [space.id]
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING
    assert runner.running(str(space.id))


def test_a_space_without_sleep_time_never_sleeps(
    hub: Services, owner: Identity, clock: ManualClock
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    _build(hub, space)

    clock.advance(365 * 24 * 3600)
    hub.space_builds.supervise()

    assert _stage(hub, owner, space) is SpaceStage.RUNNING


def test_a_restart_storm_builds_once(hub: Services, owner: Identity, runner: SpaceRunner) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    _build(hub, space)

    for _ in range(20):
        hub.space_runtime.restart(owner, space.repo_id)

    queued = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    assert len(queued) == 1
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING


@pytest.mark.slow  # a build without caches installs gradio again: 10-30 s on 2 cores
def test_a_factory_restart_merged_into_a_queued_build_builds_without_caches(
    hub: Services, owner: Identity
) -> None:
    # Requirements of its own: a build without caches replaces the environment of every Space
    # with the same ones.
    files = {"app.py": SERVING_APP, "requirements.txt": b"# the factory restart test\n"}
    space = _space(hub, owner, files)
    _build(hub, space)
    hub.space_runtime.restart(owner, space.repo_id)

    hub.space_runtime.restart(owner, space.repo_id, factory=True)

    [queued] = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    done = build_runner(hub).run_job(queued.id)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert _stage(hub, owner, space) is SpaceStage.RUNNING
    built = _log(hub, owner, space, LogKind.BUILD)
    assert any("Building the environment" in line for line in built)
    assert not any("built before for the same requirements" in line for line in built)
    # Done once: the next restart uses the environment again.
    hub.space_runtime.restart(owner, space.repo_id)
    _build(hub, space)
    assert any("built before" in line for line in _log(hub, owner, space, LogKind.BUILD))


def test_a_log_keeps_its_last_lines_only(hub: Services, clock: ManualClock) -> None:
    store = SqlSpaceLogStore(hub.database)
    logs = SpaceLogs(store, keep=10, clock=clock)
    space = hub.repos.create(_writer(hub), RepoType.SPACE, None, "logs")

    writer = logs.start(space.id, LogKind.RUN)
    for n in range(25):
        writer(f"line {n}\n")
        if n % 7 == 0:
            writer.flush()
    writer.close()

    lines = logs.lines(space.id, LogKind.RUN)
    assert [line.text for line in lines] == [f"line {n}" for n in range(15, 25)]
    assert [line.seq for line in lines] == list(range(15, 25))


def test_a_flood_of_output_is_bounded_in_memory_and_in_the_database(
    hub: Services, clock: ManualClock
) -> None:
    logs = SpaceLogs(SqlSpaceLogStore(hub.database), keep=100, clock=clock)
    space = hub.repos.create(_writer(hub), RepoType.SPACE, None, "flood")
    writer = logs.start(space.id, LogKind.RUN)

    for n in range(50_000):
        writer(f"{n}")
    writer("x" * (MAX_LINE_BYTES * 3))
    writer.close()

    lines = logs.lines(space.id, LogKind.RUN, limit=1000)
    assert len(lines) == 100
    assert lines[0].text == "49901"
    assert lines[-1].text.endswith(TRUNCATED)
    assert len(lines[-1].text.encode()) == MAX_LINE_BYTES + len(TRUNCATED)


def test_a_new_build_log_replaces_the_old_one_when_its_first_lines_come(
    hub: Services, clock: ManualClock
) -> None:
    logs = SpaceLogs(SqlSpaceLogStore(hub.database), keep=100, clock=clock)
    space = hub.repos.create(_writer(hub), RepoType.SPACE, None, "rebuilt")
    first = logs.start(space.id, LogKind.BUILD)
    first("old build")
    first.close()

    second = logs.start(space.id, LogKind.BUILD)
    before: list[LogLine] = logs.lines(space.id, LogKind.BUILD)
    second("new build")
    second.close()

    assert [line.text for line in before] == ["old build"]
    assert [(line.seq, line.text) for line in logs.lines(space.id, LogKind.BUILD)] == [
        (1, "new build")
    ]


def _writer(hub: Services) -> Identity:
    hub.auth.create_user("writer", is_admin=False)
    return hub.auth.authenticate(hub.auth.create_token("writer", Role.WRITE).secret)


def test_an_app_whose_process_is_gone_is_started_again(
    hub: Services, owner: Identity, runner: SpaceRunner
) -> None:
    space = _space(hub, owner, {"app.py": SERVING_APP})
    _build(hub, space)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    state = hub.space_runtime.runtime(owner, space.repo_id)
    host = process_name().rpartition(":")[0]
    dead_owner = StageChange(
        state.stage, state.sdk, state.commit, state.address, f"{host}:{gone.stdout.strip()}"
    )
    assert SqlSpaceRuntimeStore(hub.database).advance(
        space.id, state.generation, dead_owner, state.updated_at
    )

    hub.space_builds.supervise()

    assert _stage(hub, owner, space) is SpaceStage.BUILDING
    queued = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    assert [job.payload["space"] for job in queued] == [space.id]
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING
    assert runner.running(str(space.id))


def test_a_space_never_built_is_built_when_first_looked_at(hub: Services, owner: Identity) -> None:
    space = _space(hub, owner, {"README.md": b"---\nsdk: static\n---\n", "index.html": b"hi"})

    first = hub.space_runtime.runtime(owner, space.repo_id)

    assert first.stage is SpaceStage.BUILDING
    queued = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    assert [job.payload["space"] for job in queued] == [space.id]
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING


def test_a_line_no_database_stores_is_made_storable(hub: Services, clock: ManualClock) -> None:
    logs = SpaceLogs(SqlSpaceLogStore(hub.database), keep=10, clock=clock)
    space = hub.repos.create(_writer(hub), RepoType.SPACE, None, "odd")
    writer = logs.start(space.id, LogKind.RUN)

    writer("caf\udce9 \x00au lait\r\n")
    writer.close()

    assert [line.text for line in logs.lines(space.id, LogKind.RUN)] == ["caf? au lait"]


def test_a_space_left_building_without_a_live_job_is_queued_again(
    hub: Services, owner: Identity
) -> None:
    space = _space(hub, owner, {"README.md": b"---\nsdk: static\n---\n", "index.html": b"hi"})
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING
    # What a build asked for while the last build job was ending leaves: the job it was merged
    # into is done, the Space's row says BUILDING.
    SqlSpaceRuntimeStore(hub.database).begin(space.id, SpaceStage.BUILDING, hub.jobs.now())
    assert hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items == []

    hub.space_builds.supervise()
    hub.space_builds.supervise()

    queued = hub.jobs.list(kind="space.build", states=[JobState.QUEUED]).items
    assert [job.payload["space"] for job in queued] == [space.id]
    _build(hub, space)
    assert _stage(hub, owner, space) is SpaceStage.RUNNING
