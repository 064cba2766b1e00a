"""Xet through the unmodified official client (huggingface_hub 2.4 with hf_xet 1.8) and `hf` CLI.

Uploads go through the hub's CAS — the access log shows the xorbs and the shard arrive — and
the files then look like any LFS file (sha256, size) plus their `xetHash`. Downloads of those
files go through the CAS too (a reconstruction, then signed xorb ranges); every other way to
fetch them (the client with Xet off, a plain GET with Range, hubstead's client, git-lfs) gets
the same bytes. Files uploaded as plain LFS never claim a Xet hash. An upload of a slightly
changed file stores only its changed chunks. CAS tokens follow the repo's permissions.

`tests/conftest.py` turns Xet off for the rest of the suite; here it is on again (the client
reads the constant at call time), and `hf` subprocesses run without HF_HUB_DISABLE_XET.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import hf_xet
import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfFileSystem,
    RepoFile,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import RepositoryNotFoundError

import hubstead
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clients import hf_ok
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.lfs import MiB, file_sha256, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import hub_serves_downloads, reads_local_blobs
from tests.helpers.xet import (
    AccessLog,
    assert_downloaded_through_xet,
    assert_no_cas_traffic,
    assert_uploaded_through_xet,
    stored_xorb_bytes,
    stored_xorbs,
)

KiB = 1024

pytestmark = pytest.mark.usefixtures("xet")


@pytest.fixture
def cas() -> Iterator[AccessLog]:
    """The requests the session hub serves during the test."""
    with AccessLog() as log:
        yield log


def xet_hash(path: Path) -> str:
    """The file's Xet hash, as hf_xet computes it without uploading."""
    [info] = hf_xet.hash_files([str(path)])
    return str(info.hash)


def tree_entries(user: HubUser, repo: str, revision: str | None = None) -> dict[str, RepoFile]:
    return {
        entry.path: entry
        for entry in user.api.list_repo_tree(repo, recursive=True, revision=revision)
        if isinstance(entry, RepoFile)
    }


# --- uploads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [1, 7, 100 * KiB, 3 * MiB + 17], ids=["1B", "7B", "100KiB", "3MiB"]
)
def test_upload_file_goes_through_the_cas_and_lists_as_an_lfs_file(
    user: HubUser, repo: str, cas: AccessLog, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(data := os.urandom(size))

    user.api.upload_file(path_or_fileobj=source, path_in_repo="weights.bin", repo_id=repo)

    assert_uploaded_through_xet(cas)
    entry = tree_entries(user, repo)["weights.bin"]
    assert entry.lfs is not None
    assert (entry.lfs.sha256, entry.lfs.size, entry.size) == (sha256(data), size, size)
    assert entry.xet_hash == xet_hash(source)
    (info,) = user.api.get_paths_info(repo, ["weights.bin"])
    assert isinstance(info, RepoFile) and info.lfs is not None
    assert (info.lfs.sha256, info.xet_hash) == (sha256(data), entry.xet_hash)
    siblings = user.api.model_info(repo, files_metadata=True).siblings or []
    (sibling,) = [s for s in siblings if s.rfilename == "weights.bin"]
    assert sibling.lfs is not None and (sibling.lfs.sha256, sibling.size) == (sha256(data), size)


def test_upload_folder_sends_binaries_through_xet_and_keeps_text_as_regular_files(
    user: HubUser, repo: str, cas: AccessLog, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    files = {
        "README.md": b"# A model\n",
        "config.json": b'{"hidden_size": 16}\n',
        "tokenizer/vocab.txt": b"[PAD]\n[UNK]\nhello\n",
        "model.safetensors": os.urandom(200 * KiB),
        "weights/optimizer.pt": os.urandom(50 * KiB + 3),
        "data/train.parquet": os.urandom(30 * KiB),
    }
    for path, content in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)

    user.api.upload_folder(repo_id=repo, folder_path=folder)

    assert_uploaded_through_xet(cas)
    entries = tree_entries(user, repo)
    binaries = {"model.safetensors", "weights/optimizer.pt", "data/train.parquet"}
    for path, content in files.items():
        entry = entries[path]
        assert entry.size == len(content)
        if path in binaries:
            assert entry.lfs is not None and entry.lfs.sha256 == sha256(content)
            assert entry.xet_hash == xet_hash(folder / path)
        else:
            assert (entry.lfs, entry.xet_hash) == (None, None)


@pytest.mark.parametrize("revision", [None, "dev"])
def test_a_commit_mixes_xet_additions_with_copies_and_deletions(
    user: HubUser, repo: str, cas: AccessLog, revision: str | None
) -> None:
    kept = os.urandom(80 * KiB)
    user.api.upload_file(path_or_fileobj=kept, path_in_repo="kept.bin", repo_id=repo)
    user.api.upload_file(path_or_fileobj=b"old notes\n", path_in_repo="notes.txt", repo_id=repo)
    if revision is not None:
        user.api.create_branch(repo, branch=revision)
    cas.clear()
    added = os.urandom(120 * KiB + 1)

    user.api.create_commit(
        repo,
        [
            CommitOperationAdd("added.bin", added),
            CommitOperationCopy("kept.bin", "copies/kept.bin"),
            CommitOperationDelete("notes.txt"),
        ],
        commit_message="add, copy, delete",
        revision=revision,
    )

    assert_uploaded_through_xet(cas)
    entries = tree_entries(user, repo, revision)
    assert "notes.txt" not in entries
    assert entries["added.bin"].lfs is not None
    assert entries["added.bin"].lfs.sha256 == sha256(added)
    assert entries["added.bin"].xet_hash is not None
    copy, original = entries["copies/kept.bin"], entries["kept.bin"]
    assert copy.lfs is not None and copy.lfs.sha256 == sha256(kept)
    assert copy.xet_hash == original.xet_hash is not None
    if revision is not None:
        assert set(tree_entries(user, repo)) == {".gitattributes", "kept.bin", "notes.txt"}


def test_hf_upload_cli_sends_a_file_and_a_folder_through_xet(
    live_server: LiveServer, user: HubUser, repo: str, cas: AccessLog, tmp_path: Path
) -> None:
    single = tmp_path / "single.bin"
    single.write_bytes(os.urandom(256 * KiB))
    folder = tmp_path / "folder"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "a.bin").write_bytes(os.urandom(40 * KiB))
    (folder / "notes.md").write_text("notes\n")

    hf_ok(live_server, user, tmp_path, "upload", repo, str(single), "single.bin")
    hf_ok(live_server, user, tmp_path, "upload", repo, str(folder), "folder")

    assert_uploaded_through_xet(cas)
    entries = tree_entries(user, repo)
    assert entries["single.bin"].xet_hash == xet_hash(single)
    assert entries["folder/nested/a.bin"].xet_hash == xet_hash(folder / "nested" / "a.bin")
    assert entries["folder/notes.md"].lfs is None


def test_hf_upload_of_a_large_folder_commits_it_in_several_parts(
    live_server: LiveServer, user: HubUser, repo: str, cas: AccessLog, tmp_path: Path
) -> None:
    # `hf upload-large-folder` is gone in huggingface_hub 2.4: `hf upload` of a folder splits
    # it into commits of at most 250 files to begin with.
    folder = tmp_path / "shards"
    folder.mkdir()
    contents = {f"shard-{n:04d}.bin": os.urandom(1 * KiB + n) for n in range(300)}
    for name, content in contents.items():
        (folder / name).write_bytes(content)

    hf_ok(live_server, user, tmp_path, "upload", repo, str(folder), ".")

    assert_uploaded_through_xet(cas)
    commits = user.api.list_repo_commits(repo)
    assert len(commits) >= 3  # the repo's creation, then at least two parts
    assert any("(part 2)" in commit.title for commit in commits)
    entries = tree_entries(user, repo)
    stored = {name: entries[name].lfs for name in contents}
    assert {name: lfs.sha256 if lfs else None for name, lfs in stored.items()} == {
        name: sha256(content) for name, content in contents.items()
    }


@pytest.mark.slow
def test_a_sparse_file_of_more_than_five_gib_uploads_through_xet(
    live_server: LiveServer, user: HubUser, repo: str, cas: AccessLog, tmp_path: Path
) -> None:
    source = tmp_path / "huge.bin"
    size = 5 * 1024 * MiB + 12_345
    with source.open("wb") as file:
        file.write(os.urandom(MiB))
        file.seek(size - MiB)
        file.write(os.urandom(MiB))
    started = time.perf_counter()
    expected = file_sha256(source)
    hashed = time.perf_counter() - started

    started = time.perf_counter()
    user.api.upload_file(path_or_fileobj=source, path_in_repo="huge.bin", repo_id=repo)
    uploaded = time.perf_counter() - started

    assert_uploaded_through_xet(cas)
    entry = tree_entries(user, repo)["huge.bin"]
    assert entry.lfs is not None and (entry.lfs.sha256, entry.size) == (expected, size)
    assert entry.xet_hash is not None
    print(f"5 GiB sparse file through Xet: hash {hashed:.1f}s, upload {uploaded:.1f}s")


# --- downloads ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class XetRepo:
    """A repo holding files uploaded through Xet, and one uploaded as plain LFS."""

    server: LiveServer
    user: HubUser
    repo: str
    xet_files: dict[str, bytes]
    lfs_files: dict[str, bytes]


@pytest.fixture(scope="module")
def xet_repo(live_server: LiveServer) -> Iterator[XetRepo]:
    user = make_user(live_server)
    repo = f"{user.name}/{unique_name('xet')}"
    user.api.create_repo(repo)
    xet_files = {"small.bin": os.urandom(100 * KiB + 3), "nested/big.bin": os.urandom(3 * MiB + 5)}
    lfs_files = {"plain-lfs.bin": os.urandom(200 * KiB + 9)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_DISABLE_XET", False)
        user.api.create_commit(
            repo,
            [CommitOperationAdd(path, data) for path, data in xet_files.items()],
            commit_message="via Xet",
        )
        patch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        user.api.create_commit(
            repo,
            [CommitOperationAdd(path, data) for path, data in lfs_files.items()],
            commit_message="via LFS",
        )
    yield XetRepo(live_server, user, repo, xet_files, lfs_files)
    user.api.delete_repo(repo)


@hub_serves_downloads
def test_hf_hub_download_of_xet_files_goes_through_the_cas(
    xet_repo: XetRepo, cas: AccessLog, tmp_path: Path
) -> None:
    for path, data in xet_repo.xet_files.items():
        local = hf_hub_download(
            xet_repo.repo,
            path,
            endpoint=xet_repo.server.url,
            token=xet_repo.user.token,
            cache_dir=tmp_path,
        )
        assert Path(local).read_bytes() == data
    assert_downloaded_through_xet(cas)


@hub_serves_downloads
def test_snapshot_download_of_xet_files_goes_through_the_cas(
    xet_repo: XetRepo, cas: AccessLog, tmp_path: Path
) -> None:
    server, user = xet_repo.server, xet_repo.user
    folder = Path(
        snapshot_download(xet_repo.repo, endpoint=server.url, token=user.token, cache_dir=tmp_path)
    )

    for path, data in {**xet_repo.xet_files, **xet_repo.lfs_files}.items():
        assert (folder / path).read_bytes() == data
    assert_downloaded_through_xet(cas)


@hub_serves_downloads
def test_hf_file_system_gets_xet_files_through_the_cas_and_reads_them_with_seeks(
    xet_repo: XetRepo, cas: AccessLog, tmp_path: Path
) -> None:
    fs = HfFileSystem(endpoint=xet_repo.server.url, token=xet_repo.user.token)
    data = xet_repo.xet_files["nested/big.bin"]

    fs.get_file(f"{xet_repo.repo}/nested/big.bin", str(tmp_path / "big.bin"))
    assert (tmp_path / "big.bin").read_bytes() == data
    assert_downloaded_through_xet(cas)
    # Reads of an open file are ranged GETs on resolve (the client has no Xet path for them),
    # which the hub answers from the xorbs.
    with fs.open(f"{xet_repo.repo}/nested/big.bin", "rb", block_size=64 * KiB) as file:
        file.seek(MiB + 11)
        assert file.read(100 * KiB) == data[MiB + 11 : MiB + 11 + 100 * KiB]
        file.seek(-5, os.SEEK_END)
        assert file.read() == data[-5:]
        file.seek(3)
        assert file.read(7) == data[3:10]
    assert cas.served("GET", f"/{xet_repo.repo}/resolve/main/nested/big.bin")


def test_the_client_with_xet_disabled_downloads_xet_files_without_the_cas(
    xet_repo: XetRepo, cas: AccessLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)

    for path, data in xet_repo.xet_files.items():
        local = hf_hub_download(
            xet_repo.repo,
            path,
            endpoint=xet_repo.server.url,
            token=xet_repo.user.token,
            cache_dir=tmp_path,
        )
        assert Path(local).read_bytes() == data
    assert_no_cas_traffic(cas)


def test_plain_http_gets_xet_files_whole_and_by_range(xet_repo: XetRepo) -> None:
    data = xet_repo.xet_files["nested/big.bin"]
    url = f"{xet_repo.server.url}/{xet_repo.repo}/resolve/main/nested/big.bin"
    headers = {"Authorization": f"Bearer {xet_repo.user.token}"}
    with httpx.Client(headers=headers, follow_redirects=True) as http:
        whole = http.get(url)
        window = http.get(url, headers={"Range": "bytes=1048000-1300000"})
        tail = http.get(url, headers={"Range": "bytes=-10"})

    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["X-Xet-Hash"]
    assert window.status_code == 206 and window.content == data[1048000:1300001]
    assert window.headers["Content-Range"] == f"bytes 1048000-1300000/{len(data)}"
    assert tail.status_code == 206 and tail.content == data[-10:]


@reads_local_blobs
def test_windows_of_a_file_of_several_xorbs_read_only_their_own_bytes(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    # Random bytes fill a xorb at 64 MiB: this file spans two, and each window below lies in
    # one of them or across the boundary; both the plain stream and the CAS plan serve them.
    data = random.Random("two xorbs").randbytes(80 * MiB)
    before = set(stored_xorbs(live_server))
    user.api.upload_file(path_or_fileobj=data, path_in_repo="big.bin", repo_id=repo)
    assert len(set(stored_xorbs(live_server)) - before) == 2
    url = f"{live_server.url}/{repo}/resolve/main/big.bin"
    windows = [(0, 99), (64 * MiB - 70_000, 64 * MiB + 70_000), (len(data) - 100, len(data) - 1)]

    with httpx.Client(headers={"Authorization": f"Bearer {user.token}"}) as http:
        for start, end in windows:
            got = http.get(url, headers={"Range": f"bytes={start}-{end}"})
            assert got.status_code == 206 and got.content == data[start : end + 1]
        fs = HfFileSystem(endpoint=live_server.url, token=user.token)
        with fs.open(f"{repo}/big.bin", "rb") as file:
            for start, end in windows:
                file.seek(start)
                assert file.read(end + 1 - start) == data[start : end + 1]


def test_hubstead_client_downloads_xet_files(xet_repo: XetRepo, tmp_path: Path) -> None:
    for path, data in xet_repo.xet_files.items():
        local = hubstead.hf_hub_download(
            xet_repo.repo,
            path,
            endpoint=xet_repo.server.url,
            token=xet_repo.user.token,
            cache_dir=tmp_path,
        )
        assert Path(local).read_bytes() == data


def test_git_clone_with_git_lfs_checks_out_xet_files(xet_repo: XetRepo, tmp_path: Path) -> None:
    require_git_lfs()
    git = GitUser(tmp_path / "home")
    git.run("lfs", "install")
    url = repo_url(xet_repo.server.url, xet_repo.repo, token=xet_repo.user.token)

    checkout = git.clone(url, tmp_path / "checkout")

    for path, data in {**xet_repo.xet_files, **xet_repo.lfs_files}.items():
        assert (checkout / path).read_bytes() == data


def test_files_uploaded_as_plain_lfs_have_no_xet_hash_and_download_with_xet_on(
    xet_repo: XetRepo, cas: AccessLog, tmp_path: Path
) -> None:
    user, repo = xet_repo.user, xet_repo.repo
    (path, data), *_ = xet_repo.lfs_files.items()
    entry = tree_entries(user, repo)[path]
    (info,) = user.api.get_paths_info(repo, [path])
    head = httpx.head(
        f"{xet_repo.server.url}/{repo}/resolve/main/{path}",
        headers={"Authorization": f"Bearer {user.token}"},
    )

    local = hf_hub_download(
        repo, path, endpoint=xet_repo.server.url, token=user.token, cache_dir=tmp_path
    )

    assert entry.lfs is not None and entry.lfs.sha256 == sha256(data)
    assert (entry.xet_hash, getattr(info, "xet_hash", None)) == (None, None)
    assert head.headers["X-Linked-Size"] == str(len(data))
    assert "X-Xet-Hash" not in head.headers
    assert Path(local).read_bytes() == data
    assert_no_cas_traffic(cas)


# --- dedup --------------------------------------------------------------------------------------


def changed_in_places(data: bytes, places: int, fraction: float) -> bytes:
    """`data` with `fraction` of its bytes replaced, in `places` runs spread over it."""
    changed = bytearray(data)
    run = int(len(data) * fraction / places)
    for n in range(places):
        start = len(data) * (2 * n + 1) // (2 * places)
        changed[start : start + run] = os.urandom(run)
    return bytes(changed)


def compressible(rng: random.Random, size: int) -> bytes:
    """Text-like bytes (words of a small vocabulary), which the client stores LZ4-compressed."""
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(500)
    ]
    text = b" ".join(rng.choices(words, k=size // 4))
    return text[:size]


@pytest.mark.parametrize(
    ("uploader", "size", "content"),
    [
        ("same client", 24 * MiB, "random"),
        ("fresh hf CLI", 24 * MiB, "random"),
        # Several xorbs, most without a global-dedup chunk: one answer must describe them all.
        ("fresh hf CLI", 200 * MiB, "random"),
        # Compressed chunks: a xorb's chunk offsets and its unpacked offsets differ.
        ("fresh hf CLI", 24 * MiB, "text"),
    ],
    ids=["same-client", "fresh-cli", "fresh-cli-several-xorbs", "fresh-cli-compressible"],
)
@reads_local_blobs
def test_a_slightly_changed_file_stores_less_than_a_tenth_of_its_bytes(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    cas: AccessLog,
    tmp_path: Path,
    uploader: str,
    size: int,
    content: str,
) -> None:
    first, second = repo_factory(), repo_factory()
    # Seeded, so that which chunks are global-dedup chunks is the same in every run; one seed a
    # case, so that no case finds its bytes in the client's cache of another case's uploads.
    rng = random.Random(f"{uploader} {size} {content}")
    original = rng.randbytes(size) if content == "random" else compressible(rng, size)
    source = tmp_path / "original.bin"
    source.write_bytes(original)
    user.api.upload_file(path_or_fileobj=source, path_in_repo="data.bin", repo_id=first)
    changed = tmp_path / "changed.bin"
    changed.write_bytes(changed_in_places(original, places=4, fraction=0.01))
    before = stored_xorb_bytes(live_server)

    if uploader == "same client":
        user.api.upload_file(path_or_fileobj=changed, path_in_repo="other.bin", repo_id=second)
    else:  # no local cache: only the hub's global dedup can spare the bytes
        hf_ok(live_server, user, tmp_path / "fresh", "upload", second, str(changed), "other.bin")

    added = stored_xorb_bytes(live_server) - before
    print(f"dedup ({uploader}): {added} new xorb bytes, {added / len(original):.2%} of the file")
    assert 0 < added < len(original) / 10
    entry = tree_entries(user, second)["other.bin"]
    assert entry.lfs is not None and entry.lfs.sha256 == file_sha256(changed)
    local = hf_hub_download(
        second, "other.bin", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(local).read_bytes() == changed.read_bytes()


# --- access -------------------------------------------------------------------------------------


def token_route(server: LiveServer, repo: str, kind: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.url}/api/models/{repo}/xet-{kind}-token/main", headers=headers)


def test_a_private_repos_xet_file_is_invisible_to_another_user(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    repo = repo_factory(private=True)
    user.api.upload_file(path_or_fileobj=os.urandom(10 * KiB), path_in_repo="w.bin", repo_id=repo)

    assert token_route(live_server, repo, "read", user.token).status_code == 200
    assert token_route(live_server, repo, "read", other_user.token).status_code == 404
    assert token_route(live_server, repo, "read", None).status_code in {401, 404}
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            repo, "w.bin", endpoint=live_server.url, token=other_user.token, cache_dir=tmp_path
        )


def test_a_read_token_cannot_get_a_write_token(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret

    assert token_route(live_server, repo, "read", read_token).status_code == 200
    assert token_route(live_server, repo, "write", read_token).status_code == 403


def test_anonymous_cannot_get_a_write_token(live_server: LiveServer, repo: str) -> None:
    assert token_route(live_server, repo, "read", None).status_code == 200
    assert token_route(live_server, repo, "write", None).status_code == 401


def test_an_uploader_reuses_its_xorbs_after_their_repo_was_deleted(
    live_server: LiveServer, user: HubUser, tmp_path: Path, cas: AccessLog
) -> None:
    # The client's cache remembers the xorbs of the first upload: the second sends none, and
    # the hub accepts them because this account uploaded them, though no repo holds them now.
    data = random.Random("reupload").randbytes(3 * MiB)
    gone = user.api.create_repo(f"{user.name}/{unique_name('gone')}").repo_id
    user.api.upload_file(path_or_fileobj=data, path_in_repo="model.bin", repo_id=gone)
    user.api.delete_repo(gone)
    again = user.api.create_repo(f"{user.name}/{unique_name('again')}").repo_id
    before = stored_xorb_bytes(live_server)

    user.api.upload_file(path_or_fileobj=data, path_in_repo="model.bin", repo_id=again)

    assert stored_xorb_bytes(live_server) == before
    local = hf_hub_download(
        again, "model.bin", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(local).read_bytes() == data
