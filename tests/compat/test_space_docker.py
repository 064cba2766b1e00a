"""Docker Spaces, end to end: built and run by a Docker engine (podman's Docker API here),
answering through the hub, with variables, secrets, restarts, pauses and their errors, all
through the official client.

Each Space is `FROM scratch` with the static busybox copied in (no base image can be pulled
here): busybox's httpd serves its files, and a CGI script prints the environment the app got.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, SpaceStage, Volume

from hubstead.server.services.spaces.builds import NO_DOCKER
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.docker import containers, images, static_busybox
from tests.helpers.live_server import ThreadedServer, working_hub
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow

HTTPD = b'CMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "7860", "-h", "/www"]\n'
DOCKERFILE = (
    b"FROM scratch\n"
    b"COPY --chmod=755 busybox /bin/busybox\n"
    b"COPY www /www\n"
    b'RUN ["/bin/busybox", "chmod", "-R", "a+rx", "/www/cgi-bin"]\n'
    b"USER 1000\n"
)
CGI = b"""#!/bin/busybox sh
echo "Content-Type: text/plain"
echo
echo "GREETING=$GREETING"
echo "API_KEY=$API_KEY"
echo "SPACE_ID=$SPACE_ID"
echo "PORT=$PORT"
/bin/busybox grep -E "^(CapBnd|NoNewPrivs):" /proc/self/status
echo "open files: $(ulimit -n)"
"""
STOP_CGI = b"""#!/bin/busybox sh
read -r _ _ _ server _ < /proc/$PPID/stat
kill "$server"
"""
PAGE = b"<!doctype html><title>Docker</title><h1>A docker Space</h1>\n"
ERRORS = {SpaceStage.BUILD_ERROR, SpaceStage.RUNTIME_ERROR, SpaceStage.CONFIG_ERROR}


@contextlib.contextmanager
def _docker_hub(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str | None,
    docker_socket: Path,
    **settings: object,
) -> Iterator[ThreadedServer]:
    directory = tmp_path_factory.mktemp("spaces-docker")
    with working_hub(
        directory,
        database_url,
        job_poll_seconds=1,
        spaces_docker_host=f"unix://{docker_socket}",
        # Hubs sharing the engine keep apart by their names (Space ids repeat across hubs).
        spaces_docker_prefix=unique_name("hub"),
        **settings,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, docker_socket: Path
) -> Iterator[ThreadedServer]:
    with _docker_hub(tmp_path_factory, database_url, docker_socket) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


def _space(
    owner: HubUser, dockerfile: bytes, extra: dict[str, bytes] | None = None, **create: object
) -> str:
    space = f"{owner.name}/{unique_name('docker')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="docker", **create)  # type: ignore[arg-type]
    files = {
        "README.md": b"---\ntitle: docker test\nsdk: docker\napp_port: 7860\n---\n",
        "Dockerfile": dockerfile,
        "busybox": static_busybox(),
        "www/index.html": PAGE,
        "www/cgi-bin/env": CGI,
        **(extra or {}),
    }
    owner.api.create_commit(
        space,
        repo_type="space",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="A docker app",
    )
    return space


def _settles(api: HfApi, space: str) -> str:
    """The stage the Space's build ends in: RUNNING or an error."""

    def settled() -> str | None:
        stage: str = api.get_space_runtime(space).stage
        return stage if stage in {SpaceStage.RUNNING, *ERRORS} else None

    return wait_until(settled, f"{space} to be built", timeout=300)


def _error(api: HfApi, space: str) -> str:
    message: str = api.get_space_runtime(space).raw["errorMessage"]
    return message


def _build_log(owner: HubUser, space: str) -> str:
    return "".join(owner.api.fetch_space_logs(space, build=True, follow=False))


def _run_log(owner: HubUser, space: str) -> str:
    return "".join(owner.api.fetch_space_logs(space, follow=False))


def _app(hub: ThreadedServer, owner: HubUser, space: str, path: str = "") -> httpx.Response:
    url = f"{hub.url}/spaces/{space}/app/{path}"
    return httpx.get(url, headers={"Authorization": f"Bearer {owner.token}"})


def test_a_docker_space_builds_runs_restarts_and_pauses(
    hub: ThreadedServer, owner: HubUser, docker_socket: Path
) -> None:
    space = _space(
        owner,
        DOCKERFILE + HTTPD,
        space_variables=[{"key": "GREETING", "value": "Bonjour"}],
        space_secrets=[{"key": "API_KEY", "value": "s3cr3t"}],
    )
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)

    build = _build_log(owner, space)
    assert "COPY --chmod=755 busybox /bin/busybox" in build
    assert "Build done; starting the app" in build
    assert _app(hub, owner, space).content == PAGE
    env = _app(hub, owner, space, "cgi-bin/env").text
    assert f"SPACE_ID={space}" in env
    assert "GREETING=Bonjour" in env
    assert "API_KEY=s3cr3t" in env
    assert "PORT=7860" in env
    # No capability can be gained, nor privileges by setuid; the open files are the setting's.
    assert "CapBnd:\t0000000000000000" in env
    assert "NoNewPrivs:\t1" in env
    assert f"open files: {hub.settings.spaces_open_files}" in env
    wait_until(lambda: "response:200" in _run_log(owner, space), "httpd's requests in the run log")
    assert "s3cr3t" not in build + _run_log(owner, space)
    hub_label = f"hubstead.hub={hub.settings.spaces_docker_prefix}"
    (container,) = containers(docker_socket, hub_label)
    assert container["State"] == "running"
    assert [port["IP"] for port in container["Ports"]] == ["127.0.0.1"]

    owner.api.add_space_variable(space, "GREETING", "Salut")
    owner.api.restart_space(space)
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)
    assert "GREETING=Salut" in _app(hub, owner, space, "cgi-bin/env").text
    assert len(containers(docker_socket, hub_label)) == 1
    assert "Using cache" in _build_log(owner, space)
    owner.api.restart_space(space, factory_reboot=True)
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)
    assert "Using cache" not in _build_log(owner, space)

    # A new commit builds a new image; the Space's older one is removed.
    owner.api.upload_file(
        path_or_fileobj=b"<h1>Changed</h1>\n",
        path_in_repo="www/index.html",
        repo_id=space,
        repo_type="space",
    )
    wait_until(lambda: _app(hub, owner, space).content == b"<h1>Changed</h1>\n", "the new app")
    wait_until(lambda: len(images(docker_socket, hub_label)) == 1, "one image of the Space")

    owner.api.pause_space(space)
    assert owner.api.get_space_runtime(space).stage == SpaceStage.PAUSED
    assert _app(hub, owner, space).status_code == 503
    wait_until(lambda: not containers(docker_socket, hub_label), "the container to be removed")


def test_a_docker_space_turned_static_has_its_container_removed(
    hub: ThreadedServer, owner: HubUser, docker_socket: Path
) -> None:
    space = _space(owner, DOCKERFILE + HTTPD)
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)
    assert len(containers(docker_socket, f"hubstead.repo={space}")) == 1

    owner.api.upload_file(
        path_or_fileobj=b"---\nsdk: static\napp_file: www/index.html\n---\n",
        path_in_repo="README.md",
        repo_id=space,
        repo_type="space",
    )

    wait_until(
        lambda: (
            "Static Space" in _build_log(owner, space)
            and owner.api.get_space_runtime(space).stage == SpaceStage.RUNNING
        ),
        "the static build",
    )
    assert _app(hub, owner, space).content == PAGE  # from the hub's files now
    wait_until(
        lambda: not containers(docker_socket, f"hubstead.repo={space}"), "the container to go"
    )


def test_a_broken_dockerfile_is_a_build_error_with_the_engines_message(
    owner: HubUser,
) -> None:
    space = _space(owner, b"FROM scratch\nCOPY missing /missing\n")

    assert _settles(owner.api, space) == SpaceStage.BUILD_ERROR
    message = _error(owner.api, space)
    assert 'STEP "COPY missing /missing"' in message
    assert "no such file or directory" in message
    assert message in _build_log(owner, space)


def test_a_docker_space_with_volumes_is_a_build_error_saying_they_are_not_mounted(
    owner: HubUser,
) -> None:
    model = f"{owner.name}/{unique_name('weights')}"
    owner.api.create_repo(model)
    space = _space(owner, DOCKERFILE + HTTPD)
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)

    owner.api.set_space_volumes(space, [Volume(type="model", source=model, mount_path="/data")])

    wait_until(
        lambda: owner.api.get_space_runtime(space).stage == SpaceStage.BUILD_ERROR,
        "the build with volumes to fail",
    )
    assert "The Docker runner does not mount volumes yet" in _error(owner.api, space)


def test_an_app_that_exits_is_a_runtime_error_with_its_last_lines(owner: HubUser) -> None:
    space = _space(
        owner, DOCKERFILE + b'CMD ["/bin/busybox", "sh", "-c", "echo giving up; exit 3"]\n'
    )

    assert _settles(owner.api, space) == SpaceStage.RUNTIME_ERROR
    message = _error(owner.api, space)
    assert "The app exited with status 3" in message
    assert "giving up" in message


def test_an_app_that_stops_by_itself_while_running_is_a_runtime_error_with_its_last_lines(
    hub: ThreadedServer, owner: HubUser, docker_socket: Path
) -> None:
    serve_then_end = b"/bin/busybox httpd -f -p 7860 -h /www; echo the app ends; exit 4"
    space = _space(
        owner,
        DOCKERFILE + b'CMD ["/bin/busybox", "sh", "-c", "' + serve_then_end + b'"]\n',
        # A request to it stops the server (the parent of the process serving the request):
        # the app then ends, as an app that crashes does.
        {"www/cgi-bin/stop": STOP_CGI},
    )
    assert _settles(owner.api, space) == SpaceStage.RUNNING, _error(owner.api, space)

    with contextlib.suppress(httpx.HTTPError):
        _app(hub, owner, space, "cgi-bin/stop")

    wait_until(
        lambda: owner.api.get_space_runtime(space).stage == SpaceStage.RUNTIME_ERROR,
        "the app's end to be noticed",
    )
    message = _error(owner.api, space)
    assert "The app exited with status 4" in message
    assert "the app ends" in message
    wait_until(
        lambda: not containers(docker_socket, f"hubstead.repo={space}"), "the container to go"
    )


def test_an_app_that_never_listens_is_a_runtime_error(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, docker_socket: Path
) -> None:
    with _docker_hub(
        tmp_path_factory, database_url, docker_socket, spaces_start_timeout_seconds=3
    ) as impatient:
        owner = make_user(impatient, "owner")
        space = _space(owner, DOCKERFILE + b'CMD ["/bin/busybox", "sleep", "600"]\n')

        assert _settles(owner.api, space) == SpaceStage.RUNTIME_ERROR
        assert "did not listen on its port 7860 within 3 s" in _error(owner.api, space)
        label = f"hubstead.hub={impatient.settings.spaces_docker_prefix}"
        assert containers(docker_socket, label) == []


def test_a_docker_space_whose_engine_is_not_there_is_a_build_error_saying_so(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> None:
    directory = tmp_path_factory.mktemp("engine-gone")
    engine = directory / "docker.sock"
    with working_hub(directory, database_url, spaces_docker_host=f"unix://{engine}") as server:
        owner = make_user(server, "owner")
        space = _space(owner, DOCKERFILE + HTTPD)

        assert _settles(owner.api, space) == SpaceStage.BUILD_ERROR
        assert f"There is no Docker engine socket at {engine}" in _error(owner.api, space)


def test_a_docker_space_on_a_hub_without_a_docker_engine_says_how_to_configure_one(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> None:
    with working_hub(tmp_path_factory.mktemp("no-docker"), database_url) as server:
        owner = make_user(server, "owner")
        space = _space(owner, DOCKERFILE + HTTPD)

        assert _settles(owner.api, space) == SpaceStage.CONFIG_ERROR
        assert _error(owner.api, space) == NO_DOCKER
        assert "spaces_docker_host" in NO_DOCKER
