"""`list_lfs_files`, `permanently_delete_lfs_files` and `usedStorage`, with the official client."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)

from tests.helpers.accounts import HubUser
from tests.helpers.lfs import batch
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import reads_local_blobs
from tests.helpers.storage import blob_path, lfs_bytes, upload_lfs


def by_sha(api: HfApi, repo_id: str, **kwargs: object) -> dict[str, object]:
    return {f.file_oid: f for f in api.list_lfs_files(repo_id, **kwargs)}  # type: ignore[arg-type]


def test_list_lfs_files_names_each_object_with_a_path_and_the_ref_that_holds_it(
    user: HubUser, repo: str
) -> None:
    current = upload_lfs(user.api, repo, "weights/model.bin", lfs_bytes("current"))
    user.api.create_branch(repo, branch="dev")
    on_dev = upload_lfs(user.api, repo, "dev.bin", lfs_bytes("dev"), revision="dev")
    old = upload_lfs(user.api, repo, "old/checkpoint.bin", lfs_bytes("old", 1000))
    user.api.delete_file("old/checkpoint.bin", repo)

    files = list(user.api.list_lfs_files(repo))

    assert sorted(f.file_oid for f in files) == sorted([current, on_dev, old])
    found = {f.file_oid: f for f in files}
    assert (found[current].filename, found[current].ref) == (
        "weights/model.bin",
        "refs/heads/main",
    )
    assert (found[on_dev].filename, found[on_dev].ref) == ("dev.bin", "refs/heads/dev")
    assert (found[old].filename, found[old].ref) == ("old/checkpoint.bin", None)
    assert (found[old].oid, found[old].size) == (old, 1003)
    for file in files:
        assert file.pushed_at.tzinfo is not None
        assert abs(file.pushed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    # Most recently uploaded first.
    assert [f.file_oid for f in files] == [old, on_dev, current]


def test_list_lfs_files_of_a_dataset_and_of_a_repo_without_lfs(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    dataset = repo_factory("dataset")
    empty = repo_factory()
    sha = upload_lfs(
        user.api, dataset, "data/train.parquet", lfs_bytes("rows"), repo_type="dataset"
    )

    files = list(user.api.list_lfs_files(dataset, repo_type="dataset"))

    assert [(f.file_oid, f.filename) for f in files] == [(sha, "data/train.parquet")]
    assert list(user.api.list_lfs_files(empty)) == []


@reads_local_blobs
def test_an_object_uploaded_but_never_committed_is_listed_without_a_filename(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    data = lfs_bytes("orphan")
    sha = hashlib.sha256(data).hexdigest()
    auth = {"authorization": f"Bearer {user.token}"}
    with httpx.Client(base_url=live_server.url, headers=auth) as http:
        answer = batch(http, repo, "upload", [{"oid": sha, "size": len(data)}])
        href = answer.json()["objects"][0]["actions"]["upload"]["href"]
        assert http.put(href, content=data).status_code == 200

    (file,) = user.api.list_lfs_files(repo)

    assert (file.file_oid, file.ref, file.size) == (sha, None, len(data))
    assert file.filename is None  # typed `str` by the client, but the key must be present


def test_list_lfs_files_pages_follow_the_link_header(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    uploaded = {upload_lfs(user.api, repo, f"part-{n}.bin", lfs_bytes(str(n))) for n in range(5)}
    headers = {"authorization": f"Bearer {user.token}"}
    url: str | None = f"{live_server.url}/api/models/{repo}/lfs-files?limit=2"

    pages = []
    while url is not None:
        response = httpx.get(url, headers=headers)
        assert response.status_code == 200
        pages.append([item["fileOid"] for item in response.json()])
        url = response.links.get("next", {}).get("url")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert {sha for page in pages for sha in page} == uploaded


def test_permanently_deleting_an_object_only_in_history_frees_its_bytes(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    kept = upload_lfs(user.api, repo, "keep.bin", lfs_bytes("keep"))
    old = upload_lfs(user.api, repo, "checkpoint.bin", lfs_bytes("checkpoint"))
    with_checkpoint = user.api.model_info(repo).sha
    user.api.delete_file("checkpoint.bin", repo)
    history_only = [f for f in user.api.list_lfs_files(repo) if f.ref is None]

    user.api.permanently_delete_lfs_files(repo, history_only, rewrite_history=False)

    assert set(by_sha(user.api, repo)) == {kept}
    assert not blob_path(live_server, old).exists()
    # History is not rewritten: the old commit still lists the file, but its content is gone.
    assert "checkpoint.bin" in user.api.list_repo_files(repo, revision=with_checkpoint)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(
            repo,
            "checkpoint.bin",
            revision=with_checkpoint,
            endpoint=live_server.url,
            token=user.token,
            cache_dir=tmp_path,
        )
    current = hf_hub_download(
        repo, "keep.bin", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(current).read_bytes().startswith(b"keep")


@reads_local_blobs
def test_permanently_deleting_an_object_used_at_a_branch_head_is_refused(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    sha = upload_lfs(user.api, repo, "model.bin", lfs_bytes("live"))
    files = list(user.api.list_lfs_files(repo))

    with pytest.raises(HfHubHTTPError) as caught:
        user.api.permanently_delete_lfs_files(repo, files, rewrite_history=False)

    assert caught.value.response.status_code == 409
    assert "model.bin" in str(caught.value) and "refs/heads/main" in str(caught.value)
    assert set(by_sha(user.api, repo)) == {sha}
    assert blob_path(live_server, sha).exists()
    path = hf_hub_download(
        repo, "model.bin", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes().startswith(b"live")


def test_permanently_deleting_an_object_used_at_a_tag_is_refused(user: HubUser, repo: str) -> None:
    sha = upload_lfs(user.api, repo, "release.bin", lfs_bytes("release"))
    user.api.create_tag(repo, tag="v1")
    user.api.delete_file("release.bin", repo)

    with pytest.raises(HfHubHTTPError) as caught:
        user.api.permanently_delete_lfs_files(
            repo, list(user.api.list_lfs_files(repo)), rewrite_history=False
        )

    assert caught.value.response.status_code == 409
    assert "refs/tags/v1" in str(caught.value)
    assert set(by_sha(user.api, repo)) == {sha}


@reads_local_blobs
def test_deleting_an_object_another_repo_uses_keeps_it_for_that_repo(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    first, second = repo_factory(), repo_factory()
    shared = lfs_bytes("shared")
    sha = upload_lfs(user.api, first, "shared.bin", shared)
    upload_lfs(user.api, second, "copy.bin", shared)
    user.api.create_commit(first, [CommitOperationDelete("shared.bin")], commit_message="drop")

    user.api.permanently_delete_lfs_files(
        first, list(user.api.list_lfs_files(first)), rewrite_history=False
    )

    assert by_sha(user.api, first) == {}
    assert set(by_sha(user.api, second)) == {sha}
    assert blob_path(live_server, sha).exists()
    path = hf_hub_download(
        second, "copy.bin", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == shared


@reads_local_blobs
def test_deleting_objects_the_repo_does_not_have_succeeds_and_touches_nothing(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    mine = repo_factory()
    theirs = f"{other_user.name}/stash"
    other_user.api.create_repo(theirs)
    sha = upload_lfs(other_user.api, theirs, "secret.bin", lfs_bytes("theirs"))
    other_user.api.delete_file("secret.bin", theirs)

    response = httpx.post(
        f"{live_server.url}/api/models/{mine}/lfs-files/batch",
        headers={"authorization": f"Bearer {user.token}"},
        json={"deletions": {"sha": [sha], "rewriteHistory": False}},
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": 0}
    assert set(by_sha(other_user.api, theirs)) == {sha}
    assert blob_path(live_server, sha).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "deletions"),
        ({"deletions": {"sha": "abc"}}, "list of sha256"),
        ({"deletions": {"sha": ["not-a-sha"], "rewriteHistory": False}}, "Invalid LFS object id"),
        ({"deletions": {"sha": [], "rewriteHistory": "no"}}, "rewriteHistory"),
        ({"deletions": {"sha": ["0" * 64] * 1001, "rewriteHistory": False}}, "At most 1000"),
    ],
)
def test_malformed_deletions_are_rejected_with_400(
    live_server: LiveServer, user: HubUser, repo: str, body: object, message: str
) -> None:
    response = httpx.post(
        f"{live_server.url}/api/models/{repo}/lfs-files/batch",
        headers={"authorization": f"Bearer {user.token}"},
        json=body,
    )

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_lfs_files_need_write_access_to_the_repo(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    anonymous: HfApi,
    repo_factory: Callable[..., str],
) -> None:
    public, private = repo_factory(), repo_factory(private=True)
    upload_lfs(user.api, public, "w.bin", lfs_bytes("perm"))

    with pytest.raises(HfHubHTTPError) as as_reader:
        list(other_user.api.list_lfs_files(public))
    with pytest.raises(HfHubHTTPError) as as_anonymous:
        list(anonymous.list_lfs_files(public))
    with pytest.raises(RepositoryNotFoundError):
        list(other_user.api.list_lfs_files(private))
    with pytest.raises(HfHubHTTPError) as deleting:
        other_user.api.permanently_delete_lfs_files(
            public, list(user.api.list_lfs_files(public)), rewrite_history=False
        )

    assert as_reader.value.response.status_code == 403
    assert as_anonymous.value.response.status_code == 401
    assert deleting.value.response.status_code == 403
    assert len(list(user.api.list_lfs_files(public))) == 1


def test_used_storage_counts_lfs_objects_and_git_data(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory()
    before = user.api.model_info(repo).used_storage
    assert before is not None and before > 0  # the initial commit's git objects

    upload_lfs(user.api, repo, "big.bin", lfs_bytes("big", 300_000))
    after = user.api.model_info(repo, expand=["usedStorage"]).used_storage

    assert after is not None and after >= before + 300_003
    assert after < before + 300_003 + 64 * 1024  # plus a pointer, a tree and a commit
    (listed,) = [
        m for m in user.api.list_models(author=user.name, expand=["usedStorage"]) if m.id == repo
    ]
    assert listed.used_storage == after
    dataset = repo_factory("dataset")
    upload_lfs(user.api, dataset, "d.bin", lfs_bytes("d", 50_000), repo_type="dataset")
    info = user.api.dataset_info(dataset, expand=["usedStorage"])
    assert info.used_storage is not None and info.used_storage >= 50_001
