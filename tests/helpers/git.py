"""The real `git` (and `git-lfs`) binaries, run as a user would, in an isolated environment.

Each `GitUser` has a home of its own (its global config, its credential store) and reads no
system configuration, so nothing from the machine running the tests leaks in. Tests skip with
a clear reason when git, or a recent enough git, is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

MIN_GIT_VERSION = (2, 18)  # protocol v2 over HTTP


def git_version() -> tuple[int, ...] | None:
    """The installed git's version, or None when git is not installed."""
    if shutil.which("git") is None:
        return None
    output = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"(\d+)\.(\d+)", output.stdout)
    return tuple(int(n) for n in found.groups()) if found else None


def require_git() -> None:
    """Skip the calling test unless a recent enough git is installed."""
    version = git_version()
    if version is None:
        pytest.skip("git is not installed")
    if version < MIN_GIT_VERSION:
        pytest.skip(f"git {'.'.join(map(str, MIN_GIT_VERSION))} or later is needed")


def require_git_lfs() -> None:
    """Skip the calling test unless git-lfs is installed."""
    require_git()
    if shutil.which("git-lfs") is None:
        pytest.skip("git-lfs is not installed")


def repo_url(base: str, repo_id: str, *, token: str | None = None, prefix: str = "") -> str:
    """The clone URL of a repo, with a token as the password when one is given."""
    parts = urlsplit(base)
    credentials = f"git:{quote(token, safe='')}@" if token is not None else ""
    return f"{parts.scheme}://{credentials}{parts.netloc}/{prefix}{repo_id}"


class GitUser:
    """Someone running git with a home directory of their own."""

    def __init__(self, home: Path) -> None:
        require_git()
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "LC_ALL": "C",
        }
        for key, value in {
            "user.name": "Git User",
            "user.email": "git-user@example.test",
            "init.defaultBranch": "main",
            "advice.detachedHead": "false",
        }.items():
            self.run("config", "--global", key, value)

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = True,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `git args...`; with `check`, fail the test (showing git's output) on an error."""
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"git {' '.join(args)} exited with {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def fails(self, *args: str, cwd: Path | None = None) -> str:
        """Run a git command that must fail; its error output."""
        result = self.run(*args, cwd=cwd, check=False)
        assert result.returncode != 0, f"git {' '.join(args)} succeeded:\n{result.stderr}"
        return result.stderr

    def clone(self, url: str, dest: Path, *options: str) -> Path:
        """Clone `url` into `dest`."""
        self.run("clone", *options, url, str(dest))
        return dest

    def commit_file(self, checkout: Path, path: str, content: bytes, message: str) -> str:
        """Write a file, commit it; the new commit id."""
        target = checkout / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        self.run("add", path, cwd=checkout)
        self.run("commit", "-q", "-m", message, cwd=checkout)
        return self.head(checkout)

    def head(self, checkout: Path, rev: str = "HEAD") -> str:
        """The commit id `rev` names in a checkout."""
        return self.run("rev-parse", rev, cwd=checkout).stdout.strip()

    def store_credentials(self, url: str) -> None:
        """Keep the user and token of `url` with git's `store` credential helper."""
        self.run("config", "--global", "credential.helper", "store")
        parts = urlsplit(url)
        (self.home / ".git-credentials").write_text(f"{parts.scheme}://{parts.netloc}\n")
