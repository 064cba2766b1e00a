"""`DownloadService.prepare`: what a download of each kind of file is, decided in one call.

The third kind, an LFS file of an on-demand mirror streamed from upstream, needs two hubs:
`tests/mirror/test_pull_through.py` downloads those.
"""

from __future__ import annotations

import hashlib

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.services.auth import Identity
from hubstead.server.services.downloads import LfsRedirect, RegularFile
from hubstead.server.services.registry import Services
from tests.helpers.accounts import HubUser
from tests.helpers.commits import git_blob_sha1
from tests.helpers.live_server import LiveServer
from tests.helpers.storage import lfs_bytes, upload_lfs


@pytest.fixture
def hub(live_server: LiveServer) -> Services:
    return live_server.services


@pytest.fixture
def caller(hub: Services, user: HubUser) -> Identity:
    return hub.auth.authenticate(user.token)


def test_a_regular_file_is_its_bytes_at_the_resolved_commit(
    hub: Services, caller: Identity, user: HubUser, repo: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="dir/a.txt", repo_id=repo)
    head = user.api.model_info(repo).sha

    download = hub.downloads.prepare(caller, RepoType.MODEL, repo, "main", "dir/a.txt")

    assert download == RegularFile(head or "", "dir/a.txt", git_blob_sha1(b"hello\n"), b"hello\n")


def test_an_lfs_file_is_a_redirect_whose_grant_serves_its_object(
    hub: Services, caller: Identity, user: HubUser, repo: str
) -> None:
    data = lfs_bytes("download")
    upload_lfs(user.api, repo, "weights.bin", data)
    head = user.api.model_info(repo).sha

    download = hub.downloads.prepare(caller, RepoType.MODEL, repo, "main", "weights.bin")

    assert isinstance(download, LfsRedirect)
    sha256 = hashlib.sha256(data).hexdigest()
    assert (download.commit_id, download.sha256, download.size) == (head, sha256, len(data))
    blob = hub.lfs.blob(sha256, download.token)
    assert (blob.size, blob.commit_id) == (len(data), head)


@pytest.mark.parametrize("path", ["missing.txt", "dir", ""])
def test_no_file_at_the_path_is_an_entry_not_found_naming_the_commit(
    hub: Services, caller: Identity, user: HubUser, repo: str, path: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/a.txt", repo_id=repo)
    head = user.api.model_info(repo).sha

    with pytest.raises(errors.EntryNotFoundError) as caught:
        hub.downloads.prepare(caller, RepoType.MODEL, repo, "main", path)

    assert caught.value.commit_id == head


def test_a_private_repo_of_someone_else_is_not_found(
    hub: Services, other_user: HubUser, user: HubUser, repo: str
) -> None:
    user.api.update_repo_settings(repo, private=True)
    outsider = hub.auth.authenticate(other_user.token)

    with pytest.raises(errors.RepoNotFoundError):
        hub.downloads.prepare(outsider, RepoType.MODEL, repo, "main", ".gitattributes")
