"""Space runtimes through the official client, on a hub that runs its jobs: build stages, the
owners' controls (pause, restart, sleep time, hardware, volumes), logs, templates, and who may
see and do what."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, SpaceHardware, SpaceStage, Volume
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.jobs import JobState
from hubstead.server.services.spaces.builds import NO_DOCKER, NO_RUNNER, READER
from tests.helpers import mirrors
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.commits import add, header, ndjson
from tests.helpers.live_server import ThreadedServer, working_hub
from tests.helpers.spaces import space_hub
from tests.helpers.waiting import wait_until

PAGE = b"<!doctype html><h1>hello</h1>"


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    """A hub of its own that runs its jobs and outbox thread, as `hubstead serve` does."""
    with space_hub(tmp_path_factory, database_url, "space-hub", run_jobs=True) as server:
        yield server


@pytest.fixture
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub)


@pytest.fixture
def stranger(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "stranger")


@pytest.fixture
def new_space(owner: HubUser) -> Callable[..., str]:
    """Create a Space of `owner` with these files (name -> bytes) in one commit after creation."""

    def create(sdk: str = "static", files: dict[str, bytes] | None = None, **kwargs: object) -> str:
        repo_id = f"{owner.name}/{unique_name('space')}"
        owner.api.create_repo(repo_id, repo_type="space", space_sdk=sdk, **kwargs)  # type: ignore[arg-type]
        if files:
            _commit(owner.api, repo_id, files)
        return repo_id

    return create


def _commit(api: HfApi, repo_id: str, files: dict[str, bytes]) -> str:
    """Commit the files, as `git push` would: without the client's check of the README."""
    body = ndjson(header(), *(add(path, data) for path, data in files.items()))
    response = httpx.post(
        f"{api.endpoint}/api/spaces/{repo_id}/commit/main",
        content=body,
        headers={"content-type": "application/x-ndjson", "authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 200, response.text
    oid: str = response.json()["commitOid"]
    return oid


def _reaches(api: HfApi, repo_id: str, stage: str) -> None:
    wait_until(lambda: api.get_space_runtime(repo_id).stage == stage, f"{repo_id} {stage}")


def _readme(front_matter: str) -> bytes:
    return f"---\n{front_matter}\n---\n# A Space\n".encode()


def _build_log(user: HubUser, space: str) -> str:
    """The build log so far, read as hubstead's client does (`follow=false`: no wait at the end).

    The official client, which always follows, ends its read after 5 s of silence.
    """
    response = httpx.get(
        f"{user.api.endpoint}/api/spaces/{space}/logs/build?follow=false",
        headers={"authorization": f"Bearer {user.token}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return "".join(
        json.loads(line.removeprefix("data: "))["data"]
        for line in response.text.splitlines()
        if line.startswith("data: {")
    )


def _outbox_done(hub: ThreadedServer) -> None:
    """Wait until the Space builder has read every hub event recorded so far."""
    events = hub.services.hub_events
    last = max((e.id for e in events.list_events(0, 1_000_000)), default=0)
    wait_until(lambda: events.cursor(READER) >= last, "the builder to read the outbox")
    wait_until(
        lambda: not hub.services.jobs.list(kind="space.build", states=_LIVE).items,
        "queued builds to end",
    )


_LIVE = (JobState.QUEUED, JobState.RUNNING)


def test_a_static_space_with_a_page_runs(owner: HubUser, new_space: Callable[..., str]) -> None:
    space = new_space("static", {"index.html": PAGE})

    _reaches(owner.api, space, SpaceStage.RUNNING)
    runtime = owner.api.wait_for_space(space, timeout=30)

    assert runtime.stage == SpaceStage.RUNNING
    assert runtime.hardware == "cpu-basic"
    assert runtime.requested_hardware == "cpu-basic"
    assert runtime.sleep_time is None
    assert owner.api.space_info(space).runtime.stage == SpaceStage.RUNNING  # type: ignore[union-attr]
    log = list(owner.api.fetch_space_logs(space, build=True))
    assert any("Static Space" in line for line in log)
    assert all(line.endswith("\n") for line in log)


def test_a_space_without_its_app_file_says_which_file_is_missing(
    owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("gradio")

    _reaches(owner.api, space, SpaceStage.NO_APP_FILE)

    runtime = owner.api.get_space_runtime(space)
    assert "add app.py" in runtime.raw["errorMessage"]


@pytest.mark.parametrize(
    ("readme", "message"),
    [
        (b"---\nsdk: [static\n---\n", "YAML"),
        (_readme("sdk: flask"), "Unknown sdk 'flask'"),
        (_readme("sdk: docker"), NO_DOCKER),
        (_readme("sdk: gradio\napp_port: 99999"), "app_port must be a port number"),
    ],
    ids=["bad-yaml", "unknown-sdk", "docker", "bad-port"],
)
def test_a_bad_configuration_is_a_config_error_saying_what_to_change(
    owner: HubUser, new_space: Callable[..., str], readme: bytes, message: str
) -> None:
    space = new_space("static", {"README.md": readme, "index.html": PAGE, "Dockerfile": b"FROM x"})

    _reaches(owner.api, space, SpaceStage.CONFIG_ERROR)

    assert message in owner.api.get_space_runtime(space).raw["errorMessage"]
    assert message in _build_log(owner, space)


def test_a_gradio_space_on_a_hub_without_a_runner_says_so(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> None:
    directory = tmp_path_factory.mktemp("no-runner")
    with working_hub(directory, database_url, spaces_runner="none") as server:
        owner = make_user(server)
        space = f"{owner.name}/{unique_name('space')}"
        owner.api.create_repo(space, repo_type="space", space_sdk="gradio")
        _commit(owner.api, space, {"app.py": b"import gradio\n"})

        _reaches(owner.api, space, SpaceStage.CONFIG_ERROR)

        assert owner.api.get_space_runtime(space).raw["errorMessage"] == NO_RUNNER


def test_a_paused_space_is_not_rebuilt_by_commits_until_restarted(
    hub: ThreadedServer, owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE})
    _reaches(owner.api, space, SpaceStage.RUNNING)

    paused = owner.api.pause_space(space)
    _commit(owner.api, space, {"README.md": _readme("sdk: flask")})
    _outbox_done(hub)

    assert paused.stage == SpaceStage.PAUSED
    assert owner.api.get_space_runtime(space).stage == SpaceStage.PAUSED
    restarted = owner.api.restart_space(space)
    assert restarted.stage == SpaceStage.BUILDING
    _reaches(owner.api, space, SpaceStage.CONFIG_ERROR)  # the commit made while paused


def test_a_factory_restart_builds_again(
    hub: ThreadedServer, owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE})
    _reaches(owner.api, space, SpaceStage.RUNNING)
    _outbox_done(hub)
    builds = len(hub.services.jobs.list(kind="space.build", limit=1000).items)

    owner.api.restart_space(space, factory_reboot=True)

    assert owner.api.wait_for_space(space, timeout=30).stage == SpaceStage.RUNNING
    assert len(hub.services.jobs.list(kind="space.build", limit=1000).items) == builds + 1


def test_sleep_time_is_set_cleared_and_checked(
    owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("gradio")

    # The client warns that cpu-basic sleeps after 48 h whatever is set: true on the Hub only.
    with pytest.warns(UserWarning, match="cpu-basic"):
        assert owner.api.set_space_sleep_time(space, 3600).sleep_time == 3600
        assert owner.api.get_space_runtime(space).sleep_time == 3600
        assert owner.api.set_space_sleep_time(space, -1).sleep_time is None
    with pytest.raises(BadRequestError) as caught:
        owner.api.set_space_sleep_time(space, 10)
    assert "at least 60 seconds" in caught.value.response.headers["X-Error-Message"]


def test_cpu_basic_is_the_hardware_there_is(owner: HubUser, new_space: Callable[..., str]) -> None:
    space = new_space("gradio")

    with pytest.warns(UserWarning, match="cpu-basic"):  # the Hub's rule, not this hub's
        runtime = owner.api.request_space_hardware(space, SpaceHardware.CPU_BASIC, sleep_time=120)
    with pytest.raises(BadRequestError) as gpu:
        owner.api.request_space_hardware(space, "t4-small")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError) as unknown:
        owner.api.request_space_hardware(space, "quantum-xl")  # type: ignore[arg-type]

    assert (runtime.requested_hardware, runtime.sleep_time) == ("cpu-basic", 120)
    assert "This hub offers cpu-basic only" in gpu.value.response.headers["X-Error-Message"]
    assert "'t4-small' is not available" in gpu.value.response.headers["X-Error-Message"]
    assert "Unknown hardware flavor 'quantum-xl'" in str(unknown.value)


def test_the_hardware_list_is_this_machine(owner: HubUser) -> None:
    hardware = owner.api.list_spaces_hardware()

    assert [h.name for h in hardware] == ["cpu-basic"]
    assert hardware[0].cpu.endswith("vCPU")
    assert hardware[0].accelerator is None


def test_dev_mode_is_refused_clearly(owner: HubUser, new_space: Callable[..., str]) -> None:
    space = new_space("gradio")

    with pytest.raises(BadRequestError) as caught:
        owner.api.enable_space_dev_mode(space)

    assert "Dev mode is not available on this hub" in str(caught.value)
    assert owner.api.disable_space_dev_mode(space).stage in set(SpaceStage)


def test_a_model_repo_has_no_space_runtime(owner: HubUser) -> None:
    model = f"{owner.name}/{unique_name('model')}"
    owner.api.create_repo(model)

    with pytest.raises(RepositoryNotFoundError):
        owner.api.get_space_runtime(model)


def test_a_private_space_is_invisible_to_others(
    owner: HubUser, stranger: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE}, private=True)

    for call in (
        lambda: stranger.api.get_space_runtime(space),
        lambda: stranger.api.restart_space(space),
        lambda: stranger.api.pause_space(space),
        lambda: list(stranger.api.fetch_space_logs(space, build=True)),
    ):
        with pytest.raises(RepositoryNotFoundError):
            call()


def test_readers_see_the_runtime_but_may_not_change_it(
    hub: ThreadedServer, owner: HubUser, stranger: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE})
    read_token = hub.services.auth.create_token(owner.name, Role.READ).secret
    reader = HfApi(endpoint=hub.url, token=read_token)

    assert reader.get_space_runtime(space).stage in set(SpaceStage)
    for api in (reader, stranger.api):
        with pytest.raises(HfHubHTTPError) as caught:
            api.restart_space(space)
        assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as logs:
        list(stranger.api.fetch_space_logs(space, build=True))
    assert logs.value.response.status_code == 403


def test_templates_are_listed_and_a_space_starts_from_one(
    owner: HubUser, new_space: Callable[..., str]
) -> None:
    templates = {t.name: t for t in owner.api.list_space_templates()}
    repo_id = f"{owner.name}/{unique_name('from-template')}"

    owner.api.create_repo(repo_id, repo_type="space", space_template="Static")

    assert {(t.repo_id, t.sdk) for t in templates.values()} >= {
        ("templates/static", "static"),
        ("templates/gradio", "gradio"),
        ("templates/streamlit", "streamlit"),
    }
    assert {"README.md", "index.html"} <= set(owner.api.list_repo_files(repo_id, repo_type="space"))
    _reaches(owner.api, repo_id, SpaceStage.RUNNING)
    with pytest.raises(ValueError, match="must match the SDK"):
        owner.api.create_repo(
            f"{owner.name}/{unique_name('x')}",
            repo_type="space",
            space_sdk="gradio",
            space_template="templates/static",
        )


def test_volumes_mount_repos_the_owner_can_read(
    owner: HubUser, stranger: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("gradio")
    model = f"{owner.name}/{unique_name('weights')}"
    owner.api.create_repo(model)
    hidden = f"{stranger.name}/{unique_name('hidden')}"
    stranger.api.create_repo(hidden, private=True)

    owner.api.set_space_volumes(space, [Volume(type="model", source=model, mount_path="/data")])

    volumes = owner.api.get_space_runtime(space).volumes
    assert volumes is not None
    assert [(v.type, v.source, v.mount_path, v.read_only) for v in volumes] == [
        ("model", model, "/data", True)
    ]
    assert stranger.api.get_space_runtime(space).volumes is None  # they may name private repos
    owner.api.delete_space_volumes(space)
    assert owner.api.get_space_runtime(space).volumes is None
    with pytest.raises(BadRequestError, match="no volumes"):
        owner.api.delete_space_volumes(space)


@pytest.mark.parametrize(
    ("volumes", "message"),
    [
        ([("model", "{hidden}", "/data")], "that you can read"),
        ([("model", "{owner}/does-not-exist", "/data")], "that you can read"),
        ([("bucket", "{owner}/b", "/data")], "Volumes of type 'bucket' are not available"),
        ([("model", "{model}", "data")], "absolute path"),
        ([("model", "{model}", "/")], "absolute path"),
        ([("model", "{model}", "/data"), ("model", "{model}", "/data/sub")], "overlap"),
    ],
    ids=["another-users-private-repo", "missing", "bucket", "relative", "root", "overlap"],
)
def test_bad_volumes_are_refused(
    owner: HubUser,
    stranger: HubUser,
    new_space: Callable[..., str],
    volumes: list[tuple[str, str, str]],
    message: str,
) -> None:
    space = new_space("gradio")
    model = f"{owner.name}/{unique_name('weights')}"
    owner.api.create_repo(model)
    hidden = f"{stranger.name}/{unique_name('hidden')}"
    stranger.api.create_repo(hidden, private=True)
    names = {"hidden": hidden, "owner": owner.name, "model": model}

    with pytest.raises(BadRequestError) as caught:
        owner.api.set_space_volumes(
            space,
            [Volume(type=t, source=s.format(**names), mount_path=m) for t, s, m in volumes],
        )

    assert message in caught.value.response.headers["X-Error-Message"]
    assert owner.api.get_space_runtime(space).volumes is None


def test_a_static_space_mounts_no_volumes(owner: HubUser, new_space: Callable[..., str]) -> None:
    space = new_space("static")
    model = f"{owner.name}/{unique_name('weights')}"
    owner.api.create_repo(model)

    with pytest.raises(BadRequestError, match="static Space"):
        owner.api.set_space_volumes(space, [Volume(type="model", source=model, mount_path="/d")])


def test_the_spaces_listing_expands_runtimes(owner: HubUser, new_space: Callable[..., str]) -> None:
    space = new_space("static", {"index.html": PAGE})
    _reaches(owner.api, space, SpaceStage.RUNNING)

    listed = list(owner.api.list_spaces(author=owner.name, expand=["runtime"]))

    assert [(s.id, s.runtime.stage) for s in listed] == [(space, SpaceStage.RUNNING)]  # type: ignore[union-attr]


def test_a_duplicated_space_keeps_its_variables_not_its_secrets(
    owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE})
    owner.api.add_space_variable(space, "MODE", "fast")
    owner.api.add_space_secret(space, "TOKEN", "s3cr3t")
    copy = f"{owner.name}/{unique_name('copy')}"

    owner.api.duplicate_repo(space, copy, repo_type="space")

    assert "index.html" in owner.api.list_repo_files(copy, repo_type="space")
    assert owner.api.get_space_variables(copy)["MODE"].value == "fast"
    assert owner.api.get_space_secrets(copy) == {}
    _reaches(owner.api, copy, SpaceStage.RUNNING)


def test_following_a_log_streams_the_lines_of_the_next_build(
    owner: HubUser, new_space: Callable[..., str]
) -> None:
    space = new_space("static", {"index.html": PAGE})
    _reaches(owner.api, space, SpaceStage.RUNNING)
    stream = iter(owner.api.fetch_space_logs(space, build=True, follow=True))
    history = [next(stream), next(stream)]

    owner.api.restart_space(space)
    following = [next(stream), next(stream)]
    stream.close()  # type: ignore[attr-defined]

    assert history[0].startswith("Reading the configuration")
    assert following[0].startswith("Reading the configuration")
    assert following[1].startswith("Static Space")


def test_a_mirrored_space_is_never_run(
    hub: ThreadedServer, owner: HubUser, tmp_path: Path, database_url: str | None
) -> None:
    with mirrors.hub(tmp_path / "upstream", postgres=database_url is not None) as upstream:
        author = make_user(upstream, "author")
        space = f"{author.name}/{unique_name('mirrored')}"
        author.api.create_repo(space, repo_type="space", space_sdk="static")
        author.api.upload_file(
            path_or_fileobj=PAGE, path_in_repo="index.html", repo_id=space, repo_type="space"
        )
        mirrors.add_mirror(hub, space, upstream.url, "space")
        job = hub.services.mirrors.sync(RepoType.SPACE, space)  # run by the hub's job threads
        wait_until(lambda: hub.services.jobs.get(job.id).state.finished, "the mirror sync")
    assert hub.services.jobs.get(job.id).state is JobState.SUCCEEDED
    _outbox_done(hub)

    runtime = owner.api.get_space_runtime(space)

    assert runtime.stage == SpaceStage.STOPPED
    assert f"mirror of {upstream.url}" in runtime.raw["errorMessage"]
    assert not hub.services.jobs.list(kind="space.build", states=_LIVE).items
