"""Cross-repo `CommitOperationCopy` of LFS files: `/lfs-files/duplicate`, then the commit.

The official client copies an LFS file from another repo only when the source's tree entry has
a `xetHash`: it asks the source repo to let the target reference the object, then commits a
pointer to it. No byte moves.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationCopy, RepoFile, hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

pytestmark = pytest.mark.usefixtures("xet")


def _xet_file(user: HubUser, repo: str, path: str, size: int = 300_000) -> bytes:
    payload = os.urandom(size)
    user.api.upload_file(path_or_fileobj=payload, path_in_repo=path, repo_id=repo)
    return payload


def _lfs_entry(user: HubUser, repo: str, path: str) -> tuple[str, str | None]:
    """The sha256 and the Xet hash of an LFS file, as the tree shows them."""
    (entry,) = user.api.get_paths_info(repo, [path])
    assert isinstance(entry, RepoFile) and entry.lfs is not None
    return entry.lfs.sha256, entry.xet_hash


def _copy(src: str, path: str) -> CommitOperationCopy:
    return CommitOperationCopy(path, path, src_repo_id=src, src_repo_type="model")


def test_a_file_copied_from_another_repo_downloads_from_the_target(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    source = user.api.create_repo(f"{user.name}/{unique_name('src')}").repo_id
    target = user.api.create_repo(f"{user.name}/{unique_name('dst')}").repo_id
    payload = _xet_file(user, source, "weights.bin")

    user.api.create_commit(target, [_copy(source, "weights.bin")], commit_message="copy")

    sha256, xet_hash = _lfs_entry(user, target, "weights.bin")
    assert sha256 == hashlib.sha256(payload).hexdigest()
    assert xet_hash is not None
    downloaded = hf_hub_download(
        target, "weights.bin", token=user.token, endpoint=live_server.url, cache_dir=tmp_path
    )
    assert Path(downloaded).read_bytes() == payload


def test_copying_from_a_private_repo_of_someone_else_is_refused(
    user: HubUser, other_user: HubUser
) -> None:
    source = other_user.api.create_repo(
        f"{other_user.name}/{unique_name('secret')}", private=True
    ).repo_id
    _xet_file(other_user, source, "secret.bin")
    target = user.api.create_repo(f"{user.name}/{unique_name('dst')}").repo_id
    # The thief cannot list the private tree, so they forge the request the client would send.
    sha, _ = _lfs_entry(other_user, source, "secret.bin")

    response = httpx.post(
        f"{user.api.endpoint}/api/models/{source}/lfs-files/duplicate",
        headers={"Authorization": f"Bearer {user.token}"},
        json={"target": {"type": "model", "name": target}, "files": [{"sha256": sha}]},
    )

    assert response.status_code == 404
    with pytest.raises(BadRequestError, match="has not been uploaded"):
        user.api.create_commit(
            target,
            [_copy_by_pointer(sha)],
            commit_message="steal",
        )


def _copy_by_pointer(sha256: str) -> CommitOperationAdd:
    """An LFS add that claims to be uploaded already: a pointer to someone else's object."""
    operation = CommitOperationAdd("stolen.bin", b"x")
    operation.upload_info.sha256 = bytes.fromhex(sha256)
    operation._upload_mode = "lfs"
    operation._is_uploaded = True
    return operation


def test_copying_into_a_repo_the_caller_cannot_write_is_refused(
    user: HubUser, other_user: HubUser
) -> None:
    source = user.api.create_repo(f"{user.name}/{unique_name('src')}").repo_id
    _xet_file(user, source, "weights.bin")
    target = other_user.api.create_repo(f"{other_user.name}/{unique_name('dst')}").repo_id

    with pytest.raises(HfHubHTTPError) as raised:
        user.api.create_commit(target, [_copy(source, "weights.bin")], commit_message="x")

    assert raised.value.response.status_code == 403


def test_objects_the_source_does_not_hold_are_reported_failed_and_nothing_is_linked(
    user: HubUser,
) -> None:
    source = user.api.create_repo(f"{user.name}/{unique_name('src')}").repo_id
    target = user.api.create_repo(f"{user.name}/{unique_name('dst')}").repo_id
    _xet_file(user, source, "weights.bin")
    sha256, xet_hash = _lfs_entry(user, source, "weights.bin")
    unknown = hashlib.sha256(b"never uploaded").hexdigest()

    response = httpx.post(
        f"{user.api.endpoint}/api/models/{source}/lfs-files/duplicate",
        headers={"Authorization": f"Bearer {user.token}"},
        json={
            "target": {"type": "model", "name": target},
            "files": [
                {"sha256": unknown, "xetHash": xet_hash, "filename": "a"},
                {"sha256": sha256, "xetHash": "0" * 64, "filename": "b"},
            ],
        },
    )

    assert response.status_code == 200
    failed = {f["sha256"]: f["error"] for f in response.json()["failed"]}
    assert "holds no LFS object" in failed[unknown]
    assert "is not the Xet hash" in failed[sha256]
    assert list(user.api.list_lfs_files(target)) == []


def test_a_missing_source_repo_is_a_repo_not_found(user: HubUser) -> None:
    target = user.api.create_repo(f"{user.name}/{unique_name('dst')}").repo_id

    with pytest.raises(RepositoryNotFoundError):
        user.api.create_commit(
            target,
            [_copy(f"{user.name}/{unique_name('nothing')}", "weights.bin")],
            commit_message="x",
        )


@pytest.mark.parametrize(
    "body",
    [
        {"files": []},
        {"target": {"type": "model", "name": "a/b"}},
        {"target": {"type": "bucket", "name": "a/b"}, "files": []},
        {"target": {"type": "model"}, "files": []},
        {"target": {"type": "model", "name": "a/b"}, "files": [{"xetHash": "x"}]},
        {"target": {"type": "model", "name": "a/b"}, "files": [{"sha256": "a", "xetHash": 3}]},
    ],
)
def test_a_malformed_duplicate_request_is_a_400(
    user: HubUser, repo: str, body: dict[str, object]
) -> None:
    response = httpx.post(
        f"{user.api.endpoint}/api/models/{repo}/lfs-files/duplicate",
        headers={"Authorization": f"Bearer {user.token}"},
        json=body,
    )

    assert response.status_code == 400
    assert response.json()["error"]
