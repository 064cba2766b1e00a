"""One cache, two clients: what hubstead downloads the official client finds offline, and back.

Each test fills a cache with one client and reads it with the other without any request
(`local_files_only=True`, `try_to_load_from_cache`), so a hit proves the layout is the same.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import huggingface_hub as hf
import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub import errors as hf_errors
from huggingface_hub._local_folder import read_download_metadata

from hubstead import errors
from hubstead.client import cache as mh_cache
from hubstead.client.api import HfApi
from hubstead.client.cache_scan import scan_cache_dir
from tests.helpers.accounts import HubUser
from tests.helpers.lfs import sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until

FILES = {"config.json": b'{"hidden": 8}', "weights.bin": os.urandom(4096), "a/b/deep.txt": b"deep"}


def seed(user: HubUser, repo_id: str, files: dict[str, bytes] = FILES) -> str:
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    return str(user.api.create_commit(repo_id, operations, commit_message="seed").oid)


def official_download(server: LiveServer, user: HubUser, repo: str, name: str, cache: Path) -> str:
    return hf.hf_hub_download(repo, name, endpoint=server.url, token=user.token, cache_dir=cache)


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_file_hubstead_downloaded_is_found_by_the_official_client_offline(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path, name: str
) -> None:
    seed(user, repo)
    ours = client.hf_hub_download(repo, name, cache_dir=tmp_path)

    theirs = hf.hf_hub_download(repo, name, cache_dir=tmp_path, local_files_only=True)

    assert theirs == ours
    assert hf.try_to_load_from_cache(repo, name, cache_dir=tmp_path) == ours
    assert Path(theirs).read_bytes() == FILES[name]


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_file_the_official_client_downloaded_is_found_by_hubstead_offline(
    live_server: LiveServer, client: HfApi, user: HubUser, repo: str, tmp_path: Path, name: str
) -> None:
    seed(user, repo)
    theirs = official_download(live_server, user, repo, name, tmp_path)

    ours = client.hf_hub_download(repo, name, cache_dir=tmp_path, local_files_only=True)

    assert ours == theirs
    assert mh_cache.try_to_load_from_cache(repo, name, cache_dir=tmp_path) == theirs


def test_the_clients_share_blobs_across_revisions(
    live_server: LiveServer, client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo)
    first = official_download(live_server, user, repo, "weights.bin", tmp_path)
    seed(user, repo, {"other.txt": b"moves main"})

    second = client.hf_hub_download(repo, "weights.bin", cache_dir=tmp_path)

    assert first != second
    assert Path(first).resolve() == Path(second).resolve()
    assert Path(second).resolve().name == sha256(FILES["weights.bin"])


def test_a_snapshot_hubstead_downloaded_is_found_by_the_official_client_offline(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo)
    ours = client.snapshot_download(repo, cache_dir=tmp_path)

    theirs = hf.snapshot_download(repo, cache_dir=tmp_path, local_files_only=True)

    assert theirs == ours
    found = {p.relative_to(ours).as_posix() for p in Path(ours).rglob("*") if p.is_file()}
    assert found == {*FILES, ".gitattributes"}
    info = hf.scan_cache_dir(tmp_path)
    assert info.warnings == []
    assert [r.repo_id for r in info.repos] == [repo]


def test_a_snapshot_the_official_client_downloaded_is_found_by_hubstead_offline(
    live_server: LiveServer, client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo)
    theirs = hf.snapshot_download(
        repo, endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )

    ours = client.snapshot_download(repo, cache_dir=tmp_path, local_files_only=True)

    assert ours == theirs
    scanned = scan_cache_dir(tmp_path)
    assert scanned.warnings == ()
    (cached,) = scanned.repos
    files = [p for p in Path(theirs).rglob("*") if p.is_file()]
    assert (cached.repo_id, cached.nb_files) == (repo, len(files))
    assert cached.size_on_disk == sum(p.stat().st_size for p in files)
    assert cached.refs == {"main": Path(theirs).name}


def test_a_missing_file_is_remembered_in_no_exist_and_honoured_by_both_clients(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    commit = seed(user, repo)

    with pytest.raises(errors.RemoteEntryNotFoundError):
        client.hf_hub_download(repo, "missing.txt", cache_dir=tmp_path)

    folder = tmp_path / f"models--{repo.replace('/', '--')}"
    assert (folder / ".no_exist" / commit / "missing.txt").is_file()
    assert (folder / "refs" / "main").read_text() == commit
    assert hf.try_to_load_from_cache(repo, "missing.txt", cache_dir=tmp_path) is hf._CACHED_NO_EXIST
    with pytest.raises(errors.LocalEntryNotFoundError, match="said so earlier"):
        client.hf_hub_download(repo, "missing.txt", cache_dir=tmp_path, local_files_only=True)


def test_a_missing_file_the_official_client_recorded_is_honoured_by_hubstead(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    seed(user, repo)
    with pytest.raises(hf_errors.EntryNotFoundError):
        official_download(live_server, user, repo, "missing.txt", tmp_path)

    found = mh_cache.try_to_load_from_cache(repo, "missing.txt", cache_dir=tmp_path)

    assert found is mh_cache.CACHED_NO_EXIST


def test_local_dir_metadata_is_read_by_the_official_client(
    client: HfApi, user: HubUser, repo: str, tmp_path: Path
) -> None:
    commit = seed(user, repo)

    path = client.hf_hub_download(repo, "weights.bin", local_dir=tmp_path)

    metadata = read_download_metadata(tmp_path, "weights.bin")
    assert metadata is not None
    assert (metadata.commit_hash, metadata.etag) == (commit, sha256(FILES["weights.bin"]))
    assert (
        hf.hf_hub_download(repo, "weights.bin", local_dir=tmp_path, local_files_only=True) == path
    )


def test_local_dir_the_official_client_filled_is_not_downloaded_again(
    live_server: LiveServer,
    user: HubUser,
    repo: str,
    tmp_path: Path,
) -> None:
    commit = seed(user, repo)
    theirs = hf.hf_hub_download(
        repo, "weights.bin", endpoint=live_server.url, token=user.token, local_dir=tmp_path
    )
    stamp = Path(theirs).stat().st_mtime_ns

    with HfApi(endpoint=live_server.url, token=user.token, trust_env=False) as api:
        ours = api.hf_hub_download(repo, "weights.bin", local_dir=tmp_path, revision=commit)

    assert ours == theirs
    assert Path(ours).stat().st_mtime_ns == stamp


def test_the_official_client_waits_for_the_lock_hubstead_holds(
    live_server: LiveServer,
    user: HubUser,
    repo: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(user, repo)
    etag = sha256(FILES["weights.bin"])
    cache = mh_cache.RepoCache(tmp_path, repo, "model")
    lock = str(cache.lock_path(etag))
    done = threading.Event()
    # The official client takes its lock with `filelock`, which polls for it and logs each
    # refusal at debug level: that line says it tried and is waiting.
    caplog.set_level(logging.DEBUG, logger="filelock")

    def refused() -> bool:
        return any(
            "not acquired on" in record.getMessage() and lock in record.getMessage()
            for record in list(caplog.records)
        )

    def official() -> None:
        official_download(live_server, user, repo, "weights.bin", tmp_path)
        done.set()

    with mh_cache.file_lock(cache.lock_path(etag)):
        thread = threading.Thread(target=official)
        thread.start()
        wait_until(refused, "the official client to be refused the lock", timeout=60)
        waited = not done.is_set() and not cache.blob_path(etag).exists()
    thread.join(timeout=60)

    assert waited
    assert done.is_set()
    assert cache.blob_path(etag).read_bytes() == FILES["weights.bin"]
