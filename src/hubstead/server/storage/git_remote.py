"""Listing and fetching the refs of a remote git repo over smart HTTP, with the git binary.

Storage layer, used by `git_pygit2.Pygit2GitStore` for mirrors: `git ls-remote` and
`git fetch` run with no system or user git configuration, never prompt, and give up on a
connection that stalls. The token travels as the password of Basic auth through git's
configuration in the environment, never on the command line (where `ps` would show it).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hubstead.server.storage.errors import GitUnavailableError, RemoteError, RemoteFailure

# A transfer slower than 1 byte/s for this long is given up (the remote is gone or stuck).
_STALL_SECONDS = 60
_DENIED = (
    "returned error: 401",
    "returned error: 403",
    "authentication failed",
    "terminal prompts disabled",
    "could not read username",
)
_NOT_FOUND = ("returned error: 404", "repository not found")


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitUnavailableError("the git binary is not installed on this server")
    return found


def _environment(token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    config = [
        ("credential.helper", ""),
        ("http.lowSpeedLimit", "1"),
        ("http.lowSpeedTime", str(_STALL_SECONDS)),
        ("gc.auto", "0"),
        ("fetch.writeCommitGraph", "false"),
    ]
    if token:
        basic = base64.b64encode(f"hubstead:{token}".encode()).decode()
        config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _run(argv: list[str], token: str | None, stdin: bytes = b"") -> bytes:
    result = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        argv, input=stdin, capture_output=True, env=_environment(token), check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise RemoteError(_failure(message), message or f"git exited with {result.returncode}")
    return result.stdout


def _failure(message: str) -> RemoteFailure:
    lowered = message.lower()
    if any(sign in lowered for sign in _NOT_FOUND):
        return RemoteFailure.NOT_FOUND
    if any(sign in lowered for sign in _DENIED):
        return RemoteFailure.DENIED
    return RemoteFailure.UNREACHABLE


def remote_refs(url: str, token: str | None) -> dict[str, str]:
    """Every ref under `refs/` the remote advertises, with its direct target (tags unpeeled).

    Raises:
        RemoteError: git could not list them; `failure` says why.
        GitUnavailableError: no git binary.
    """
    output = _run([_git(), "ls-remote", "--refs", url], token)
    refs = {}
    for line in output.decode(errors="surrogateescape").splitlines():
        target, _, name = line.partition("\t")
        if name.startswith("refs/"):
            refs[name] = target
    return refs


def fetch(repo: Path, url: str, token: str | None, names: Sequence[str]) -> None:
    """Fetch the objects of the remote refs `names` into the bare repo, moving no local ref.

    Raises:
        RemoteError: the fetch failed; `failure` says why.
        GitUnavailableError: no git binary.
    """
    if not names:
        return
    argv = [_git(), "--git-dir", str(repo), "fetch", "--no-tags", "--no-write-fetch-head"]
    refspecs = "".join(f"{name}\n" for name in names).encode(errors="surrogateescape")
    _run([*argv, "--stdin", url], token, stdin=refspecs)
