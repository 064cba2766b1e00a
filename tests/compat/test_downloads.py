"""Downloads through the official client: cache layout, snapshots, metadata, revisions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    RemoteEntryNotFoundError,
    RevisionNotFoundError,
)

from tests.helpers.accounts import HubUser
from tests.helpers.commits import git_blob_sha1
from tests.helpers.live_server import LiveServer


def download(
    server: LiveServer,
    user: HubUser,
    repo: str,
    filename: str,
    cache: Path,
    *,
    revision: str | None = None,
    repo_type: str | None = None,
) -> Path:
    path = hf_hub_download(
        repo,
        filename,
        endpoint=server.url,
        token=user.token,
        cache_dir=cache,
        revision=revision,
        repo_type=repo_type,
    )
    return Path(path)


def test_hf_hub_download_fills_the_cache_layout(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    info = user.api.upload_file(
        path_or_fileobj=b'{"a": 1}', path_in_repo="sub/config.json", repo_id=repo
    )

    path = download(live_server, user, repo, "sub/config.json", tmp_path)

    folder = tmp_path / f"models--{repo.replace('/', '--')}"
    assert path == folder / "snapshots" / info.oid / "sub" / "config.json"
    assert path.read_bytes() == b'{"a": 1}'
    assert path.is_symlink()
    assert path.resolve() == folder / "blobs" / git_blob_sha1(b'{"a": 1}')
    assert (folder / "refs" / "main").read_text() == info.oid


def test_a_second_download_of_an_unchanged_file_reuses_the_blob(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"stable", path_in_repo="a.txt", repo_id=repo)
    first = download(live_server, user, repo, "a.txt", tmp_path)
    user.api.upload_file(path_or_fileobj=b"other", path_in_repo="b.txt", repo_id=repo)

    second = download(live_server, user, repo, "a.txt", tmp_path)

    assert first != second
    assert first.resolve() == second.resolve()


def test_snapshot_download_with_allow_patterns(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    info = user.api.create_commit(
        repo,
        [
            CommitOperationAdd("config.json", b"{}"),
            CommitOperationAdd("nested/tokenizer.json", b"[]"),
            CommitOperationAdd("notes.txt", b"skip me"),
        ],
        commit_message="files",
    )

    folder = Path(
        snapshot_download(
            repo,
            endpoint=live_server.url,
            token=user.token,
            cache_dir=tmp_path,
            allow_patterns=["*.json"],
        )
    )

    assert folder.name == info.oid
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files == {"config.json", "nested/tokenizer.json"}
    assert (folder / "nested" / "tokenizer.json").read_bytes() == b"[]"


def test_snapshot_download_of_everything(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo)

    folder = Path(
        snapshot_download(repo, endpoint=live_server.url, token=user.token, cache_dir=tmp_path)
    )

    assert {p.name for p in folder.iterdir()} == {".gitattributes", "x.txt"}


def test_file_exists_is_true_only_for_existing_files(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/x.txt", repo_id=repo)

    assert user.api.file_exists(repo, "dir/x.txt")
    assert not user.api.file_exists(repo, "dir/missing.txt")
    assert not user.api.file_exists(repo, "dir")
    assert not user.api.file_exists(repo, "dir/x.txt", revision="no-such-branch")


def test_get_hf_file_metadata_reports_etag_size_and_commit(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    content = b"metadata please"
    info = user.api.upload_file(path_or_fileobj=content, path_in_repo="m.txt", repo_id=repo)
    url = hf_hub_url(repo, "m.txt", endpoint=live_server.url)

    metadata = get_hf_file_metadata(url, token=user.token)

    assert metadata.etag == git_blob_sha1(content)
    assert metadata.size == len(content)
    assert metadata.commit_hash == info.oid


def test_a_missing_file_raises_entry_not_found_and_is_negatively_cached(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    head = user.api.repo_info(repo).sha

    with pytest.raises(RemoteEntryNotFoundError):
        download(live_server, user, repo, "missing.txt", tmp_path)

    folder = tmp_path / f"models--{repo.replace('/', '--')}"
    assert (folder / ".no_exist" / str(head) / "missing.txt").exists()
    assert (folder / "refs" / "main").read_text() == head


def test_an_unknown_revision_raises_revision_not_found(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    with pytest.raises(RevisionNotFoundError):
        download(live_server, user, repo, ".gitattributes", tmp_path, revision="nope")
    with pytest.raises(RevisionNotFoundError):
        download(live_server, user, repo, ".gitattributes", tmp_path, revision="0" * 40)


@pytest.mark.parametrize(
    "name", ["with space.txt", "unicodé/ファイル.txt", "hash#tag.txt", "plus+sign %20.txt"]
)
def test_awkward_file_names_round_trip(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path, name: str
) -> None:
    user.api.upload_file(path_or_fileobj=name.encode(), path_in_repo=name, repo_id=repo)

    assert name in user.api.list_repo_files(repo)
    assert download(live_server, user, repo, name, tmp_path).read_bytes() == name.encode()


def test_downloads_at_a_branch_a_tag_and_commit_ids(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    first = user.api.upload_file(path_or_fileobj=b"v1", path_in_repo="f.txt", repo_id=repo)
    user.api.create_tag(repo, tag="v1.0")
    user.api.create_branch(repo, branch="dev")
    user.api.upload_file(path_or_fileobj=b"dev", path_in_repo="f.txt", repo_id=repo, revision="dev")
    user.api.upload_file(path_or_fileobj=b"v2", path_in_repo="f.txt", repo_id=repo)

    def fetch(revision: str) -> bytes:
        return download(live_server, user, repo, "f.txt", tmp_path, revision=revision).read_bytes()

    assert fetch("main") == b"v2"
    assert fetch("dev") == b"dev"
    assert fetch("v1.0") == b"v1"
    assert fetch(first.oid) == b"v1"
    assert fetch(first.oid[:7]) == b"v1"
    folder = tmp_path / f"models--{repo.replace('/', '--')}"
    assert (folder / "refs" / "v1.0").read_text() == first.oid
    assert (folder / "refs" / first.oid[:7]).read_text() == first.oid


def test_a_folder_is_not_a_downloadable_file(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/x.txt", repo_id=repo)

    with pytest.raises(EntryNotFoundError):
        download(live_server, user, repo, "dir", tmp_path)


def test_datasets_and_spaces_download_too(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    for repo_type in ("dataset", "space"):
        repo = repo_factory(repo_type)
        user.api.upload_file(
            path_or_fileobj=b"data", path_in_repo="d.txt", repo_id=repo, repo_type=repo_type
        )

        path = download(live_server, user, repo, "d.txt", tmp_path, repo_type=repo_type)

        assert path.read_bytes() == b"data"
        assert f"{repo_type}s--" in str(path)
