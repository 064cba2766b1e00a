"""`hubstead login|logout|whoami` against the live hub, on a private HF_HOME."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


@pytest.fixture
def environment(tmp_path: Path, live_server: LiveServer) -> dict[str, str | None]:
    """The variables every command here runs with: the live hub and an empty HF_HOME."""
    return {"HF_ENDPOINT": live_server.url, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": None}


def run(environment: dict[str, str | None], *args: str, **extra: str | None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**environment, **extra})


def test_login_with_a_token_then_whoami_and_logout(
    environment: dict[str, str | None], user: HubUser
) -> None:
    logged_in = run(environment, "login", "--token", user.token)

    assert logged_in.exit_code == 0, logged_in.output
    assert f"Logged in as {user.name}" in logged_in.stdout
    assert "write" in logged_in.stdout
    me = run(environment, "whoami")
    assert (me.exit_code, me.stdout.splitlines()[0]) == (0, user.name)
    as_json = json.loads(run(environment, "whoami", "--json").stdout)
    assert as_json["name"] == user.name

    logged_out = run(environment, "logout")

    assert logged_out.exit_code == 0
    nobody = run(environment, "whoami")
    assert nobody.exit_code == 3
    assert "hubstead login" in nobody.stderr


def test_login_takes_the_token_from_hf_token(
    environment: dict[str, str | None], user: HubUser
) -> None:
    result = run(environment, "login", HF_TOKEN=user.token)

    assert result.exit_code == 0, result.output
    assert Path(str(environment["HF_HOME"]), "token").read_text() == user.token


def test_login_without_a_token_or_terminal_is_a_usage_error(
    environment: dict[str, str | None],
) -> None:
    result = run(environment, "login")

    assert result.exit_code == 1
    assert "--token" in result.stderr
    assert not Path(str(environment["HF_HOME"])).exists()


def test_a_refused_token_exits_with_the_auth_code(environment: dict[str, str | None]) -> None:
    result = run(environment, "login", "--token", "hf_wrong_wrong_wrong")

    assert result.exit_code == 3
    assert "401" in result.stderr


def test_whoami_with_an_explicit_token_and_offline(
    environment: dict[str, str | None], user: HubUser
) -> None:
    explicit = run(environment, "whoami", "--token", user.token)
    offline = run(environment, "whoami", "--token", user.token, HF_HUB_OFFLINE="1")

    assert explicit.stdout.splitlines()[0] == user.name
    assert offline.exit_code == 5
    assert "offline mode" in offline.stderr


def test_logout_of_an_unknown_token_name_fails(environment: dict[str, str | None]) -> None:
    result = run(environment, "logout", "--token-name", "nope")

    assert result.exit_code == 1
    assert "nope" in result.stderr


def _read_until(fd: int, marker: bytes, deadline: float) -> bytes:
    seen = b""
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_login_asks_for_the_token_without_echoing_it_on_a_terminal(
    environment: dict[str, str | None], user: HubUser
) -> None:
    child_env = {k: v for k, v in {**os.environ, **environment}.items() if v is not None}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: `hubstead login` with the pty as its controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "hubstead.cli", "login"], child_env)
    deadline = time.monotonic() + 60
    prompt = _read_until(terminal, b"Token", deadline)
    os.write(terminal, user.token.encode() + b"\n")
    rest = _read_until(terminal, b"Logged in", deadline)
    rest += _read_until(terminal, b"\n", deadline)
    _, status = os.waitpid(pid, 0)
    os.close(terminal)

    assert b"Token" in prompt
    assert os.waitstatus_to_exitcode(status) == 0, rest
    assert f"Logged in as {user.name}".encode() in rest
    assert user.token.encode() not in prompt + rest
    assert Path(str(environment["HF_HOME"]), "token").read_text() == user.token


def test_an_unreachable_hub_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    environment: dict[str, str | None] = {
        "HF_ENDPOINT": dead,
        "HF_HOME": str(tmp_path),
        "HUBSTEAD_MAX_RETRIES": "0",
    }

    result = run(environment, "whoami", "--token", "hf_anything")

    assert result.exit_code == 5
    assert f"Cannot reach the hub at {dead}" in result.stderr
    assert "HF_ENDPOINT" in result.stderr


def test_whoami_without_a_token_says_how_to_give_one(environment: dict[str, str | None]) -> None:
    result = run(environment, "whoami")

    assert result.exit_code == 3
    assert "--token" in result.stderr and "HF_TOKEN" in result.stderr
