"""Gated repos and access requests through the unmodified official client.

A user asks for access on the Hub's web route (`POST /{repo}/ask-access`, the gate's form;
the official client has no method for it); the repo's managers use the client's access
request methods. Downloads of regular, LFS and Xet files follow every decision at once: a
GatedRepoError until access is accepted or granted, the bytes then, the error again once the
request is rejected or cancelled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)
from huggingface_hub.hf_api import AccessRequest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import hub_serves_downloads
from tests.helpers.xet import AccessLog, assert_downloaded_through_xet

KiB = 1024


def ask_access(
    server: LiveServer, user: HubUser, repo: str, prefix: str = "", **fields: str
) -> httpx.Response:
    """Submit the gate's form as `user` (the browser's request)."""
    response = httpx.post(
        f"{server.url}/{prefix}{repo}/ask-access",
        data=fields,
        headers={"authorization": f"Bearer {user.token}"},
    )
    response.raise_for_status()
    return response


def gated_repo(
    owner: HubUser,
    mode: Literal["auto", "manual"],
    files: dict[str, bytes],
    repo_type: str = "model",
) -> str:
    """A new gated repo of `owner` holding `files`."""
    repo = f"{owner.name}/{unique_name('gated')}"
    owner.api.create_repo(repo, repo_type=repo_type)
    for path, data in files.items():
        owner.api.upload_file(
            path_or_fileobj=data, path_in_repo=path, repo_id=repo, repo_type=repo_type
        )
    owner.api.update_repo_settings(repo, gated=mode, repo_type=repo_type)
    return repo


def downloader(
    server: LiveServer, user: HubUser, repo: str, cache: Path, repo_type: str = "model"
) -> Callable[[str], bytes]:
    """Download a file of `repo` as `user` into a fresh cache each time (no cached copy helps)."""
    count = iter(range(1000))

    def download(path: str) -> bytes:
        local = hf_hub_download(
            repo,
            path,
            repo_type=repo_type,
            endpoint=server.url,
            token=user.token,
            cache_dir=cache / str(next(count)),
        )
        return Path(local).read_bytes()

    return download


def usernames(requests: list[AccessRequest]) -> list[str | None]:
    return [request.username for request in requests]


# --- the download flow -------------------------------------------------------------------------


def test_downloads_follow_a_manual_gates_decisions(
    live_server: LiveServer, user: HubUser, other_user: HubUser, tmp_path: Path
) -> None:
    files = {"README.md": b"# gated\n", "weights.bin": os.urandom(20 * KiB)}
    repo = gated_repo(user, "manual", files)
    download = downloader(live_server, other_user, repo, tmp_path)
    with pytest.raises(GatedRepoError):
        download("weights.bin")

    asked = ask_access(live_server, other_user, repo, name="Other", affiliation="Lab").json()

    assert asked["status"] == "pending"
    [pending] = list(user.api.list_pending_access_requests(repo))
    assert (pending.username, pending.status) == (other_user.name, "pending")
    assert pending.fullname == f"Test {other_user.name}"
    assert pending.fields == {"name": "Other", "affiliation": "Lab"}
    assert pending.request_id == asked["requestId"]
    with pytest.raises(GatedRepoError):
        download("weights.bin")

    user.api.accept_access_request(repo, other_user.name)

    assert download("weights.bin") == files["weights.bin"]
    assert download("README.md") == files["README.md"]
    assert usernames(list(user.api.list_accepted_access_requests(repo))) == [other_user.name]
    assert list(user.api.list_pending_access_requests(repo)) == []

    user.api.reject_access_request(repo, other_user.name, rejection_reason="Not this time")

    with pytest.raises(GatedRepoError):
        download("weights.bin")
    [rejected] = list(user.api.list_rejected_access_requests(repo))
    assert (rejected.username, rejected.status) == (other_user.name, "rejected")
    # Asking again does not undo a rejection.
    assert ask_access(live_server, other_user, repo).json()["status"] == "rejected"

    user.api.cancel_access_request(repo, request_id=rejected.request_id)

    assert usernames(list(user.api.list_pending_access_requests(repo))) == [other_user.name]
    with pytest.raises(GatedRepoError):
        download("README.md")


def test_an_auto_gate_accepts_a_request_at_once(
    live_server: LiveServer, user: HubUser, other_user: HubUser, tmp_path: Path
) -> None:
    files = {"weights.bin": os.urandom(5 * KiB)}
    repo = gated_repo(user, "auto", files, "dataset")
    download = downloader(live_server, other_user, repo, tmp_path, "dataset")

    assert ask_access(live_server, other_user, repo, "datasets/").json()["status"] == "accepted"

    assert download("weights.bin") == files["weights.bin"]
    listed = list(user.api.list_accepted_access_requests(repo, repo_type="dataset"))
    assert usernames(listed) == [other_user.name]

    user.api.cancel_access_request(repo, other_user.name, repo_type="dataset")

    with pytest.raises(GatedRepoError):
        download("weights.bin")


def test_granted_access_opens_the_files_without_a_request(
    live_server: LiveServer, user: HubUser, other_user: HubUser, tmp_path: Path
) -> None:
    files = {"weights.bin": os.urandom(3 * KiB)}
    repo = gated_repo(user, "manual", files)
    download = downloader(live_server, other_user, repo, tmp_path)

    user.api.grant_access(repo, other_user.name)

    assert download("weights.bin") == files["weights.bin"]
    [granted] = list(user.api.list_accepted_access_requests(repo))
    assert (granted.username, granted.email, granted.fields) == (other_user.name, None, {})
    with pytest.raises(BadRequestError, match="already has access"):
        user.api.grant_access(repo, other_user.name)


@hub_serves_downloads
def test_xet_downloads_follow_the_decisions(
    xet: None,
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    tmp_path: Path,
) -> None:
    files = {"model.safetensors": os.urandom(300 * KiB)}
    repo = gated_repo(user, "manual", files)
    download = downloader(live_server, other_user, repo, tmp_path)
    ask_access(live_server, other_user, repo)
    with pytest.raises(GatedRepoError):
        download("model.safetensors")

    user.api.accept_access_request(repo, other_user.name)

    with AccessLog() as log:
        assert download("model.safetensors") == files["model.safetensors"]
    assert_downloaded_through_xet(log)

    user.api.cancel_access_request(repo, other_user.name)

    with pytest.raises(GatedRepoError):
        download("model.safetensors")


# --- who manages -------------------------------------------------------------------------------


def test_org_admins_and_writers_manage_but_readers_do_not(
    live_server: LiveServer, other_user: HubUser
) -> None:
    admin, writer, reader = (make_user(live_server, prefix) for prefix in ("adm", "wri", "rea"))
    org = make_org(
        live_server, {admin.name: Role.ADMIN, writer.name: Role.WRITE, reader.name: Role.READ}
    )
    repo = f"{org}/{unique_name('gated')}"
    admin.api.create_repo(repo)
    admin.api.update_repo_settings(repo, gated="manual")
    ask_access(live_server, other_user, repo)

    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.accept_access_request(repo, other_user.name)
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.accept_access_request(repo, other_user.name)
    assert caught.value.response.status_code == 403
    assert "manage access requests" in str(caught.value)

    admin.api.accept_access_request(repo, other_user.name)
    writer.api.reject_access_request(repo, other_user.name, rejection_reason=None)

    assert usernames(list(admin.api.list_rejected_access_requests(repo))) == [other_user.name]


def test_mistakes_get_clear_errors(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, other_user: HubUser, repo: str
) -> None:
    with pytest.raises(BadRequestError, match="is not gated"):
        list(hf_api.list_pending_access_requests(repo))
    with pytest.raises(BadRequestError, match="is not gated"):
        hf_api.grant_access(repo, other_user.name)
    hf_api.update_repo_settings(repo, gated="manual")

    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.grant_access(repo, unique_name("nobody"))
    assert caught.value.response.status_code == 404
    assert "No user named" in str(caught.value)
    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.accept_access_request(repo, other_user.name)
    assert caught.value.response.status_code == 404
    assert "has no access request from" in str(caught.value)

    ask_access(live_server, other_user, repo)
    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.cancel_access_request(repo, other_user.name)
    assert caught.value.response.status_code == 404
    assert "is already pending" in str(caught.value)


def test_a_private_gated_repo_stays_invisible_to_outsiders(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    repo = gated_repo(user, "manual", {})
    user.api.update_repo_settings(repo, private=True)

    with pytest.raises(RepositoryNotFoundError):
        list(other_user.api.list_pending_access_requests(repo))
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.grant_access(repo, other_user.name)
    response = httpx.post(
        f"{live_server.url}/{repo}/ask-access",
        headers={"authorization": f"Bearer {other_user.token}"},
    )
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "RepoNotFound"
