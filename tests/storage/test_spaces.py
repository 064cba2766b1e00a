"""The `SpaceRuntimeStore` and `SpaceLogStore` contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.spaces import (
    AppAddress,
    LogKind,
    LogLine,
    SpaceSdk,
    SpaceStage,
    SpaceState,
    SpaceVolume,
)
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.repos import RepoStore
from hubstead.server.storage.spaces import (
    SpaceLogStore,
    SpaceRuntimeStore,
    SpaceSettings,
    StageChange,
)
from hubstead.server.storage.spaces_sql import SqlSpaceLogStore, SqlSpaceRuntimeStore

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)


@pytest.fixture
def runtimes(database: Database) -> SpaceRuntimeStore:
    return SqlSpaceRuntimeStore(database)


@pytest.fixture
def logs(database: Database) -> SpaceLogStore:
    return SqlSpaceLogStore(database)


@pytest.fixture
def space(accounts: AccountStore, repos: RepoStore) -> int:
    accounts.create_account("ada", AccountKind.USER, "Ada L", None, False)
    return repos.create_repo("space", "ada", "demo", "key-demo", False).id


def initial(space: int) -> SpaceState:
    return SpaceState(
        repo_id=space,
        stage=SpaceStage.BUILDING,
        sdk=SpaceSdk.GRADIO,
        requested_hardware="cpu-basic",
        sleep_seconds=None,
        commit=None,
        address=None,
        owner=None,
        error=None,
        volumes=(),
        updated_at=T0,
        last_request_at=None,
    )


def test_a_row_is_made_once_and_read_back(runtimes: SpaceRuntimeStore, space: int) -> None:
    assert runtimes.get(space) is None

    first = runtimes.ensure(space, initial(space))
    again = runtimes.ensure(space, dataclasses.replace(initial(space), stage=SpaceStage.PAUSED))

    assert first == again == runtimes.get(space) == initial(space)


def test_a_build_writes_only_while_its_generation_is_the_last(
    runtimes: SpaceRuntimeStore, space: int
) -> None:
    runtimes.ensure(space, initial(space))
    build = runtimes.begin(space, SpaceStage.BUILDING, T0)
    assert build is not None
    running = StageChange(
        SpaceStage.RUNNING, SpaceSdk.GRADIO, "c" * 40, AppAddress("127.0.0.1", 8000, "/x"), "h:1"
    )

    assert runtimes.advance(space, build.generation, running, T0)
    paused = runtimes.begin(space, SpaceStage.PAUSED, T0)
    assert not runtimes.advance(space, build.generation, running, T0)

    state = runtimes.get(space)
    assert state is not None
    assert (state.stage, state.generation) == (SpaceStage.PAUSED, build.generation + 1)
    assert paused == state
    assert (state.address, state.owner, state.commit) == (
        AppAddress("127.0.0.1", 8000, "/x"),
        "h:1",
        "c" * 40,
    )


def test_a_fresh_build_asked_for_stays_until_a_build_of_a_later_generation_is_done(
    runtimes: SpaceRuntimeStore, space: int
) -> None:
    runtimes.ensure(space, initial(space))
    asked = runtimes.begin(space, SpaceStage.BUILDING, T0, fresh=True)
    built = StageChange(SpaceStage.APP_STARTING, SpaceSdk.GRADIO, "c" * 40, built=True)

    build = runtimes.begin(space, SpaceStage.BUILDING, T0)  # the build job takes over
    paused = runtimes.begin(space, SpaceStage.PAUSED, T0)
    assert asked is not None and build is not None and paused is not None
    assert asked.fresh_build and build.fresh_build and paused.fresh_build
    assert not runtimes.advance(space, build.generation, built, T0)  # superseded by the pause
    restarted = runtimes.begin(space, SpaceStage.BUILDING, T0)
    assert restarted is not None and restarted.fresh_build

    assert runtimes.advance(space, restarted.generation, built, T0)
    state = runtimes.get(space)
    assert state is not None and not state.fresh_build


def test_settings_and_requests_are_kept_apart_from_stages(
    runtimes: SpaceRuntimeStore, space: int
) -> None:
    runtimes.ensure(space, initial(space))
    volume = SpaceVolume("model", "ada/weights", "/data", "main", "sub/dir")

    runtimes.configure(space, SpaceSettings("cpu-basic", 3600, (volume,)), T0)
    runtimes.touch(space, T0 + dt.timedelta(minutes=5))

    state = runtimes.get(space)
    assert state is not None
    assert (state.sleep_seconds, state.volumes) == (3600, (volume,))
    assert state.last_request_at == T0 + dt.timedelta(minutes=5)
    assert state.stage is SpaceStage.BUILDING


def test_rows_are_found_by_the_host_of_their_owner(
    runtimes: SpaceRuntimeStore, accounts: AccountStore, repos: RepoStore, space: int
) -> None:
    other = repos.create_repo("space", "ada", "other", "key-other", False).id
    for repo, owner in ((space, "my_host:12"), (other, "myXhost:13")):
        runtimes.ensure(repo, initial(repo))
        begun = runtimes.begin(repo, SpaceStage.BUILDING, T0)
        assert begun is not None
        change = StageChange(SpaceStage.RUNNING, None, None, AppAddress("h", 1), owner)
        runtimes.advance(repo, begun.generation, change, T0)

    assert [s.repo_id for s in runtimes.owned_on("my_host")] == [space]


def test_a_log_keeps_a_window_and_a_new_one_replaces_it(logs: SpaceLogStore, space: int) -> None:
    lines = [LogLine(n, T0, f"line {n}") for n in range(8)]

    logs.append(space, LogKind.BUILD, lines[:5], 4)
    logs.append(space, LogKind.BUILD, lines[5:], 4)
    assert [line.seq for line in logs.lines(space, LogKind.BUILD, -1, 100)] == [4, 5, 6, 7]
    assert logs.next_seq(space, LogKind.BUILD) == 8
    assert logs.lines(space, LogKind.RUN, -1, 100) == []

    logs.append(space, LogKind.BUILD, [LogLine(8, T0, "new build")], 4, start=8)
    assert logs.lines(space, LogKind.BUILD, -1, 100) == [LogLine(8, T0, "new build")]
    assert logs.lines(space, LogKind.BUILD, 8, 100) == []


def test_rows_and_logs_go_with_their_space(
    runtimes: SpaceRuntimeStore, logs: SpaceLogStore, repos: RepoStore, space: int
) -> None:
    runtimes.ensure(space, initial(space))
    logs.append(space, LogKind.RUN, [LogLine(0, T0, "hello")], 10)

    repos.delete_repo(space, actor_id=None)

    assert runtimes.get(space) is None
    assert logs.lines(space, LogKind.RUN, -1, 10) == []
    assert runtimes.begin(space, SpaceStage.BUILDING, T0) is None
    assert runtimes.configure(space, SpaceSettings("cpu-basic", None, ()), T0) is None
    assert runtimes.ensure(space, initial(space)) is None
    # A build or an app of the deleted Space still writing its log: the lines go nowhere.
    logs.append(space, LogKind.BUILD, [LogLine(1, T0, "still building")], 10)
    assert logs.lines(space, LogKind.BUILD, -1, 10) == []


def test_rows_are_found_by_their_stage(runtimes: SpaceRuntimeStore, space: int) -> None:
    runtimes.ensure(space, initial(space))

    assert runtimes.in_stages({SpaceStage.BUILDING, SpaceStage.APP_STARTING}) == [space]
    assert runtimes.in_stages({SpaceStage.RUNNING}) == []
