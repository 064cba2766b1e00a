"""A hub that is not root runs Space apps with the capabilities the packaged systemd unit gives it.

`hubstead serve` runs as a user of its own, started by `setpriv` as systemd starts the unit:
the local runner's `CAPABILITIES` ambient and the only ones in its bounding set, no_new_privs
(`NoNewPrivileges=yes`), umask 0027. A gradio Space of a plain app builds, runs as a user of
its own and answers through the hub's proxy, with no capability left to its process (nor has
the app of a root hub any); the same hub without some of the capabilities refuses to build,
naming them.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, SpaceRuntime, SpaceStage

from hubstead.server.spaces.envs import SYSTEM_PATH
from hubstead.server.spaces.processes import CAPABILITIES
from tests.helpers.accounts import make_user
from tests.helpers.plain_apps import SERVING_APP
from tests.helpers.processes import HubsteadProcess
from tests.helpers.space_apps import app_url, running_space
from tests.helpers.spaces import REPO, hub_space_settings, require_wheelhouse, space_hub
from tests.helpers.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="starting a hub as another user takes root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing"),
]

HUB_UID = 1_400_000_000 + os.getpid() % 1_000_000
"""The hub's user: no passwd entry, like the runner's users, and none of theirs."""
# What an app may leave in its working dir: files in a sticky directory of its own, which only
# their owner, the directory's, or a process with CAP_FOWNER may remove.
_STICKY_APP = (
    b"""import os
os.mkdir("sticky")
os.chmod("sticky", 0o1777)
open("sticky/left", "w").close()
"""
    + SERVING_APP
)
_BUILD_SECONDS = 600
_ENDED = {SpaceStage.RUNNING, SpaceStage.BUILD_ERROR, SpaceStage.RUNTIME_ERROR}


def _reachable_python() -> str:
    """An interpreter of the test's Python version that the hub's user can run.

    The test's own may be out of its reach (a pyenv Python under /root); the hub then runs on
    another one of the same version, with the test's packages on its path.
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version, path=SYSTEM_PATH)):
        if candidate is not None and all(
            parent.stat().st_mode & 0o001 for parent in Path(candidate).resolve().parents
        ):
            return candidate
    pytest.skip(f"no {version} that other users can run")


@pytest.fixture
def hub_home() -> Iterator[Path]:
    """A directory of the hub's user, 0755 (the runner's users must reach `spaces_dir` in it)."""
    parent = Path(tempfile.mkdtemp(prefix="hubstead-test-caps-"))
    parent.chmod(0o755)
    home = parent / "hub"
    home.mkdir()
    home.chmod(0o755)
    os.chown(home, HUB_UID, HUB_UID)
    yield home
    shutil.rmtree(parent)


def _serve(
    home: Path, spaces: dict[str, object], capabilities: Collection[str]
) -> tuple[HubsteadProcess, HfApi]:
    """`hubstead serve` as `HUB_UID` with the `spaces_*` settings `spaces`; a client of it.

    It has `capabilities` (`CAP_*` names), as the systemd unit gives them.
    """
    setpriv = [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={HUB_UID}",
        f"--regid={HUB_UID}",
        "--clear-groups",
        "--no-new-privs",
    ]
    if capabilities:
        listed = ",".join(f"+{name.removeprefix('CAP_').lower()}" for name in capabilities)
        setpriv += [
            f"--inh-caps={listed}",
            f"--ambient-caps={listed}",
            f"--bounding-set=-all,{listed}",
        ]
    paths = sysconfig.get_paths()
    env = {
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), paths["purelib"], paths["platlib"]]),
        "HUBSTEAD_DATA_DIR": str(home / "data"),
        "HUBSTEAD_JOB_POLL_SECONDS": "1",
        **{f"HUBSTEAD_{key.upper()}": _variable(value) for key, value in spaces.items()},
    }
    python = [_reachable_python(), "-c", "from hubstead.cli.main import main; main()"]
    server = HubsteadProcess(
        "serve", "--port", "0", env=env, command=[*setpriv, *python], umask=0o027
    )
    url = server.wait_until_serving()
    token = server.exported("HF_TOKEN")
    assert token is not None, server.stderr
    return server, HfApi(endpoint=url, token=token)


def _variable(value: object) -> str:
    """A setting's value as a `HUBSTEAD_*` variable spells it."""
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _built_space(api: HfApi) -> tuple[str, SpaceRuntime]:
    """A new gradio Space of `_STICKY_APP`, and its runtime once its build ended."""
    space = api.create_repo("caps", repo_type="space", space_sdk="gradio").repo_id
    api.upload_file(
        path_or_fileobj=_STICKY_APP, path_in_repo="app.py", repo_id=space, repo_type="space"
    )

    def ended() -> SpaceRuntime | None:
        runtime = api.get_space_runtime(space)
        return runtime if runtime.stage in _ENDED else None

    return space, wait_until(ended, "the build to end", timeout=_BUILD_SECONDS)


def _status_fields(text: str) -> dict[str, str]:
    return {
        key: value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())
    }


def test_a_hub_with_the_capabilities_runs_an_app_as_its_user_with_none(hub_home: Path) -> None:
    require_wheelhouse()
    # The test runners' environments, owned by root and their builder: the capabilities let
    # the hub build and run with them.
    spaces = {**hub_space_settings(), "spaces_dir": hub_home / "spaces"}
    server, api = _serve(hub_home, spaces, CAPABILITIES)
    try:
        space, runtime = _built_space(api)
        assert runtime.stage == SpaceStage.RUNNING, (runtime.raw, server.stderr)
        proxied = f"{api.endpoint}/spaces/{space}/app"
        assert httpx.get(f"{proxied}/").text == "hello"
        status = _status_fields(httpx.get(f"{proxied}/status").text)
    finally:
        assert server.stop() == 0, server.stderr
    # The app ended with the hub, and its working dir went with it, whatever it left there.
    assert list((hub_home / "spaces" / "apps").iterdir()) == []
    uid = int(status["Uid"].split()[0])
    assert uid > spaces["spaces_uid_base"]  # type: ignore[operator]
    _assert_unprivileged(status, uid)


def test_an_app_of_a_root_hub_has_no_capability_either(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with space_hub(tmp_path_factory, None, "root-hub") as hub:
        owner = make_user(hub)
        space = running_space(hub, owner, {"app.py": SERVING_APP})
        status = _status_fields(httpx.get(f"{app_url(hub, owner, space)}/status").text)
    uid = int(status["Uid"].split()[0])
    assert uid > hub.settings.spaces_uid_base
    _assert_unprivileged(status, uid)


def _assert_unprivileged(status: dict[str, str], uid: int) -> None:
    """The `/proc/<pid>/status` fields of a process of `uid` alone, with no way to privileges."""
    assert status["Uid"].split() == [str(uid)] * 4
    assert status["Gid"].split() == [str(uid)] * 4 and status["Groups"] == ""
    assert [status[key] for key in ("CapInh", "CapPrm", "CapEff", "CapAmb")] == ["0" * 16] * 4
    assert status["NoNewPrivs"] == "1"


@pytest.mark.parametrize(
    "missing", [CAPABILITIES, ["CAP_KILL"]], ids=["no-capabilities", "no-CAP_KILL"]
)
def test_a_hub_without_the_capabilities_refuses_to_build_naming_them(
    hub_home: Path, missing: Collection[str]
) -> None:
    spaces = {
        **hub_space_settings(),
        "spaces_dir": hub_home / "spaces",
        "spaces_env_dir": hub_home / "envs",
    }
    server, api = _serve(hub_home, spaces, [name for name in CAPABILITIES if name not in missing])
    try:
        _, runtime = _built_space(api)
    finally:
        assert server.stop() == 0, server.stderr
    assert runtime.stage == SpaceStage.BUILD_ERROR
    message = runtime.raw["errorMessage"]
    assert message.startswith(
        f"The hub lacks the capabilities {', '.join(missing)}, so it cannot run Space "
        "apps as users of their own"
    ), message
    assert "spaces_allow_same_user" in message
