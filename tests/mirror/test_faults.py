"""Syncs that go wrong: upstream down or cut off, wrong bytes, missing repos, refused tokens,
a blob store that cannot be written, two syncs at once. The mirror always stays at its last
good state, and a failure says why."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import RepositoryNotFoundError

from hubstead.protocol import RepoType
from hubstead.server.domain.jobs import JobRecord, JobState
from hubstead.server.services.mirroring.mirrors import SYNC_KIND
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import CuttingProxy, blob_files, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import FaultProxy, add_mirror, read_only, runner, sync
from tests.helpers.proxy import RecordingProxy

MiB = 1024 * 1024


def small_repo(owner: HubUser) -> str:
    repo_id = f"{owner.name}/{unique_name('faulty')}"
    owner.api.create_repo(repo_id)
    owner.api.upload_file(path_or_fileobj=b"# first\n", path_in_repo="README.md", repo_id=repo_id)
    return repo_id


def files_of(api: HfApi, repo_id: str) -> set[str]:
    return set(api.list_repo_files(repo_id))


def test_sync_with_upstream_down_is_retried_and_the_mirror_keeps_serving(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id = small_repo(owner)
    data = os.urandom(3000)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="w.safetensors", repo_id=repo_id)
    proxy = FaultProxy(upstream.port)
    add_mirror(mirror, repo_id, proxy.url)
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    head = reader.api.repo_info(repo_id).sha
    proxy.close()  # upstream is gone: connections are cut and refused

    job = sync(mirror, repo_id)

    assert job.state is JobState.QUEUED  # retryable: it runs again later
    assert job.error is not None and "unreachable" in job.error
    record = mirror.services.mirrors.get(RepoType.MODEL, repo_id)
    assert record.sync_error == job.error
    assert reader.api.repo_info(repo_id).sha == head
    local = hf_hub_download(
        repo_id, "w.safetensors", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path
    )
    assert Path(local).read_bytes() == data


def test_connection_cut_mid_sync_moves_nothing_and_the_next_sync_resumes(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id = small_repo(owner)
    proxy = CuttingProxy(upstream.port)
    try:
        add_mirror(mirror, repo_id, proxy.url)
        assert sync(mirror, repo_id).state is JobState.SUCCEEDED
        head = reader.api.repo_info(repo_id).sha
        big = os.urandom(2 * MiB + 100_000)  # three 1 MiB parts on the mirror
        owner.api.upload_file(path_or_fileobj=big, path_in_repo="big.safetensors", repo_id=repo_id)
        # Parts 1 and 2 download at once: the connection of the first one asked dies half-way.
        proxy.cut_next("/lfs/objects/", MiB // 2)
        before = len(proxy.requests)

        job = sync(mirror, repo_id)

        assert job.state is JobState.QUEUED, job.error
        assert job.error is not None and "unreachable" in job.error
        assert reader.api.repo_info(repo_id).sha == head  # nothing half-visible
        assert "big.safetensors" not in files_of(reader.api, repo_id)
        cut_at = len(proxy.requests)

        assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    finally:
        proxy.close()
    assert before < cut_at
    cut = next(r for r in proxy.requests[before:cut_at] if r.startswith("GET /lfs/objects/"))
    resumed = [r for r in proxy.requests[cut_at:] if "/resolve/" in r.split("\r\n", 1)[0]]
    ranges = {line for r in resumed for line in r.split("\r\n") if line.startswith("Range")}
    # The part cut short is fetched again, the other one under way was kept whole (the third
    # part, unless it was fetched whole too, is fetched now).
    first_two = {"Range: bytes=0-1048575", "Range: bytes=1048576-2097151"}
    assert ranges & first_two == {line for line in cut.split("\r\n") if line.startswith("Range")}
    assert ranges - first_two <= {"Range: bytes=2097152-2197151"}
    assert reader.api.repo_info(repo_id).sha == owner.api.repo_info(repo_id).sha
    local = hf_hub_download(
        repo_id, "big.safetensors", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path
    )
    assert sha256(Path(local).read_bytes()) == sha256(big)


def test_wrong_bytes_from_upstream_are_detected_and_never_stored(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser
) -> None:
    repo_id = small_repo(owner)
    proxy = FaultProxy(upstream.port)
    proxy.corrupt("/lfs/objects/")
    try:
        add_mirror(mirror, repo_id, proxy.url)
        assert sync(mirror, repo_id).state is JobState.SUCCEEDED
        head = reader.api.repo_info(repo_id).sha
        small, big = os.urandom(4000), os.urandom(MiB + 5000)
        for name, data in (("small.safetensors", small), ("big.safetensors", big)):
            owner.api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=repo_id)

        job = sync(mirror, repo_id)
    finally:
        proxy.close()

    assert proxy.corrupted >= 1
    assert job.state is JobState.QUEUED
    assert job.error is not None and "wrong bytes" in job.error
    stored = {p.name for p in blob_files(mirror)}
    assert sha256(small) not in stored and sha256(big) not in stored
    assert reader.api.repo_info(repo_id).sha == head


def test_mirror_of_a_repo_missing_upstream_fails_for_good_with_the_reason(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id = f"{owner.name}/{unique_name('nowhere')}"
    add_mirror(mirror, repo_id, upstream.url)

    job = sync(mirror, repo_id)

    assert job.state is JobState.FAILED
    assert job.attempts == 1
    assert job.error is not None and "does not exist upstream" in job.error
    assert mirror.services.mirrors.get(RepoType.MODEL, repo_id).sync_error == job.error


def test_a_revision_missing_upstream_fails_for_good(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id = small_repo(owner)
    add_mirror(mirror, repo_id, upstream.url, revisions=("no-such-branch",))

    job = sync(mirror, repo_id)

    assert job.state is JobState.FAILED
    assert job.error is not None and "'no-such-branch' is not a branch or tag" in job.error


def test_a_refused_upstream_token_fails_for_good(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id = small_repo(owner)
    add_mirror(mirror, repo_id, upstream.url, token="hf_not_a_valid_token")

    job = sync(mirror, repo_id)

    assert job.state is JobState.FAILED
    assert job.error is not None and "refused" in job.error


def test_private_upstream_repo_is_mirrored_with_a_token_and_stays_private(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser
) -> None:
    repo_id = f"{owner.name}/{unique_name('secret')}"
    owner.api.create_repo(repo_id, private=True)
    owner.api.upload_file(path_or_fileobj=b"hush", path_in_repo="a.safetensors", repo_id=repo_id)
    add_mirror(mirror, repo_id, upstream.url, token=owner.token)

    assert sync(mirror, repo_id).state is JobState.SUCCEEDED

    with pytest.raises(RepositoryNotFoundError):
        reader.api.repo_info(repo_id)
    admin = make_user(mirror, "admin", admin=True)
    assert admin.api.repo_info(repo_id).sha == owner.api.repo_info(repo_id).sha


def test_unwritable_blob_store_fails_the_sync_and_moves_nothing(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser
) -> None:
    repo_id = small_repo(owner)
    add_mirror(mirror, repo_id, upstream.url)
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    head = reader.api.repo_info(repo_id).sha
    owner.api.upload_file(
        path_or_fileobj=os.urandom(2000), path_in_repo="w.safetensors", repo_id=repo_id
    )
    blobs = mirror.data_dir / "blobs"

    with read_only(blobs / ".tmp"), read_only(blobs / ".uploads"):
        job = sync(mirror, repo_id)

    assert job.state is JobState.FAILED
    assert job.error is not None and "Cannot store w.safetensors" in job.error
    assert reader.api.repo_info(repo_id).sha == head
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED  # once the disk is fixed
    assert "w.safetensors" in files_of(reader.api, repo_id)


def test_two_syncs_of_one_repo_share_a_job_or_take_turns(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser
) -> None:
    repo_id = small_repo(owner)
    owner.api.upload_file(
        path_or_fileobj=os.urandom(MiB + 10), path_in_repo="w.safetensors", repo_id=repo_id
    )
    proxy = RecordingProxy(upstream.port)
    record = add_mirror(mirror, repo_id, proxy.url)
    first = mirror.services.mirrors.sync(RepoType.MODEL, repo_id)
    assert mirror.services.mirrors.sync(RepoType.MODEL, repo_id).id == first.id
    # A second job for the same repo (as a scheduled one is): the two runs take turns.
    second = mirror.services.jobs.enqueue(SYNC_KIND, {"repo": record.repo_id}, key="concurrent")
    results: dict[int, JobRecord | None] = {}

    def run(job_id: int) -> None:
        results[job_id] = runner(mirror).run_job(job_id)

    threads = [threading.Thread(target=run, args=(job.id,)) for job in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    proxy.close()

    assert {job.state for job in results.values() if job is not None} == {JobState.SUCCEEDED}
    assert len(results) == 2 and None not in results.values()
    # The object was fetched once (two 1 MiB parts), not once per sync.
    assert len(proxy.requests("GET", "/lfs/objects/")) == 2
    assert reader.api.repo_info(repo_id).sha == owner.api.repo_info(repo_id).sha
