"""The local runner builds environments and runs apps as real processes of users of their own."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubstead.server.domain.spaces import SpaceConfig, SpaceSdk
from hubstead.server.services.spaces.runner import AppSpec, SpaceRunError
from hubstead.server.settings import load_settings
from hubstead.server.spaces.local import LocalProcessRunner, local_runner
from hubstead.server.spaces.processes import MAX_LINE_BYTES
from hubstead.server.storage.mutexes_fs import FsMutexes
from tests.helpers.spaces import hub_space_settings
from tests.helpers.waiting import wait_until
from tests.spaces.conftest import GRADIO_VERSION, LIMITS, RUNNER_ROOT, USER_BASE, Exits, Log

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="apps switch users when the hub is root")

ECHO_APP = """
import gradio as gr

gr.Interface(fn=lambda text: text, inputs="text", outputs="text").launch()
"""

STREAMLIT_APP = """
import streamlit as st

st.write("hello from streamlit")
"""

# Plain Python apps run by the gradio SDK's command (`python app.py`) on the port it is given.
SERVE = """
import os, socket
server = socket.create_server(("127.0.0.1", int(os.environ["GRADIO_SERVER_PORT"])))
while True:
    server.accept()[0].close()
"""

PROBE_APP = (
    """
import json, os

def attempt(read):
    try:
        read()
        return "read"
    except PermissionError:
        return "denied"

facts = {
    "pid": os.getpid(),
    "uid": os.getuid(),
    "gid": os.getgid(),
    "groups": os.getgroups(),
    "env": dict(os.environ),
    "cwd": os.getcwd(),
    "nice": os.getpriority(os.PRIO_PROCESS, 0),
    "limits": open("/proc/self/limits").read(),
    "hub_file": attempt(lambda: open(os.environ["HUB_FILE"]).read()),
    "other_environ": attempt(
        lambda: open(f"/proc/{os.environ['OTHER_PID']}/environ").read()
    ) if "OTHER_PID" in os.environ else None,
}
print("FACTS " + json.dumps(facts), flush=True)
"""
    + SERVE
)

# Ends with status 7 after its first visitor.
EXITING_APP = """
import os, socket, sys
server = socket.create_server(("127.0.0.1", int(os.environ["GRADIO_SERVER_PORT"])))
server.accept()[0].close()
print("last words", flush=True)
sys.exit(7)
"""

LOUD_APP = (
    """
import sys
sys.stdout.write("x" * 50_000_000)
sys.stdout.write("\\n")
for n in range(100_000):
    sys.stdout.write(f"line {n}\\n")
print("done", flush=True)
"""
    + SERVE
)


@pytest.fixture
def started(runner: LocalProcessRunner) -> Iterator[Callable[..., Any]]:
    """Start a Space's app on a runner (built first); every app started is stopped after."""
    apps: list[tuple[LocalProcessRunner, str]] = []

    def start(
        spec: AppSpec, *, log: Log | None = None, exits: Exits | None = None, on: Any = None
    ) -> Any:
        target = on or runner
        target.build(spec, Log(), fresh=False)
        apps.append((target, spec.key))
        return target.start(spec, log if log is not None else Log(), exits or Exits())

    yield start
    for target, key in apps:
        target.stop(key)


def facts_of(log: Log) -> dict[str, Any]:
    line = wait_until(
        lambda: next((x for x in log.lines if x.startswith("FACTS ")), None), "the app's facts"
    )
    facts: dict[str, Any] = json.loads(line.removeprefix("FACTS "))
    return facts


def env_count() -> int:
    return sum(1 for path in (RUNNER_ROOT / "envs").iterdir() if not path.name.startswith("."))


@pytest.mark.slow  # a first build takes 20-60 s on 2 cores
def test_gradio_app_builds_and_answers_on_its_address(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": ECHO_APP})
    address = started(spec)

    assert (address.host, address.root_path) == ("127.0.0.1", "")
    config = httpx.get(f"http://{address.host}:{address.port}/config", timeout=30).json()
    assert config["version"] == GRADIO_VERSION
    assert runner.running(spec.key)


@pytest.mark.slow  # a first build takes 20-60 s on 2 cores
def test_streamlit_app_answers_under_its_public_path(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": STREAMLIT_APP}, sdk=SpaceSdk.STREAMLIT)
    address = started(spec)

    assert address.root_path == spec.public_path
    url = f"http://{address.host}:{address.port}{address.root_path}/_stcore/health"
    answer = httpx.get(url, timeout=30)
    assert (answer.status_code, answer.text) == (200, "ok")


def test_a_space_with_the_same_requirements_reuses_the_environment(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    requirements = {"app.py": STREAMLIT_APP, "requirements.txt": "# the reuse test\n"}
    first = make_spec(requirements, sdk=SpaceSdk.STREAMLIT)
    runner.build(first, Log(), fresh=False)
    envs = env_count()

    log = Log()
    runner.build(make_spec(requirements, sdk=SpaceSdk.STREAMLIT), log, fresh=False)

    assert "built before for the same requirements" in log.text()
    assert "Installed" not in log.text()
    assert env_count() == envs


@as_root
def test_a_build_that_finds_its_environment_leaves_the_package_cache_alone(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    requirements = {"app.py": SERVE, "requirements.txt": "# the cache test\n"}
    runner.build(make_spec(requirements), Log(), fresh=False)
    cache = RUNNER_ROOT / "uv-cache"
    # A file in the cache that is not the builder's: a walk giving the cache to the builder
    # (which once ran at every build, on thousands of files) would make it the builder's.
    marker = cache / f"hubstead-test-{os.getpid()}"
    marker.write_text("root's\n")
    try:
        log = Log()
        runner.build(make_spec(requirements), log, fresh=False)

        assert "built before for the same requirements" in log.text()
        assert marker.stat().st_uid == 0
        assert cache.stat().st_uid == USER_BASE
    finally:
        marker.unlink()


@pytest.mark.slow  # a first build takes 20-60 s on 2 cores
def test_a_fresh_build_rebuilds_the_environment(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    spec = make_spec(
        {"app.py": STREAMLIT_APP, "requirements.txt": "# the fresh test\n"}, sdk=SpaceSdk.STREAMLIT
    )
    runner.build(spec, Log(), fresh=False)
    built = runner.environments.path(spec).stat().st_ino

    log = Log()
    runner.build(spec, log, fresh=True)

    assert "Building the environment" in log.text()
    assert "Installed" in log.text()
    assert runner.environments.path(spec).stat().st_ino != built
    assert (runner.environments.path(spec) / "bin" / "python").exists()


def test_broken_requirements_fail_the_build_naming_the_package(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    spec = make_spec(
        {"app.py": STREAMLIT_APP, "requirements.txt": "hubstead-no-such-package==1.0\n"},
        sdk=SpaceSdk.STREAMLIT,
    )
    log = Log()

    with pytest.raises(SpaceRunError, match="hubstead-no-such-package") as failure:
        runner.build(spec, log, fresh=False)

    assert str(failure.value).startswith("The environment did not build")
    assert "hubstead-no-such-package" in log.text()
    assert not runner.environments.path(spec).exists()
    with pytest.raises(SpaceRunError, match="not built"):
        runner.start(spec, Log(), Exits())


def test_an_app_that_never_listens_fails_within_the_start_timeout(
    make_runner: Callable[..., LocalProcessRunner], make_spec: Callable[..., AppSpec], started: Any
) -> None:
    impatient = make_runner(start_timeout_seconds=2.0)
    spec = make_spec(
        {"app.py": "import time\nprint('not listening', flush=True)\ntime.sleep(600)\n"}
    )
    log = Log()
    began = time.monotonic()

    with pytest.raises(SpaceRunError, match="did not listen on its port within 2 s"):
        started(spec, log=log, on=impatient)

    assert time.monotonic() - began < 30
    assert "not listening" in log.lines
    assert not impatient.running(spec.key)


def test_an_app_that_exits_while_starting_fails_the_start_with_its_last_lines(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": "print('cannot start', flush=True)\nraise SystemExit(3)\n"})
    log = Log()

    with pytest.raises(SpaceRunError, match="The app exited with status 3"):
        started(spec, log=log)

    assert "cannot start" in log.lines


def test_an_app_that_exits_later_is_reported_with_its_status(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": EXITING_APP})
    log, exits = Log(), Exits()

    address = started(spec, log=log, exits=exits)
    socket.create_connection((address.host, address.port), timeout=10).close()

    assert wait_until(lambda: exits.statuses, "the app's exit") == [7]
    assert "last words" in log.lines
    assert not runner.running(spec.key)


def test_a_stopped_app_is_not_reported_as_exited_and_its_files_are_gone(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null"})
    log, exits = Log(), Exits()
    started(spec, log=log, exits=exits)
    workdir = Path(facts_of(log)["cwd"])
    assert (workdir / "app.py").is_file()

    runner.stop(spec.key)

    assert not runner.running(spec.key)
    assert exits.statuses == []
    assert not workdir.exists()


def test_an_app_printing_enormously_has_its_lines_cut_and_costs_the_hub_no_memory(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": LOUD_APP})
    log = Log()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started(spec, log=log)
    wait_until(lambda: "done" in log.lines, "the end of the app's output", timeout=120)

    assert log.lines[0].startswith("x" * 100)
    assert log.lines[0].endswith("[line truncated]")
    assert max(len(line.encode()) for line in log.lines) <= MAX_LINE_BYTES + 20
    assert log.lines[1:3] == ["line 0", "line 1"]
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024


@as_root
def test_each_app_runs_as_a_user_of_its_own_who_cannot_read_another_apps_environment(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    first_log, second_log = Log(), Log()
    first = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null"})
    started(first, log=first_log)
    first_facts = facts_of(first_log)
    second = make_spec(
        {"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null", "OTHER_PID": str(first_facts["pid"])}
    )
    started(second, log=second_log)
    second_facts = facts_of(second_log)

    assert first_facts["uid"] == USER_BASE + 1 + int(first.key) == first_facts["gid"]
    assert second_facts["uid"] == USER_BASE + 1 + int(second.key)
    assert first_facts["groups"] == []
    assert second_facts["other_environ"] == "denied"
    workdir = os.stat(first_facts["cwd"])
    assert (workdir.st_uid, stat.S_IMODE(workdir.st_mode)) == (first_facts["uid"], 0o700)


@as_root
def test_an_app_cannot_read_the_hub_data_dir(
    data_dir: Path, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    log = Log()
    started(
        make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": str(data_dir / "secret.key")}), log=log
    )

    assert facts_of(log)["hub_file"] == "denied"


def test_an_app_has_its_secrets_and_none_of_the_hubs_environment(
    monkeypatch: pytest.MonkeyPatch, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    monkeypatch.setenv("HUB_CANARY", "the hub's own variable")
    log = Log()
    spec = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null", "API_KEY": "s3cret"})

    started(spec, log=log)

    env = facts_of(log)["env"]
    assert env["API_KEY"] == "s3cret"
    assert "HUB_CANARY" not in env
    assert "PYTHONPATH" not in env
    assert env["HOME"] == facts_of(log)["cwd"]
    assert env["TMPDIR"].startswith(env["HOME"] + "/")
    assert env["PATH"].split(":")[0].startswith(str(RUNNER_ROOT / "envs"))


def test_an_app_runs_with_the_configured_limits(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    log = Log()
    started(make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null"}), log=log)

    facts = facts_of(log)
    limits = {line[:26].strip(): line[26:].split()[:2] for line in facts["limits"].splitlines()[1:]}
    assert limits["Max open files"] == [str(LIMITS.open_files)] * 2
    assert limits["Max processes"] == [str(LIMITS.processes)] * 2
    assert limits["Max address space"] == [str(LIMITS.memory_bytes)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert facts["nice"] == LIMITS.nice


@as_root
def test_the_runner_refuses_to_run_apps_while_the_data_dir_is_open_to_other_users(
    tmp_path: Path, make_spec: Callable[..., AppSpec]
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    settings = load_settings({"data_dir": data, "spaces_dir": RUNNER_ROOT}, environ={})
    runner = local_runner(settings, FsMutexes(RUNNER_ROOT / "locks").hold)

    with pytest.raises(SpaceRunError, match=f"{data} is open to other users.*chmod o-rwx"):
        runner.build(make_spec({"app.py": SERVE}), Log(), fresh=False)


@as_root
def test_the_runner_directory_and_those_above_it_are_made_by_the_first_build(
    tmp_path: Path, make_spec: Callable[..., AppSpec]
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    # Under /tmp, where the apps' users can reach it (tmp_path's parents are private).
    top = Path(tempfile.mkdtemp(prefix="hubstead-runner-", dir="/tmp"))
    top.chmod(0o711)
    spaces_dir = top / "not" / "yet" / "spaces"
    try:
        overrides = {"data_dir": data, **hub_space_settings(), "spaces_dir": spaces_dir}
        settings = load_settings(overrides, environ={})
        runner = local_runner(settings, FsMutexes(RUNNER_ROOT / "locks").hold)
        assert not (top / "not").exists()

        runner.build(make_spec({"app.py": SERVE}), Log(), fresh=False)

        assert stat.S_IMODE(spaces_dir.stat().st_mode) == 0o711
        assert stat.S_IMODE((spaces_dir / "apps").stat().st_mode) == 0o711
    finally:
        shutil.rmtree(top)


@as_root
def test_a_space_variable_never_reaches_the_process_that_is_still_root(
    make_spec: Callable[..., AppSpec], started: Any
) -> None:
    log = Log()
    preload = "/nonexistent/hubstead-preload.so"
    spec = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null", "LD_PRELOAD": preload})

    started(spec, log=log)

    assert facts_of(log)["env"]["LD_PRELOAD"] == preload
    # The dynamic loader complains once per program it starts with the variable: the app's.
    assert sum(preload in line for line in log.lines if not line.startswith("FACTS ")) == 1


@as_root
def test_a_requirements_file_that_is_a_link_is_refused(
    tmp_path: Path, runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    private = tmp_path / "private.txt"
    private.write_text("root-only-content\n")
    private.chmod(0o600)
    spec = make_spec({"app.py": SERVE})
    (spec.source_dir / "requirements.txt").symlink_to(private)
    log = Log()

    with pytest.raises(
        SpaceRunError, match=r"requirements\.txt must be a file, not a symbolic link"
    ):
        runner.build(spec, log, fresh=False)

    assert "root-only-content" not in log.text()


@as_root
def test_starting_a_space_again_ends_what_an_earlier_hub_process_left_running(
    make_runner: Callable[..., LocalProcessRunner], make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null"})
    first_log = Log()
    started(spec, log=first_log, on=make_runner())
    orphan = facts_of(first_log)["pid"]

    started(spec, on=make_runner())

    assert not Path(f"/proc/{orphan}").exists()


def test_an_app_whose_port_another_program_took_is_not_given_the_visitors(
    make_runner: Callable[..., LocalProcessRunner], make_spec: Callable[..., AppSpec], started: Any
) -> None:
    slow = "import os, time\nprint('PORT', os.environ['GRADIO_SERVER_PORT'], flush=True)\n"
    spec = make_spec({"app.py": slow + "time.sleep(600)\n"})
    log = Log()
    thief = socket.socket()
    outcome: list[BaseException] = []

    def start() -> None:
        try:
            started(spec, log=log, on=make_runner(start_timeout_seconds=60.0))
        except SpaceRunError as error:
            outcome.append(error)

    starting = threading.Thread(target=start)
    starting.start()
    port = wait_until(
        lambda: next((x.split()[1] for x in log.lines if x.startswith("PORT ")), None),
        "the app's port",
    )
    with thief:
        thief.bind(("127.0.0.1", int(port)))
        thief.listen()
        starting.join(30)

    assert "Another program took the app's port" in str(outcome[0])


ESCAPING_APP = (
    """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print("ESCAPED", os.getpid(), flush=True)
        time.sleep(600)
    os._exit(0)
"""
    + SERVE
)


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@as_root
def test_stopping_an_app_ends_the_processes_that_left_its_group(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec], started: Any
) -> None:
    spec = make_spec({"app.py": ESCAPING_APP})
    log = Log()
    started(spec, log=log)
    escaped = int(
        wait_until(
            lambda: next((x.split()[1] for x in log.lines if x.startswith("ESCAPED ")), None),
            "the escaped process",
        )
    )
    assert alive(escaped)

    runner.stop(spec.key)

    assert not alive(escaped)


def test_without_users_of_their_own_apps_run_as_the_hub_user(
    make_runner: Callable[..., LocalProcessRunner], make_spec: Callable[..., AppSpec], started: Any
) -> None:
    log = Log()
    spec = make_spec({"app.py": PROBE_APP}, env={"HUB_FILE": "/dev/null"})

    started(spec, log=log, on=make_runner(users=None))

    assert facts_of(log)["uid"] == os.geteuid()


def test_a_python_version_this_machine_lacks_fails_the_build_naming_it(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    spec = make_spec({"app.py": SERVE}, python="3.99")

    with pytest.raises(SpaceRunError, match=r"(?s)did not build.*3\.99"):
        runner.build(spec, Log(), fresh=False)


def test_a_docker_space_is_refused_by_the_local_runner(
    runner: LocalProcessRunner, make_spec: Callable[..., AppSpec]
) -> None:
    spec = dataclasses.replace(
        make_spec({"Dockerfile": "FROM scratch\n"}),
        config=SpaceConfig(sdk=SpaceSdk.DOCKER, app_file="Dockerfile"),
    )

    with pytest.raises(SpaceRunError, match="does not run docker Spaces"):
        runner.build(spec, Log(), fresh=False)
