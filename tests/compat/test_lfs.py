"""LFS files through the unmodified official client: uploads, commits, downloads, resumes.

Most tests use the session hub (multipart from 256 MiB); `small_hub` offers multipart transfer
from 4 MiB in 1 MiB parts so the client's multipart path runs on small files. The `slow` tests
move 1 GiB of random bytes and a sparse file of more than 5 GiB through the default settings.
"""

from __future__ import annotations

import os
import resource
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    HfApi,
    RepoFile,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import BadRequestError, RepositoryNotFoundError

from hubstead.protocol import format_lfs_pointer
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.commits import git_blob_sha1
from tests.helpers.lfs import CuttingProxy, MiB, blob_files, file_sha256, lfs_server, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import hub_serves_downloads, reads_local_blobs

# huggingface_hub 2.4 PUTs LFS bytes with httpx's deprecated `data=<file>`: its warning is the
# client's business, not a failure of the hub.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"
)


@pytest.fixture(scope="module")
def small_hub(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path_factory.mktemp("small-lfs-hub"), postgres) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(small_hub: LiveServer) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(small_hub.port)
    yield proxy
    proxy.close()


def download(server_url: str, user: HubUser, repo: str, filename: str, cache: Path) -> Path:
    return Path(
        hf_hub_download(repo, filename, endpoint=server_url, token=user.token, cache_dir=cache)
    )


def test_an_lfs_file_is_committed_as_a_pointer_and_downloads_verified(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    data = os.urandom(300_000)

    user.api.upload_file(path_or_fileobj=data, path_in_repo="weights.bin", repo_id=repo)

    (entry,) = [e for e in user.api.list_repo_tree(repo) if e.path == "weights.bin"]
    pointer = format_lfs_pointer(sha256(data), len(data))
    assert isinstance(entry, RepoFile)
    assert entry.lfs is not None
    assert (entry.lfs.sha256, entry.lfs.size) == (sha256(data), len(data))
    assert entry.lfs.pointer_size == len(pointer)
    assert entry.size == len(data)
    assert entry.blob_id == git_blob_sha1(pointer)
    path = download(live_server.url, user, repo, "weights.bin", tmp_path)
    assert file_sha256(path) == sha256(data)


@hub_serves_downloads
def test_file_metadata_of_an_lfs_file_is_its_sha256_and_size(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    data = os.urandom(5000)
    commit = user.api.upload_file(path_or_fileobj=data, path_in_repo="m.bin", repo_id=repo)

    metadata = get_hf_file_metadata(
        hf_hub_url(repo, "m.bin", endpoint=live_server.url), token=user.token
    )

    assert metadata.etag == sha256(data)
    assert metadata.size == len(data)
    assert metadata.commit_hash == commit.oid
    assert f"/lfs/objects/{sha256(data)}" in metadata.location


def test_repo_info_siblings_carry_the_lfs_sha256(user: HubUser, repo: str) -> None:
    data = os.urandom(2048)
    user.api.upload_file(path_or_fileobj=data, path_in_repo="a/b.safetensors", repo_id=repo)

    info = user.api.model_info(repo, files_metadata=True)

    (sibling,) = [s for s in info.siblings or [] if s.rfilename == "a/b.safetensors"]
    assert sibling.lfs is not None
    assert sibling.lfs.sha256 == sha256(data)
    assert sibling.lfs.size == len(data)
    assert sibling.size == len(data)


def test_reuploading_the_same_lfs_file_makes_no_new_commit(user: HubUser, repo: str) -> None:
    data = os.urandom(4096)
    first = user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)

    again = user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)

    assert again.oid == first.oid
    assert len(user.api.list_repo_commits(repo)) == 2  # creation and the first upload


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_lfs_files_round_trip_in_datasets_and_spaces(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    tmp_path: Path,
    repo_type: str,
) -> None:
    repo = repo_factory(repo_type)
    data = os.urandom(10_000)
    user.api.upload_file(
        path_or_fileobj=data, path_in_repo="weights.bin", repo_id=repo, repo_type=repo_type
    )

    path = hf_hub_download(
        repo,
        "weights.bin",
        repo_type=repo_type,
        endpoint=live_server.url,
        token=user.token,
        cache_dir=tmp_path,
    )

    assert Path(path).read_bytes() == data


def test_snapshot_download_gets_every_lfs_file_verified(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    files = {f"shard-{n}.safetensors": os.urandom(20_000 + n) for n in range(3)}
    folder = tmp_path / "upload"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "config.json").write_text("{}")
    user.api.upload_folder(folder_path=folder, repo_id=repo)

    snapshot = Path(
        snapshot_download(
            repo, endpoint=live_server.url, token=user.token, cache_dir=tmp_path / "cache"
        )
    )

    for name, data in files.items():
        assert file_sha256(snapshot / name) == sha256(data)
    assert (snapshot / "config.json").read_text() == "{}"


@reads_local_blobs
def test_identical_content_in_two_repos_is_stored_once(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    data = os.urandom(50_000)
    repos = [repo_factory(), repo_factory()]

    for repo in repos:
        user.api.upload_file(path_or_fileobj=data, path_in_repo="same.bin", repo_id=repo)

    assert [p.name for p in blob_files(live_server)].count(sha256(data)) == 1
    for n, repo in enumerate(repos):
        path = download(live_server.url, user, repo, "same.bin", tmp_path / str(n))
        assert path.read_bytes() == data


@reads_local_blobs
def test_another_user_uploading_the_same_content_sends_the_bytes(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str, tmp_path: Path
) -> None:
    data = os.urandom(40_000)
    user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)
    theirs = f"{other_user.name}/{unique_name('copycat')}"
    other_user.api.create_repo(theirs)

    other_user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=theirs)

    path = download(live_server.url, other_user, theirs, "w.bin", tmp_path)
    assert path.read_bytes() == data
    assert [p.name for p in blob_files(live_server)].count(sha256(data)) == 1


def test_a_private_repos_lfs_files_are_invisible_to_other_users(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    repo = repo_factory(private=True)
    user.api.upload_file(path_or_fileobj=os.urandom(1000), path_in_repo="w.bin", repo_id=repo)

    with pytest.raises(RepositoryNotFoundError):
        download(live_server.url, other_user, repo, "w.bin", tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo, "w.bin", endpoint=live_server.url, cache_dir=tmp_path, token=False)


def test_a_commit_naming_an_object_uploaded_to_another_repo_is_refused(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    first, second = repo_factory(), repo_factory()
    addition = CommitOperationAdd(path_in_repo="w.bin", path_or_fileobj=os.urandom(3000))
    user.api.preupload_lfs_files(first, [addition])
    before = user.api.model_info(second).sha

    # The client skips the upload of an addition it already sent, and commits its `lfsFile`.
    with pytest.raises(BadRequestError, match="has not been uploaded"):
        user.api.create_commit(second, [addition], commit_message="borrow")

    assert user.api.model_info(second).sha == before
    user.api.create_commit(first, [addition], commit_message="own")


def test_copying_an_lfs_file_keeps_it_an_lfs_file(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    data = os.urandom(6000)
    user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)

    user.api.create_commit(
        repo,
        [CommitOperationCopy(src_path_in_repo="w.bin", path_in_repo="copy/w.bin")],
        commit_message="copy",
    )

    (entry,) = user.api.get_paths_info(repo, ["copy/w.bin"])
    assert isinstance(entry, RepoFile)
    assert entry.lfs is not None
    assert entry.lfs.sha256 == sha256(data)
    assert download(live_server.url, user, repo, "copy/w.bin", tmp_path).read_bytes() == data


# --- multipart and interrupted transfers (small parts) ------------------------------------------


def test_a_file_past_the_multipart_threshold_is_sent_in_parts(
    small_hub: LiveServer, proxy: CuttingProxy, tmp_path: Path
) -> None:
    user = make_user(small_hub)
    api = HfApi(endpoint=proxy.url, token=user.token)
    repo = f"{user.name}/{unique_name('multipart')}"
    api.create_repo(repo)
    data = os.urandom(5 * MiB + 321)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    seen = len(proxy.requests)

    api.upload_file(path_or_fileobj=source, path_in_repo="big.bin", repo_id=repo)

    requests = proxy.requests[seen:]
    assert sum(r.startswith("PUT /lfs/multipart/") for r in requests) == 6
    assert sum(r.startswith("POST /lfs/multipart/") for r in requests) == 1
    assert not list((small_hub.data_dir / "blobs" / ".uploads").iterdir())
    path = download(proxy.url, user, repo, "big.bin", tmp_path / "cache")
    assert file_sha256(path) == sha256(data)


def test_an_interrupted_download_resumes_with_a_range(
    small_hub: LiveServer, proxy: CuttingProxy, tmp_path: Path
) -> None:
    user = make_user(small_hub)
    repo = f"{user.name}/{unique_name('resume')}"
    user.api.create_repo(repo)
    # The 2.4 client writes what it received in 10 MiB pieces: cut after the first one.
    data = os.urandom(24 * MiB)
    user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)
    proxy.cut_next("/lfs/objects/", 15 * MiB)
    served = proxy.served
    seen = len(proxy.requests)

    # The client retries a download cut short (after a one-second pause), asking for the rest.
    path = download(proxy.url, user, repo, "w.bin", tmp_path)

    assert file_sha256(path) == sha256(data)
    gets = [r for r in proxy.requests[seen:] if r.startswith("GET /lfs/objects/")]
    assert len(gets) == 2
    assert "\r\nrange: bytes=10485760-\r\n" in gets[1].lower() + "\r\n"
    # The bytes received before the cut were kept: the retry sent only the rest.
    assert proxy.served - served < len(data) + 6 * MiB


def test_a_leftover_incomplete_file_does_not_corrupt_the_download(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    user.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)
    blobs = tmp_path / f"models--{repo.replace('/', '--')}" / "blobs"
    blobs.mkdir(parents=True)
    # What a 2.4 client killed mid-download leaves: the first bytes in
    # `<etag>.<random>.incomplete`. 2.4 never resumes such a file across calls (its temporary
    # names are unique per call, see `_download_to_tmp_and_move`); it downloads afresh.
    (blobs / f"{sha256(data)}.0badc0de.incomplete").write_bytes(data[:50_000])

    path = download(live_server.url, user, repo, "w.bin", tmp_path)

    assert path.read_bytes() == data


# --- large files (slow) -------------------------------------------------------------------------


class DiskPeak:
    """The most disk space used (above what was used at the start) while the block runs."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._baseline = shutil.disk_usage(path).used
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> DiskPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self.peak = max(self.peak, shutil.disk_usage(self._path).used - self._baseline)


def _round_trip(server: LiveServer, user: HubUser, source: Path, cache: Path) -> dict[str, float]:
    """Upload `source` as an LFS file and download it, checking sha256 on both ends."""
    repo = f"{user.name}/{unique_name('large')}"
    user.api.create_repo(repo)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    expected = file_sha256(source)
    timings["hash_s"] = time.perf_counter() - started
    stored = server.data_dir / "blobs" / expected[:2] / expected[2:4] / expected
    try:
        with DiskPeak(cache.parent) as disk:
            started = time.perf_counter()
            user.api.upload_file(path_or_fileobj=source, path_in_repo=source.name, repo_id=repo)
            timings["upload_s"] = time.perf_counter() - started
            assert stored.stat().st_size == source.stat().st_size
            assert not list((server.data_dir / "blobs" / ".uploads").iterdir())

            started = time.perf_counter()
            path = download(server.url, user, repo, source.name, cache).resolve()
            timings["download_s"] = time.perf_counter() - started
            assert path.stat().st_size == source.stat().st_size
            assert file_sha256(path) == expected
        timings["disk_peak_gib"] = disk.peak / 1024**3
        timings["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        # Large files do not outlive the test (pytest keeps recent temp dirs around).
        user.api.delete_repo(repo)
        shutil.rmtree(cache, ignore_errors=True)
        stored.unlink(missing_ok=True)
    return timings


@pytest.mark.slow
@reads_local_blobs
def test_a_one_gib_random_model_round_trips(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    source = tmp_path / "model.safetensors"
    with source.open("wb") as file:
        for _ in range(1024 + 1):
            file.write(os.urandom(MiB))

    timings = _round_trip(live_server, user, source, tmp_path / "cache")

    source.unlink()
    print(f"1 GiB round trip: {timings}")


@pytest.mark.slow
@reads_local_blobs
def test_a_file_of_more_than_five_gib_round_trips(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    source = tmp_path / "huge.bin"
    size = 5 * 1024 * MiB + 12_345
    with source.open("wb") as file:
        file.write(os.urandom(MiB))
        file.seek(size - MiB)
        file.write(os.urandom(MiB))

    timings = _round_trip(live_server, user, source, tmp_path / "cache")

    source.unlink()
    print(f"5 GiB round trip: {timings}")
