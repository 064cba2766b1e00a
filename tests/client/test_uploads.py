"""Uploads with hubstead's client, checked with the unmodified official client.

Regular files go inline, binary ones through LFS (`basic` on the session hub; `multipart` on a
hub of its own that offers 1 MiB parts from 4 MiB). A recording proxy shows which requests
travel, with which headers, and fails chosen ones like a dropped connection.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import RepoFile, hf_hub_download
from huggingface_hub.hf_api import BlobLfsInfo

from hubstead.client.api import HfApi
from hubstead.client.uploads import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
)
from hubstead.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import MiB, lfs_server, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.proxy import RecordingProxy

pytestmark = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"
)


def download(server: LiveServer, user: HubUser, repo: str, filename: str, cache: Path) -> bytes:
    """The file as the official client downloads it."""
    path = hf_hub_download(
        repo, filename, endpoint=server.url, token=user.token, cache_dir=cache / unique_name("c")
    )
    return Path(path).read_bytes()


def lfs_info(user: HubUser, repo: str, path: str) -> BlobLfsInfo | None:
    """What the official client says about a file's LFS object (None: a regular file)."""
    (entry,) = user.api.get_paths_info(repo, [path])
    assert isinstance(entry, RepoFile)
    return entry.lfs


def commit_count(user: HubUser, repo: str) -> int:
    return len(user.api.list_repo_commits(repo))


def binary(size: int) -> bytes:
    """Random bytes that start with a NUL, so the hub sends them through LFS whatever the size."""
    return b"\0" + os.urandom(size - 1)


@pytest.fixture(scope="module")
def small_hub(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path_factory.mktemp("small-parts-hub"), postgres) as server:
        yield server


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(live_server.port)
    yield proxy
    proxy.close()


# --- regular and LFS files ------------------------------------------------------------------


def test_text_file_is_committed_inline_and_the_official_client_reads_it(
    client: HfApi, user: HubUser, repo: str, live_server: LiveServer, tmp_path: Path
) -> None:
    info = client.upload_file(
        path_or_fileobj=b'{"hidden": 64}\n', path_in_repo="config.json", repo_id=repo
    )

    assert lfs_info(user, repo, "config.json") is None
    assert info.oid == user.api.list_repo_commits(repo)[0].commit_id
    assert info.commit_url.endswith(f"/{repo}/commit/{info.oid}")
    assert download(live_server, user, repo, "config.json", tmp_path) == b'{"hidden": 64}\n'


def test_a_commit_of_many_files_lands_whole(
    client: HfApi, user: HubUser, repo: str, live_server: LiveServer, tmp_path: Path
) -> None:
    # About 1.1 MiB of NDJSON, which the client sends in several pieces.
    files = {f"rows/{n:03d}.csv": b"%d,%s\n" % (n, b"x" * (n % 7)) * 80 for n in range(400)}

    client.create_commit(
        repo, [CommitOperationAdd(p, c) for p, c in files.items()], commit_message="Rows"
    )

    assert sorted(user.api.list_repo_files(repo)) == sorted([".gitattributes", *files])
    for path in ("rows/000.csv", "rows/203.csv", "rows/399.csv"):
        assert download(live_server, user, repo, path, tmp_path) == files[path]
    assert commit_count(user, repo) == 2


def test_binary_file_goes_through_lfs_without_the_token_reaching_the_upload_url(
    user: HubUser, repo: str, live_server: LiveServer, proxy: RecordingProxy, tmp_path: Path
) -> None:
    data = binary(300_000)
    with HfApi(endpoint=proxy.url, token=user.token, trust_env=False) as api:
        api.upload_file(path_or_fileobj=data, path_in_repo="model.safetensors", repo_id=repo)

    lfs = lfs_info(user, repo, "model.safetensors")
    assert lfs is not None and lfs.sha256 == sha256(data)
    (put,) = proxy.requests("PUT")
    assert "authorization" not in put.headers
    assert put.headers["content-length"] == str(len(data))
    (verify,) = proxy.requests("POST", "/objects/verify")
    assert verify.headers["authorization"] == f"Bearer {user.token}"
    assert download(live_server, user, repo, "model.safetensors", tmp_path) == data


def test_identical_lfs_files_are_uploaded_once(
    user: HubUser, repo: str, proxy: RecordingProxy
) -> None:
    data = binary(20_000)
    with HfApi(endpoint=proxy.url, token=user.token, trust_env=False) as api:
        api.create_commit(
            repo,
            [CommitOperationAdd(f"copy-{n}.bin", data) for n in range(3)],
            commit_message="Three of the same",
        )

    assert len(proxy.requests("PUT")) == 1
    assert all(lfs_info(user, repo, f"copy-{n}.bin") is not None for n in range(3))


def test_file_objects_are_uploaded_whole_and_keep_their_position(
    client: HfApi, user: HubUser, repo: str, live_server: LiveServer, tmp_path: Path
) -> None:
    on_disk = tmp_path / "weights.bin"
    on_disk.write_bytes(binary(200_000))
    in_memory = io.BytesIO(b"line one\nline two\n")
    in_memory.seek(5)

    with on_disk.open("rb") as handle:
        handle.seek(1000)
        client.create_commit(
            repo,
            [
                CommitOperationAdd("weights.bin", handle),
                CommitOperationAdd("notes.txt", in_memory),
            ],
            commit_message="From file objects",
        )
        assert handle.tell() == 1000
    assert in_memory.tell() == 5

    assert download(live_server, user, repo, "weights.bin", tmp_path) == on_disk.read_bytes()
    assert download(live_server, user, repo, "notes.txt", tmp_path) == b"line one\nline two\n"


def test_multipart_upload_sends_every_part_once_and_the_object_is_whole(
    small_hub: LiveServer, tmp_path: Path
) -> None:
    owner = make_user(small_hub)
    repo = f"{owner.name}/{unique_name('multipart')}"
    owner.api.create_repo(repo)
    path = tmp_path / "model.safetensors"
    path.write_bytes(os.urandom(6 * MiB + 12345))
    proxy = RecordingProxy(small_hub.port)
    try:
        with HfApi(endpoint=proxy.url, token=owner.token, trust_env=False) as api:
            api.upload_file(path_or_fileobj=path, path_in_repo="model.safetensors", repo_id=repo)
    finally:
        proxy.close()

    parts = proxy.requests("PUT", "/lfs/multipart/")
    assert sorted(int(p.path.rsplit("/", 1)[1]) for p in parts) == list(range(1, 8))
    assert all("authorization" not in p.headers for p in parts)
    (completion,) = proxy.requests("POST", "/lfs/multipart/")
    assert "authorization" not in completion.headers
    lfs = lfs_info(owner, repo, "model.safetensors")
    assert lfs is not None and lfs.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert download(small_hub, owner, repo, "model.safetensors", tmp_path) == path.read_bytes()


def test_interrupted_multipart_upload_resumes_with_only_the_missing_parts(
    small_hub: LiveServer, tmp_path: Path
) -> None:
    owner = make_user(small_hub)
    repo = f"{owner.name}/{unique_name('resume')}"
    owner.api.create_repo(repo)
    path = tmp_path / "shard.bin"
    path.write_bytes(os.urandom(7 * MiB))
    proxy = RecordingProxy(small_hub.port)
    proxy.drop("PUT", "/lfs/multipart/", nth=3)
    try:
        with HfApi(endpoint=proxy.url, token=owner.token, trust_env=False, max_retries=0) as api:
            with pytest.raises(httpx.TransportError) as failed:
                api.upload_file(path_or_fileobj=path, path_in_repo="shard.bin", repo_id=repo)
            first_run = {int(p.path.rsplit("/", 1)[1]) for p in proxy.requests("PUT")}
            (dropped,) = [s for s in proxy.seen if s.dropped]
            proxy.seen.clear()
            api.upload_file(path_or_fileobj=path, path_in_repo="shard.bin", repo_id=repo)
    finally:
        proxy.close()

    dropped_part = int(dropped.path.rsplit("/", 1)[1])
    assert f"upload part {dropped_part}/7 of shard.bin" in str(failed.value)
    second_run = {int(p.path.rsplit("/", 1)[1]) for p in proxy.requests("PUT")}
    assert second_run == set(range(1, 8)) - first_run
    assert dropped_part in second_run
    assert download(small_hub, owner, repo, "shard.bin", tmp_path) == path.read_bytes()


# --- what a commit contains --------------------------------------------------------------------


def test_reuploading_unchanged_files_makes_no_commit(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text("# A model\n")
    (folder / "sub" / "weights.bin").write_bytes(binary(50_000))
    first = client.upload_folder(repo_id=repo, folder_path=folder)
    commits = commit_count(user, repo)

    again = client.upload_folder(repo_id=repo, folder_path=folder)

    assert commit_count(user, repo) == commits
    assert again.oid == first.oid


def test_files_uploaded_by_either_client_are_recognized_as_unchanged_by_the_other(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    text, weights = b"some text\n", binary(40_000)
    user.api.upload_file(path_or_fileobj=text, path_in_repo="a.txt", repo_id=repo)
    user.api.upload_file(path_or_fileobj=weights, path_in_repo="a.bin", repo_id=repo)
    client.upload_file(path_or_fileobj=text, path_in_repo="b.txt", repo_id=repo)
    client.upload_file(path_or_fileobj=weights, path_in_repo="b.bin", repo_id=repo)
    commits = commit_count(user, repo)

    client.upload_file(path_or_fileobj=text, path_in_repo="a.txt", repo_id=repo)
    client.upload_file(path_or_fileobj=weights, path_in_repo="a.bin", repo_id=repo)
    user.api.upload_file(path_or_fileobj=text, path_in_repo="b.txt", repo_id=repo)
    user.api.upload_file(path_or_fileobj=weights, path_in_repo="b.bin", repo_id=repo)

    assert commit_count(user, repo) == commits


def test_commit_message_and_description_are_recorded(
    client: HfApi, user: HubUser, repo: str
) -> None:
    info = client.create_commit(
        repo,
        [CommitOperationAdd("a.txt", b"a")],
        commit_message="Add a",
        commit_description="Because we needed a.",
    )

    latest = user.api.list_repo_commits(repo)[0]
    assert (latest.commit_id, latest.title) == (info.oid, "Add a")
    assert "Because we needed a." in latest.message
    assert (info.commit_message, info.commit_description) == ("Add a", "Because we needed a.")


def test_delete_operations_remove_files_and_folders(
    client: HfApi, user: HubUser, repo: str
) -> None:
    client.create_commit(
        repo,
        [
            CommitOperationAdd("keep.txt", b"k"),
            CommitOperationAdd("old.txt", b"o"),
            CommitOperationAdd("ckpt/a.bin", binary(1000)),
            CommitOperationAdd("ckpt/deep/b.txt", b"b"),
        ],
        commit_message="Seed",
    )

    client.delete_file("old.txt", repo)
    client.delete_folder("ckpt", repo)

    assert sorted(user.api.list_repo_files(repo)) == [".gitattributes", "keep.txt"]
    with pytest.raises(RemoteEntryNotFoundError, match="is_folder"):
        client.create_commit(
            repo, [CommitOperationDelete("missing.txt")], commit_message="Delete missing"
        )


def test_copy_operations_copy_lfs_and_regular_files_from_any_revision(
    client: HfApi, user: HubUser, repo: str, live_server: LiveServer, tmp_path: Path
) -> None:
    weights = binary(30_000)
    first = client.create_commit(
        repo,
        [CommitOperationAdd("w.bin", weights), CommitOperationAdd("cfg.json", b"{}")],
        commit_message="Seed",
    )
    client.upload_file(path_or_fileobj=b'{"v": 2}', path_in_repo="cfg.json", repo_id=repo)

    client.create_commit(
        repo,
        [
            CommitOperationCopy("w.bin", "copies/w.bin"),
            CommitOperationCopy("cfg.json", "copies/cfg-v1.json", src_revision=first.oid),
            CommitOperationCopy("cfg.json", "copies/cfg-v2.json"),
        ],
        commit_message="Copy",
    )

    copied = lfs_info(user, repo, "copies/w.bin")
    assert copied is not None and copied.sha256 == sha256(weights)
    assert download(live_server, user, repo, "copies/w.bin", tmp_path) == weights
    assert download(live_server, user, repo, "copies/cfg-v1.json", tmp_path) == b"{}"
    assert download(live_server, user, repo, "copies/cfg-v2.json", tmp_path) == b'{"v": 2}'


def test_copying_a_missing_file_is_refused(client: HfApi, repo: str) -> None:
    with pytest.raises(EntryNotFoundError, match=r"Cannot copy nope\.bin"):
        client.create_commit(
            repo, [CommitOperationCopy("nope.bin", "copy.bin")], commit_message="Copy"
        )


def test_gitignored_files_are_left_out(client: HfApi, user: HubUser, repo: str) -> None:
    client.upload_file(path_or_fileobj=b"*.log\n", path_in_repo=".gitignore", repo_id=repo)

    client.create_commit(
        repo,
        [CommitOperationAdd("run.log", b"noise"), CommitOperationAdd("kept.txt", b"k")],
        commit_message="Add",
    )

    assert "run.log" not in user.api.list_repo_files(repo)
    assert "kept.txt" in user.api.list_repo_files(repo)


def test_upload_folder_filters_by_patterns_and_deletes_what_is_asked(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    client.create_commit(
        repo,
        [CommitOperationAdd("sub/stale.txt", b"s"), CommitOperationAdd("sub/keep.md", b"m")],
        commit_message="Seed",
    )
    folder = tmp_path / "f"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref")
    (folder / ".cache" / "huggingface").mkdir(parents=True)
    (folder / ".cache" / "huggingface" / "x").write_text("x")
    (folder / "a.txt").write_text("a")
    (folder / "b.tmp").write_text("b")
    (folder / "logs").mkdir()
    (folder / "logs" / "c.txt").write_text("c")

    client.upload_folder(
        repo_id=repo,
        folder_path=folder,
        path_in_repo="sub",
        ignore_patterns=["*.tmp", "logs/"],
        delete_patterns="*.txt",
    )

    assert sorted(user.api.list_repo_files(repo)) == [".gitattributes", "sub/a.txt", "sub/keep.md"]


# --- refusals -----------------------------------------------------------------------------


def test_stale_parent_commit_is_refused(client: HfApi, user: HubUser, repo: str) -> None:
    parent = user.api.list_repo_commits(repo)[0].commit_id
    client.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo)
    commits = commit_count(user, repo)

    with pytest.raises(HfHubHTTPError) as refused:
        client.upload_file(
            path_or_fileobj=b"2", path_in_repo="two.txt", repo_id=repo, parent_commit=parent
        )

    assert refused.value.status_code == 412
    assert "Failed to commit" in str(refused.value)
    assert commit_count(user, repo) == commits


def test_invalid_readme_metadata_is_refused_before_anything_is_uploaded(
    client: HfApi, user: HubUser, repo: str
) -> None:
    commits = commit_count(user, repo)
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md") as refused:
        client.create_commit(
            repo,
            [
                CommitOperationAdd("README.md", b"---\nlicense: [unclosed\n---\n# Model\n"),
                CommitOperationAdd("w.bin", binary(10_000)),
            ],
            commit_message="Bad card",
        )

    assert isinstance(refused.value, BadRequestError)
    assert commit_count(user, repo) == commits


def test_create_pr_opens_a_pull_request_with_the_commit(client: HfApi, repo: str) -> None:
    info = client.upload_file(
        path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, create_pr=True
    )

    assert info.pr_url is not None and info.pr_url.endswith(f"/{repo}/discussions/1")
    assert info.pr_revision == "refs/pr/1"
    assert client.list_repo_files(repo, revision="refs/pr/1") == [".gitattributes", "x.txt"]
    assert client.list_repo_files(repo) == [".gitattributes"]


def test_failure_names_the_step_and_the_server_answer(
    live_server: LiveServer, other_user: HubUser, repo: str
) -> None:
    stranger = HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False)
    with stranger, pytest.raises(HfHubHTTPError) as refused:
        stranger.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo)

    message = str(refused.value)
    assert message.startswith(f"Failed to preupload files to {repo}: ")
    assert "Server says:" in message
    assert refused.value.status_code in (403, 404)


def test_commit_to_a_missing_repo_says_to_create_it(client: HfApi, user: HubUser) -> None:
    missing = f"{user.name}/{unique_name('missing')}"

    with pytest.raises(RepositoryNotFoundError, match="create_repo"):
        client.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=missing)


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../b", ".git/config", ".cache/x", "."])
def test_invalid_paths_are_refused_before_any_request(path: str) -> None:
    with pytest.raises(HFValidationError):
        CommitOperationAdd(path, b"x")


def test_empty_commit_message_is_refused_before_any_request(client: HfApi, repo: str) -> None:
    with pytest.raises(HFValidationError, match="commit_message"):
        client.create_commit(repo, [CommitOperationAdd("a.txt", b"a")], commit_message="")
