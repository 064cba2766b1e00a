"""Where the client takes its endpoint and token from: arguments, then the environment.

The variables are the ones the Hugging Face ecosystem uses, and the token file is the one
`hf auth login` writes, so a machine set up for one client works with the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hubstead import errors
from hubstead.client.api import HfApi, create_repo, delete_repo, list_models, repo_exists
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

DEAD_ENDPOINT = "http://127.0.0.1:9"  # discard port: nothing answers there


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HF_HOME of the test's own, and no token in the environment."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    return home


def test_endpoint_and_token_come_from_hf_variables(
    hf_home: Path, live_server: LiveServer, user: HubUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", live_server.url + "/")
    monkeypatch.setenv("HF_TOKEN", user.token)

    with HfApi() as api:
        assert api.endpoint == live_server.url
        assert api.whoami()["name"] == user.name


def test_explicit_arguments_win_over_the_environment(
    hf_home: Path,
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    monkeypatch.setenv("HF_TOKEN", other_user.token)

    with HfApi(endpoint=live_server.url, token=user.token) as api:
        assert api.whoami()["name"] == user.name
        # A per-call token wins over the client's.
        assert api.whoami(token=other_user.token)["name"] == other_user.name


def test_the_token_file_hf_auth_login_writes_is_used(
    hf_home: Path, live_server: LiveServer, user: HubUser
) -> None:
    environment = {
        **os.environ,
        "HF_HOME": str(hf_home),
        "HF_ENDPOINT": live_server.url,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "huggingface_hub.cli.hf", "auth", "login", "--token", user.token],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr

    with HfApi(endpoint=live_server.url) as api:
        assert api.token == user.token
        assert api.whoami()["name"] == user.name


def test_hf_token_wins_over_the_token_file(
    hf_home: Path,
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hf_home.mkdir()
    (hf_home / "token").write_text(other_user.token + "\n")
    monkeypatch.setenv("HF_TOKEN", user.token)

    with HfApi(endpoint=live_server.url) as api:
        assert api.whoami()["name"] == user.name


def test_hf_token_path_names_another_token_file(
    hf_home: Path,
    tmp_path: Path,
    live_server: LiveServer,
    user: HubUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token_file = tmp_path / "elsewhere" / "my-token"
    token_file.parent.mkdir()
    token_file.write_text(user.token)
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))

    with HfApi(endpoint=live_server.url) as api:
        assert api.config.token_path == token_file
        assert api.whoami()["name"] == user.name


def test_trust_env_false_ignores_every_variable_and_file(
    hf_home: Path, user: HubUser, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hf_home.mkdir()
    (hf_home / "token").write_text(user.token)
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.setenv("HF_TOKEN", user.token)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with HfApi(trust_env=False) as api:
        assert api.endpoint == "https://huggingface.co"
        assert api.token is None
        assert not api.config.offline
        with pytest.raises(errors.LocalTokenNotFoundError):
            api.whoami()


def test_token_false_sends_no_token_even_when_one_is_set(
    hf_home: Path,
    live_server: LiveServer,
    user: HubUser,
    repo_factory: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo_id = repo_factory(private=True)  # type: ignore[operator]
    monkeypatch.setenv("HF_TOKEN", user.token)

    with HfApi(endpoint=live_server.url) as api:
        assert api.repo_exists(repo_id)
        assert not api.repo_exists(repo_id, token=False)
    with HfApi(endpoint=live_server.url, token=False) as anonymous:
        assert not anonymous.repo_exists(repo_id)
        with pytest.raises(errors.LocalTokenNotFoundError):
            anonymous.whoami()


def test_offline_mode_refuses_requests(
    hf_home: Path, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with (
        HfApi(endpoint=live_server.url, token=False) as api,
        pytest.raises(errors.OfflineModeIsEnabled),
    ):
        api.repo_info("someone/something")


def test_hubstead_variables_are_aliases_of_the_hf_ones(
    hf_home: Path, live_server: LiveServer, user: HubUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSTEAD_ENDPOINT", live_server.url)
    monkeypatch.setenv("HUBSTEAD_TOKEN", user.token)

    with HfApi() as api:
        assert api.whoami()["name"] == user.name


def test_module_functions_read_the_environment_at_each_call(
    hf_home: Path, live_server: LiveServer, user: HubUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_id = f"{user.name}/{unique_name('functions')}"
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.setenv("HF_TOKEN", user.token)

    url = create_repo(repo_id, private=True)

    assert url.repo_id == repo_id
    assert [m.id for m in list_models(author=user.name)] == [repo_id]
    monkeypatch.delenv("HF_TOKEN")
    assert not repo_exists(repo_id)
    monkeypatch.setenv("HF_TOKEN", user.token)
    delete_repo(repo_id)
    assert not user.api.repo_exists(repo_id)


def test_retries_and_download_options_come_from_hubstead_variables(
    hf_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSTEAD_MAX_RETRIES", "0")
    monkeypatch.setenv("HUBSTEAD_DOWNLOAD_CONNECTIONS", "3")
    monkeypatch.setenv("HUBSTEAD_DOWNLOAD_CHUNK_SIZE", "1048576")

    with HfApi(endpoint=DEAD_ENDPOINT) as api, HfApi(trust_env=False) as untrusting:
        started = time.monotonic()
        with pytest.raises(httpx.ConnectError):
            api.repo_info("someone/something")
        elapsed = time.monotonic() - started
        configured = (api.config.download_connections, api.config.download_chunk_size)
        ignored = (untrusting.config.download_connections, untrusting.config.download_chunk_size)
        retries = (api.session.max_retries, untrusting.session.max_retries)

    assert elapsed < 1  # not retried
    assert configured == (3, 1048576)
    assert ignored == (None, None)
    assert retries == (0, 5)


def test_a_malformed_hubstead_number_is_refused_with_its_name(
    hf_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSTEAD_MAX_RETRIES", "lots")

    with pytest.raises(errors.HFValidationError, match="HUBSTEAD_MAX_RETRIES"):
        HfApi(endpoint=DEAD_ENDPOINT)
