"""The README's examples, run in order, as written, against a live hub.

Every ```sh and ```python block of README.md runs, top to bottom, as if typed into one shell
session of a new user: `hubstead serve` runs on a fresh default data dir (under a temporary
HOME), HF_ENDPOINT and HF_TOKEN are the two lines it prints on its first start, and every other
variable, as well as the working directory, carries over from one ```sh block to the next.
```python blocks run with the test's interpreter in the same directory and environment, and
`hubstead` is the package under test.

One substitution, because tests run in parallel and cannot all listen on 8080: the hub's default
address, `127.0.0.1:8080`, written throughout the README, is replaced by the live hub's address.

A block is not run only when the README says so, with `<!-- not run: why -->` on the line
before it, or when its language is not a command (```text, ```toml, ```nginx). Any other fence
fails the test, so no example is skipped silently; the test prints which blocks it ran.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.databases import postgres_database
from tests.helpers.processes import HUBSTEAD, serving

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_ADDRESS = "127.0.0.1:8080"
RUNNABLE = {"sh", "python"}
NOT_COMMANDS = {"text", "toml", "nginx"}
NOT_RUN = re.compile(r"^<!-- not run: (?P<why>.+) -->$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_run: str | None  # the README's reason for not running it


def readme_blocks(text: str) -> list[Block]:
    """The fenced code blocks of `text`, in order, with their `not run` markers."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("```"):
            index += 1
            continue
        start, language = index, line[3:].strip()
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
        previous = lines[start - 1] if start > 0 else ""
        marker = NOT_RUN.match(previous)
        code = "\n".join(lines[start + 1 : end]) + "\n"
        blocks.append(Block(start + 1, language, code, marker and marker.group("why")))
        index = end + 1
    return blocks


def test_readme_blocks_are_read_with_their_markers() -> None:
    text = "a\n<!-- not run: needs a GPU -->\n```sh\nnvidia-smi\n```\n\n```python\nprint(1)\n```\n"

    assert readme_blocks(text) == [
        Block(3, "sh", "nvidia-smi\n", "needs a GPU"),
        Block(7, "python", "print(1)\n", None),
    ]


class Session:
    """A shell session of one user: its environment and working directory, block after block."""

    def __init__(self, env: dict[str, str], cwd: Path, state: Path) -> None:
        self.env = env
        self.cwd = cwd
        self._state = state

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        """Run one block; a shell block's exports and `cd` carry over to the next blocks."""
        if block.language == "python":
            command = [sys.executable, "-c", block.code]
        else:
            # The block's text is run as typed; -e stops at the first command that fails, except
            # in `a && b`: a block ending with one that failed is caught by the status check.
            script = (
                f"set -eo pipefail\n{block.code}\n"
                'status=$?; if [ "$status" -ne 0 ]; then exit "$status"; fi\n'
                f'pwd > "{self._state}/cwd"\nenv -0 > "{self._state}/env"\n'
            )
            command = ["bash", "-c", script]
        result = subprocess.run(
            command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=240,
        )
        if block.language == "sh" and result.returncode == 0:
            self.cwd = Path((self._state / "cwd").read_text().strip())
            pairs = (self._state / "env").read_text().split("\0")
            self.env = dict(pair.split("=", 1) for pair in pairs if pair)
        return result


def test_a_session_keeps_exports_and_cd_and_fails_on_a_failed_last_command(
    tmp_path: Path,
) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "sub").mkdir()
    session = Session(dict(os.environ), tmp_path, tmp_path / "state")

    assert session.run(Block(1, "sh", "export GREETING=hi\ncd sub\n", None)).returncode == 0
    shown = session.run(Block(5, "python", "import os; print(os.environ['GREETING'])\n", None))
    failed = session.run(Block(9, "sh", "true\nfalse && echo unreachable\n", None))

    assert (session.cwd, shown.stdout) == (tmp_path / "sub", "hi\n")
    assert failed.returncode == 1


def user_environment(home: Path, bin_dir: Path) -> dict[str, str]:
    """A new user's environment: a fresh HOME, no hub settings, the package under test on PATH."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "HUBSTEAD_", "GIT_"))
    }
    bin_dir.mkdir()
    hubstead = bin_dir / "hubstead"
    hubstead.write_text(f'#!/bin/sh\nexec {shlex.join(HUBSTEAD)} "$@"\n')
    hubstead.chmod(0o755)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env["PATH"]])
    return {
        **env,
        "HOME": str(home),
        "PATH": path,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        # A failing git command must fail, not wait for a password on the terminal.
        "GIT_TERMINAL_PROMPT": "0",
    }


@pytest.fixture
def hub_database(database_url: str | None) -> Iterator[dict[str, str]]:
    """The user's database setting: none for SQLite, else a fresh PostgreSQL database's URL."""
    if database_url is None:
        yield {}
    else:
        # As the README's PostgreSQL section does, for the hub and the admin commands alike.
        with postgres_database() as url:
            yield {"HUBSTEAD_DATABASE_URL": url}


@pytest.mark.slow
def test_readme_examples_run_in_order_against_a_live_hub(
    tmp_path: Path, hub_database: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = README.read_text(encoding="utf-8")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (tmp_path / "state").mkdir()
    env = {**user_environment(home, tmp_path / "bin"), **hub_database}

    with serving(["--port", "0"], env=env) as hub:
        url = hub.wait_until_serving()
        endpoint, token = hub.exported("HF_ENDPOINT"), hub.exported("HF_TOKEN")
        assert endpoint is not None and token is not None, hub.stderr
        address = url.removeprefix("http://")
        session = Session(
            {**env, "HF_ENDPOINT": endpoint, "HF_TOKEN": token}, work, tmp_path / "state"
        )

        ran, skipped = [], []
        for block in readme_blocks(text.replace(DEFAULT_ADDRESS, address)):
            if block.not_run is not None or block.language in NOT_COMMANDS:
                skipped.append(
                    f"line {block.line} ({block.language}): {block.not_run or 'not a command'}"
                )
                continue
            assert block.language in RUNNABLE, (
                f"README line {block.line}: ```{block.language} is neither run nor marked"
                " `<!-- not run: why -->`"
            )
            result = session.run(block)
            assert result.returncode == 0, (
                f"README block at line {block.line} failed (exit {result.returncode}):\n"
                f"{block.code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
                f"\n--- hub\n{hub.stderr[-4000:]}"
            )
            ran.append(f"line {block.line} ({block.language})")

    with capsys.disabled():
        print(f"\nREADME blocks run: {', '.join(ran)}")
        print("README blocks not run:\n  " + "\n  ".join(skipped))
    assert ran
