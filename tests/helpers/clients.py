"""The official clients in processes of their own, run by one user against a hub.

Each gets a fresh environment: the hub as `HF_ENDPOINT`, the user's token, and a home of its
own (so no cache, token file or hf_xet state is shared with another test or the machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer

# huggingface_hub's `hf`, installed next to the interpreter running the tests.
HF_CLI = str(Path(sys.executable).with_name("hf"))
_TIMEOUT = 240


def client_environ(server: LiveServer, user: HubUser, home: Path) -> dict[str, str]:
    """The environment of an official client process run by `user` against the hub, Xet on."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "HF_HOME": str(home / "hf"),
        "HF_ENDPOINT": server.url,
        "HF_TOKEN": user.token,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
    }


def run_hf(
    server: LiveServer, user: HubUser, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`hf *args` as `user`; its exit status and output, whatever they are."""
    return subprocess.run(
        [HF_CLI, *args],
        env=client_environ(server, user, home),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )


def hf_ok(server: LiveServer, user: HubUser, home: Path, *args: str) -> str:
    """`hf *args` as `user`, which must succeed; its standard output."""
    result = run_hf(server, user, home, *args)
    assert result.returncode == 0, f"hf {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def run_python(server: LiveServer, user: HubUser, home: Path, script: str, *args: str) -> None:
    """Run `script` in a fresh interpreter as `user` against the hub; fail on any error."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=client_environ(server, user, home),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
