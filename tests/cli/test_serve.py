"""`hubstead serve` and `hubstead check-config`: the real command, as an operator runs it."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from huggingface_hub import HfApi

from hubstead.cli.main import cli
from hubstead.server.settings import settings_help
from tests.helpers.accounts import unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.processes import serving


def test_first_start_creates_an_admin_and_prints_its_token_and_the_exports(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"

    with serving(["--port", "0", "--data-dir", str(data_dir)]) as server:
        url = server.wait_until_serving()
        endpoint, token = server.exported("HF_ENDPOINT"), server.exported("HF_TOKEN")
        assert endpoint == url
        assert token is not None and token.startswith("hf_")
        api = HfApi(endpoint=endpoint, token=token)
        assert api.whoami()["name"] == "admin"
        repo_url = api.create_repo(f"admin/{unique_name('first')}")
        assert repo_url.startswith(f"{url}/admin/")
        assert server.stop(signal.SIGTERM) == 0
    assert "hubstead stopped" in server.stderr
    assert re.search(r'"POST /api/repos/create" 200 .* \[[0-9a-f]{32}\]', server.stderr)
    assert "Traceback" not in server.stderr

    with serving(["--port", "0", "--data-dir", str(data_dir)]) as again:
        url = again.wait_until_serving()
        assert again.exported("HF_ENDPOINT") == url
        assert again.exported("HF_TOKEN") is None
        assert "hf_" not in again.stderr
        assert HfApi(endpoint=url, token=token).whoami()["name"] == "admin"
        assert again.stop(signal.SIGINT) == 0
    assert "Traceback" not in again.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_public_url_is_printed_and_used_in_returned_urls_and_log_level_applies(
    tmp_path: Path,
) -> None:
    # The public URL names this machine differently from how the test reaches it, so the URLs
    # the hub returns can only have come from the setting, not from the request.
    port = free_port()
    public = f"http://localhost:{port}"
    env = {"HUBSTEAD_DATA_DIR": str(tmp_path / "data"), "HUBSTEAD_PORT": str(port)}

    with serving(["--public-url", public + "/", "--log-level", "WARNING"], env) as server:
        local = server.wait_until_serving()
        assert local == f"http://127.0.0.1:{port}"
        assert server.exported("HF_ENDPOINT") == public
        token = server.exported("HF_TOKEN")
        repo_id = f"admin/{unique_name('public')}"

        created = httpx.post(
            f"{local}/api/repos/create",
            json={"name": repo_id.split("/")[1], "organization": "admin"},
            headers={"authorization": f"Bearer {token}"},
        )
        api = HfApi(endpoint=public, token=token)
        commit = api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="a.txt", repo_id=repo_id)

        assert created.status_code == 200, created.text
        assert created.json()["url"] == f"{public}/{repo_id}"
        assert commit.commit_url == f"{public}/{repo_id}/commit/{commit.oid}"
        assert server.stop() == 0
    assert (tmp_path / "data" / "hubstead.sqlite3").exists()
    assert "/api/repos/create" not in server.stderr  # the access log is at info level


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_returned_urls_follow_the_host_the_client_used(live_server: LiveServer, host: str) -> None:
    from tests.helpers.accounts import make_user

    owner = make_user(live_server)
    endpoint = f"http://{host}:{live_server.port}"
    api = HfApi(endpoint=endpoint, token=owner.token)
    repo_id = f"{owner.name}/{unique_name('host')}"

    repo_url = api.create_repo(repo_id)
    commit = api.upload_file(path_or_fileobj=b"x\n", path_in_repo="x.txt", repo_id=repo_id)

    assert repo_url == f"{endpoint}/{repo_id}"
    assert commit.commit_url == f"{endpoint}/{repo_id}/commit/{commit.oid}"
    assert repo_url.endpoint == endpoint


def test_invalid_settings_exit_nonzero_listing_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('colour = "blue"\nmax_json_bytes = 0\n')

    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--port",
            "70000",
            "--public-url",
            "not-a-url",
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "data"),
        ],
    )

    assert result.exit_code == 1
    for problem in (
        "unknown setting 'colour'",
        "port: 70000",
        "public_url: 'not-a-url'",
        "max_json_bytes: must be positive",
    ):
        assert problem in result.stderr
    assert not (tmp_path / "data").exists()


def test_invalid_environment_variable_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve", "--data-dir", str(tmp_path)],
        env={"HUBSTEAD_PORT": "eighty"},
    )

    assert result.exit_code == 1
    assert "port: expected an integer, got 'eighty'" in result.stderr


def test_help_settings_lists_every_setting_with_flag_and_variable() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help-settings"])

    assert result.exit_code == 0
    for row in settings_help():
        assert re.search(rf"^{row.key}$", result.stdout, re.MULTILINE)
        assert row.env in result.stdout
    assert "--public-url  HUBSTEAD_PUBLIC_URL" in result.stdout
    assert "(no flag)  HUBSTEAD_MAX_JSON_BYTES" in result.stdout


def test_busy_port_exits_with_a_message_before_creating_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = CliRunner().invoke(
            cli, ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
        )

    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "data").exists()


def test_unreachable_database_exits_5_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+psycopg://hub:s3cret@127.0.0.1:{port}/hub?connect_timeout=5"

    result = CliRunner().invoke(
        cli, ["serve", "--port", "0", "--data-dir", str(tmp_path), "--database-url", url]
    )

    assert result.exit_code == 5, result.output
    assert "cannot open" in result.stderr
    assert "s3cret" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_check_config_prints_effective_values_with_secrets_hidden(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\n')

    result = CliRunner().invoke(
        cli,
        [
            "check-config",
            "--config",
            str(config),
            "--database-url",
            "postgresql+psycopg://hub:s3cret@db.example.test/hub",
        ],
        env={"HUBSTEAD_PORT": "9002", "HUBSTEAD_DATA_DIR": str(tmp_path / "data")},
    )

    assert result.exit_code == 0, result.output
    lines = set(result.stdout.splitlines())
    assert {"port = 9002", "host = 0.0.0.0", "database_url = ********"} <= lines
    assert f"data_dir = {tmp_path / 'data'}" in lines
    assert "s3cret" not in result.stdout


def test_readme_opens_with_the_serve_command_and_the_command_ci_runs() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci_command = (root / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]

    assert ci_command == "exec scripts/test"
    # The `not run` markers (HTML comments: invisible on the rendered page) are for tests/docs.
    opening = re.sub(r"<!-- not run: .* -->\n", "", readme)
    assert opening.startswith(
        "# hubstead\n\n```sh\nscripts/serve\n```\n\n```sh\nscripts/test\n```\n\n"
    )
