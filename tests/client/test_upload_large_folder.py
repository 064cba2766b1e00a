"""`upload_large_folder`: batched commits, and resuming after a real interruption.

The interruptions are dropped connections (a recording proxy closes the connection under a
chosen request, and the client is told not to retry), like a network failure or a hub going
away. The proxy's record shows what the next run sends again: nothing already stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import RepoFile
from huggingface_hub._local_folder import read_upload_metadata
from huggingface_hub.hf_api import BlobLfsInfo

from hubstead.client.api import HfApi
from hubstead.client.models import CommitInfo
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.lfs import sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.proxy import RecordingProxy

TITLE = "Add files using upload-large-folder tool"
LFS_FILES = 110
TEXT_FILES = 5


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(live_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """LFS_FILES small binary files (the hub sends them through LFS) and a few text files."""
    root = tmp_path / "data"
    for n in range(LFS_FILES):
        shard = root / f"shard-{n // 40}"
        shard.mkdir(parents=True, exist_ok=True)
        (shard / f"{n:03}.bin").write_bytes(b"\0" + os.urandom(63))
    for n in range(TEXT_FILES):
        (root / f"notes-{n}.txt").write_text(f"note {n}\n")
    return root


def upload(
    api: HfApi, repo: str, folder: Path, *, private: bool | None = None
) -> CommitInfo | None:
    return api.upload_large_folder(
        repo, folder, repo_type="model", private=private, print_report=False
    )


def lfs_info(user: HubUser, repo: str, path: str) -> BlobLfsInfo:
    (entry,) = user.api.get_paths_info(repo, [path])
    assert isinstance(entry, RepoFile) and entry.lfs is not None
    return entry.lfs


def titles(user: HubUser, repo: str) -> list[str]:
    return [c.title for c in user.api.list_repo_commits(repo)]


def test_large_folder_is_committed_in_batches_into_a_new_repo(
    client: HfApi, user: HubUser, folder: Path
) -> None:
    repo = f"{user.name}/{unique_name('large')}"

    last = upload(client, repo, folder, private=True)

    assert user.api.repo_info(repo).private is True
    assert titles(user, repo)[:2] == [TITLE, TITLE]
    assert len(titles(user, repo)) == 3  # the repo's initial commit, then 100 files, then 15
    assert last is not None
    assert last.oid == user.api.list_repo_commits(repo)[0].commit_id
    files = user.api.list_repo_files(repo)
    assert len(files) == LFS_FILES + TEXT_FILES + 1
    lfs = lfs_info(user, repo, "shard-0/007.bin")
    assert lfs.sha256 == sha256((folder / "shard-0" / "007.bin").read_bytes())
    # huggingface_hub reads the state we left, so it would not upload these again either.
    state = read_upload_metadata(folder, "shard-0/007.bin")
    assert (state.is_committed, state.sha256, state.upload_mode) == (True, lfs.sha256, "lfs")


def test_a_finished_upload_run_again_sends_nothing_but_what_changed(
    user: HubUser, folder: Path, proxy: RecordingProxy
) -> None:
    repo = f"{user.name}/{unique_name('rerun')}"
    with HfApi(endpoint=proxy.url, token=user.token, trust_env=False) as api:
        upload(api, repo, folder)
        commits = len(titles(user, repo))
        proxy.seen.clear()
        assert upload(api, repo, folder) is None
        assert proxy.requests("POST", "/preupload/") == []
        assert proxy.requests("PUT") == []
        assert len(titles(user, repo)) == commits

        changed = folder / "shard-1" / "041.bin"
        changed.write_bytes(b"\0changed")
        upload(api, repo, folder)

    assert len(titles(user, repo)) == commits + 1
    assert len(proxy.requests("PUT")) == 1
    assert lfs_info(user, repo, "shard-1/041.bin").sha256 == sha256(b"\0changed")


def test_upload_interrupted_at_a_commit_resumes_without_uploading_anything_again(
    user: HubUser, folder: Path, proxy: RecordingProxy
) -> None:
    repo = f"{user.name}/{unique_name('cut-commit')}"
    proxy.drop("POST", "/commit/", nth=2)
    with HfApi(endpoint=proxy.url, token=user.token, trust_env=False, max_retries=0) as api:
        with pytest.raises(httpx.TransportError, match="Failed to commit"):
            upload(api, repo, folder)
        assert len(user.api.list_repo_files(repo)) == 101  # .gitattributes and one batch
        first_puts = len(proxy.requests("PUT"))
        proxy.seen.clear()

        upload(api, repo, folder)

    assert first_puts == LFS_FILES
    assert proxy.requests("PUT") == []
    assert proxy.requests("POST", "/preupload/") == []
    assert len(user.api.list_repo_files(repo)) == LFS_FILES + TEXT_FILES + 1


def test_upload_interrupted_during_uploads_resumes_with_only_what_is_missing(
    user: HubUser, folder: Path, proxy: RecordingProxy
) -> None:
    repo = f"{user.name}/{unique_name('cut-upload')}"
    proxy.drop("PUT", "/lfs/uploads/", nth=60)
    with HfApi(endpoint=proxy.url, token=user.token, trust_env=False, max_retries=0) as api:
        with pytest.raises(httpx.TransportError, match=r"Failed to upload shard-\d/\d+\.bin"):
            upload(api, repo, folder)
        first_puts = len(proxy.requests("PUT"))
        committed = len(user.api.list_repo_files(repo)) - 1
        proxy.seen.clear()

        upload(api, repo, folder)

    assert 59 <= first_puts < LFS_FILES
    assert committed >= TEXT_FILES + 59  # what was ready when the upload failed was committed
    assert len(proxy.requests("PUT")) == LFS_FILES - first_puts
    assert len(user.api.list_repo_files(repo)) == LFS_FILES + TEXT_FILES + 1
    assert titles(user, repo)[0] == TITLE
