"""`hubstead.login`/`logout`/`whoami`: the token files are the ones `huggingface_hub` uses.

Interop is proven by running the official client in a subprocess on the same HF_HOME (it reads
its configuration once, at import, so it cannot be re-pointed in this process).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hubstead import errors
from hubstead.client.api import HfApi
from hubstead.client.auth import login, logout, whoami
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_server: LiveServer) -> Path:
    """A private HF_HOME and HF_ENDPOINT pointing at the live hub; no token in the env."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return home


def official(hf_home: Path, code: str) -> str:
    """Run `code` with the official client on `hf_home`; return its stdout."""
    environment = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_DISABLE_IMPLICIT_TOKEN": ""}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


# The active token and the stored ones, as the official client reads them.
STORED = (
    "import json, huggingface_hub as h; from huggingface_hub.utils._auth import get_stored_tokens; "
    "print(json.dumps([h.get_token(), get_stored_tokens()]))"
)


def test_login_stores_the_token_where_the_official_client_finds_it(
    hf_home: Path, user: HubUser
) -> None:
    account = login(user.token)

    assert account["name"] == user.name
    token_file = hf_home / "token"
    assert token_file.read_text() == user.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((hf_home / "stored_tokens").stat().st_mode) == 0o600
    token_name = account["auth"]["accessToken"]["displayName"]
    active, stored = json.loads(official(hf_home, STORED))
    assert active == user.token
    assert stored == {token_name: user.token}
    assert whoami()["name"] == user.name
    with HfApi() as api:
        assert api.token == user.token


def test_a_second_login_becomes_active_and_both_stay_stored_by_token_name(
    hf_home: Path, live_server: LiveServer, user: HubUser
) -> None:
    second = make_user(live_server, "second")
    desktop = live_server.services.auth.create_token(second.name, Role.WRITE, name="desktop")
    first_name = login(user.token)["auth"]["accessToken"]["displayName"]

    login(desktop.secret)

    assert whoami()["name"] == second.name
    active, stored = json.loads(official(hf_home, STORED))
    assert active == desktop.secret
    assert stored == {first_name: user.token, "desktop": desktop.secret}


def test_a_login_by_the_official_client_is_forgotten_by_hubstead_logout(
    hf_home: Path, live_server: LiveServer, user: HubUser
) -> None:
    official(hf_home, f"import huggingface_hub as h; h.login(token={user.token!r})")
    assert whoami()["name"] == user.name

    logout()

    assert not (hf_home / "token").exists()
    assert json.loads(official(hf_home, STORED)) == [None, {}]
    with pytest.raises(errors.LocalTokenNotFoundError):
        whoami()


def test_logout_of_one_named_token_keeps_the_others(
    hf_home: Path, live_server: LiveServer, user: HubUser
) -> None:
    laptop = live_server.services.auth.create_token(user.name, Role.WRITE, name="laptop").secret
    ci = live_server.services.auth.create_token(user.name, Role.READ, name="ci").secret
    login(laptop)
    login(ci)

    logout("laptop")

    assert json.loads(official(hf_home, STORED)) == [ci, {"ci": ci}]
    with pytest.raises(errors.HFValidationError):
        logout("laptop")

    logout("ci")

    assert json.loads(official(hf_home, STORED)) == [None, {}]


def test_a_refused_token_is_not_stored(hf_home: Path) -> None:
    with pytest.raises(errors.HfHubHTTPError) as caught:
        login("hf_not_a_real_token_at_all")

    assert caught.value.status_code == 401
    assert not hf_home.exists() or not any(hf_home.iterdir())


def test_login_without_a_token_keeps_a_valid_stored_one(hf_home: Path, user: HubUser) -> None:
    login(user.token)

    assert login()["name"] == user.name
    with pytest.raises(errors.LocalTokenNotFoundError):
        login(skip_if_logged_in=False)  # asks for a new token: there is no terminal


def test_login_without_a_token_and_without_a_terminal_fails(hf_home: Path) -> None:
    with pytest.raises(errors.LocalTokenNotFoundError):
        login()
    with pytest.raises(errors.LocalTokenNotFoundError):
        login("   ")


@pytest.fixture
def git_credential_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git configured, for this test only, to keep credentials in a plain file."""
    store = tmp_path / "git-credentials"
    config = tmp_path / "gitconfig"
    config.write_text(f"[credential]\n\thelper = store --file={store}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    return store


def git_ls_remote(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "ls-remote", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_token_given_to_git_lets_git_read_a_private_repo_until_logout(
    hf_home: Path,
    git_credential_store: Path,
    live_server: LiveServer,
    user: HubUser,
) -> None:
    repo_id = f"{user.name}/private-{os.getpid()}-{id(user)}"
    user.api.create_repo(repo_id, private=True)
    head = user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id).oid
    remote = f"{live_server.url}/{repo_id}"
    assert git_ls_remote(remote).returncode != 0

    login(user.token, add_to_git_credential=True)

    assert user.token in git_credential_store.read_text()
    listed = git_ls_remote(remote)
    assert listed.returncode == 0, listed.stderr
    assert f"{head}\trefs/heads/main" in listed.stdout

    logout()

    assert user.token not in git_credential_store.read_text()
    assert git_ls_remote(remote).returncode != 0
    user.api.delete_repo(repo_id)
