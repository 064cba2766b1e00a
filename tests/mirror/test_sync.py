"""Syncing a repo from an upstream hub: identical history, refs and files, served by the mirror.

The upstream is seeded through the official client; after a sync the read-side behaviour
(repo info, refs, commits, tree, paths-info, resolve and downloads with the official client) is
checked against the mirror, and must match upstream's exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, RepoFile, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

from hubstead.protocol import RepoType
from hubstead.server.app import build_runner
from hubstead.server.domain.jobs import JobState
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.git import GitUser, repo_url
from tests.helpers.jobs import ArqWorkerThread, wait_for_job
from tests.helpers.lfs import sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, sync
from tests.helpers.proxy import RecordingProxy
from tests.helpers.redis import drop_queue, redis_url
from tests.helpers.storage import blob_path

MiB = 1024 * 1024


def seed(owner: HubUser, repo_type: str = "model") -> tuple[str, dict[str, bytes]]:
    """A repo on upstream with a card, a regular file, LFS files, a branch and two tags."""
    repo_id = f"{owner.name}/{unique_name('mirrored')}"
    api = owner.api
    api.create_repo(repo_id, repo_type=repo_type)
    files = {
        "README.md": b"---\nlicense: mit\ntags:\n- mirrored\n---\n# A mirrored repo\n",
        "config.json": b'{"model_type": "bert"}',
        "weights/model.safetensors": os.urandom(2 * MiB + 1234),
        "tokenizer.bin": os.urandom(1500),
    }
    for path, data in files.items():
        api.upload_file(
            path_or_fileobj=data, path_in_repo=path, repo_id=repo_id, repo_type=repo_type
        )
    api.create_branch(repo_id, branch="dev", repo_type=repo_type)
    api.create_tag(repo_id, tag="v1", repo_type=repo_type)
    api.create_tag(repo_id, tag="v1-annotated", tag_message="release 1", repo_type=repo_type)
    return repo_id, files


def refs_of(api: HfApi, repo_id: str, repo_type: str = "model") -> dict[str, str]:
    refs = api.list_repo_refs(repo_id, repo_type=repo_type)
    return {
        **{f"branch {b.name}": b.target_commit for b in refs.branches},
        **{f"tag {t.name}": t.target_commit for t in refs.tags},
    }


def test_sync_copies_history_refs_and_files_with_identical_commit_ids(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, files = seed(owner)
    add_mirror(mirror, repo_id, upstream.url)

    job = sync(mirror, repo_id)

    assert job.state is JobState.SUCCEEDED, job.error
    assert job.progress.files_total == 2
    assert job.progress.bytes_done == job.progress.bytes_total == 2 * MiB + 1234 + 1500
    up, down = owner.api, reader.api
    assert down.repo_info(repo_id).sha == up.repo_info(repo_id).sha
    assert refs_of(down, repo_id) == refs_of(up, repo_id)
    assert [c.commit_id for c in down.list_repo_commits(repo_id)] == [
        c.commit_id for c in up.list_repo_commits(repo_id)
    ]
    for path, data in files.items():
        local = hf_hub_download(
            repo_id, path, endpoint=mirror.url, token=reader.token, cache_dir=tmp_path / "hf"
        )
        assert Path(local).read_bytes() == data
    # What git sees is identical too, annotated tag objects included.
    git = GitUser(tmp_path / "home")
    listings = [
        git.run("ls-remote", repo_url(server.url, repo_id, token=user.token)).stdout
        for server, user in ((upstream, owner), (mirror, reader))
    ]
    assert listings[0] == listings[1]
    assert "refs/tags/v1-annotated^{}" in listings[0]


def test_mirror_answers_read_requests_as_upstream_does(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, files = seed(owner)
    add_mirror(mirror, repo_id, upstream.url)
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    up, down = owner.api, reader.api

    def tree(api: HfApi, revision: str) -> list[tuple[str, int, str | None]]:
        entries = api.list_repo_tree(repo_id, recursive=True, revision=revision)
        return sorted(
            (e.path, getattr(e, "size", 0), getattr(getattr(e, "lfs", None), "sha256", None))
            for e in entries
        )

    for revision in ("main", "dev", "v1", "v1-annotated"):
        assert tree(down, revision) == tree(up, revision)
    paths = ["README.md", "weights/model.safetensors", "weights", "missing.txt"]

    def paths_info(api: HfApi) -> list[tuple[str, int, str | None]]:
        return [
            (p.path, p.size, p.blob_id) if isinstance(p, RepoFile) else (p.path, 0, p.tree_id)
            for p in api.get_paths_info(repo_id, paths, expand=True)
        ]

    assert paths_info(down) == paths_info(up)
    info = down.model_info(repo_id)
    assert info.card_data is not None and info.card_data.get("license") == "mit"
    assert "mirrored" in (info.tags or [])
    head = up.repo_info(repo_id).sha
    with httpx.Client(base_url=mirror.url) as http:
        response = http.head(f"/{repo_id}/resolve/v1/config.json")
        assert response.status_code == 200
        assert response.headers["x-repo-commit"] == head
        ranged = http.get(
            f"/{repo_id}/resolve/main/weights/model.safetensors",
            headers={"Range": "bytes=10-19"},
            follow_redirects=True,
        )
        assert ranged.status_code == 206
        assert ranged.content == files["weights/model.safetensors"][10:20]
    snapshot = snapshot_download(
        repo_id, revision="dev", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path / "s"
    )
    assert {
        p.relative_to(snapshot).as_posix() for p in Path(snapshot).rglob("*") if p.is_file()
    } == {
        ".gitattributes",
        *files,
    }
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(
            repo_id, "missing.txt", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path
        )


def test_later_sync_fetches_only_what_changed_and_follows_deleted_refs(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, _ = seed(owner)
    proxy = RecordingProxy(upstream.port)
    try:
        add_mirror(mirror, repo_id, proxy.url)
        assert sync(mirror, repo_id).state is JobState.SUCCEEDED
        first = len(proxy.requests("GET", "/resolve/"))
        names = {s.path.rsplit("/", 1)[-1] for s in proxy.requests("GET", "/resolve/")}
        assert names == {"model.safetensors", "tokenizer.bin"}
        new_file = os.urandom(5000)
        owner.api.upload_file(
            path_or_fileobj=new_file, path_in_repo="extra.safetensors", repo_id=repo_id
        )
        owner.api.delete_branch(repo_id, branch="dev")
        owner.api.delete_tag(repo_id, tag="v1")

        job = sync(mirror, repo_id)

        assert job.state is JobState.SUCCEEDED, job.error
        fetched = proxy.requests("GET", "/resolve/")[first:]
        assert [s.path.rsplit("/", 1)[-1] for s in fetched] == ["extra.safetensors"]
        assert job.progress.files_total == 1
    finally:
        proxy.close()
    assert refs_of(reader.api, repo_id) == refs_of(owner.api, repo_id)
    assert set(refs_of(reader.api, repo_id)) == {"branch main", "tag v1-annotated"}
    local = hf_hub_download(
        repo_id, "extra.safetensors", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path
    )
    assert sha256(Path(local).read_bytes()) == sha256(new_file)


def test_objects_another_repo_stored_are_fetched_and_verified_again_for_each_mirror(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id, _ = seed(owner)
    add_mirror(mirror, repo_id, upstream.url)
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    copy_id = f"{owner.name}/{unique_name('copy')}"
    owner.api.create_repo(copy_id)
    for path in ("weights/model.safetensors", "tokenizer.bin"):
        data = Path(
            hf_hub_download(
                repo_id, path, endpoint=upstream.url, token=owner.token, cache_dir=tmp_path
            )
        ).read_bytes()
        owner.api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=copy_id)
    add_mirror(mirror, copy_id, upstream.url)

    job = sync(mirror, copy_id)

    # Upstream's pointers are no proof that upstream has the bytes: each mirror fetches them.
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.progress.files_total == 2
    assert any("0 already stored" in line for line in job.log_tail)
    again = sync(mirror, copy_id)
    assert again.progress.files_total == 0
    assert any("2 already stored" in line for line in again.log_tail)


def test_a_pointer_from_upstream_never_reaches_a_local_object_upstream_does_not_have(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser
) -> None:
    secret = os.urandom(1500)
    victim = make_user(mirror, "victim")
    private_id = f"{victim.name}/{unique_name('private')}"
    victim.api.create_repo(private_id, private=True)
    victim.api.upload_file(path_or_fileobj=secret, path_in_repo="secret.bin", repo_id=private_id)
    # Upstream serves a repo whose pointer names that object, without having its bytes.
    bait_id = f"{owner.name}/{unique_name('bait')}"
    owner.api.create_repo(bait_id)
    owner.api.upload_file(path_or_fileobj=secret, path_in_repo="bait.bin", repo_id=bait_id)
    blob_path(upstream, sha256(secret)).unlink()
    add_mirror(mirror, bait_id, upstream.url)

    job = sync(mirror, bait_id)

    assert job.state is not JobState.SUCCEEDED
    response = httpx.get(
        f"{mirror.url}/{bait_id}/resolve/main/bait.bin",
        headers={"authorization": f"Bearer {reader.token}"},
        follow_redirects=True,
    )
    assert response.status_code == 404
    assert response.content != secret


def test_sync_tracks_only_the_chosen_revisions_and_lfs_files(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, files = seed(owner)
    add_mirror(
        mirror,
        repo_id,
        upstream.url,
        revisions=("main", "v1"),
        include=("weights/", "*.json"),
        exclude=("*.bin",),
    )

    job = sync(mirror, repo_id)

    assert job.state is JobState.SUCCEEDED, job.error
    assert set(refs_of(reader.api, repo_id)) == {"branch main", "tag v1"}
    assert job.progress.files_total == 1
    local = hf_hub_download(
        repo_id, "weights/model.safetensors", endpoint=mirror.url, token=reader.token,
        cache_dir=tmp_path,
    )  # fmt: skip
    assert Path(local).read_bytes() == files["weights/model.safetensors"]
    # The pointer of an excluded file is mirrored with the history; its content is not.
    [excluded] = reader.api.get_paths_info(repo_id, ["tokenizer.bin"])
    assert isinstance(excluded, RepoFile) and excluded.size == 1500
    with httpx.Client(base_url=mirror.url) as http:
        response = http.get(f"/{repo_id}/resolve/main/tokenizer.bin")
    assert response.status_code == 404
    assert "not on this mirror" in response.headers["x-error-message"]


def test_mirror_of_a_dataset_keeps_its_type(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, files = seed(owner, "dataset")
    add_mirror(mirror, repo_id, upstream.url, "dataset")

    job = sync(mirror, repo_id, "dataset")

    assert job.state is JobState.SUCCEEDED, job.error
    assert reader.api.dataset_info(repo_id).sha == owner.api.dataset_info(repo_id).sha
    local = hf_hub_download(
        repo_id, "weights/model.safetensors", repo_type="dataset", endpoint=mirror.url,
        token=reader.token, cache_dir=tmp_path,
    )  # fmt: skip
    assert Path(local).read_bytes() == files["weights/model.safetensors"]


def test_mirrored_repo_is_read_only_to_local_writers(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id, _ = seed(owner)
    add_mirror(mirror, repo_id, upstream.url)
    assert sync(mirror, repo_id).state is JobState.SUCCEEDED
    admin = make_user(mirror, "admin", admin=True)
    expected = f"{repo_id} is a mirror of {upstream.url}"

    attempts: list[Callable[[], object]] = [
        lambda: admin.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id),
        lambda: admin.api.create_branch(repo_id, branch="local"),
        lambda: admin.api.create_tag(repo_id, tag="local"),
        lambda: admin.api.delete_branch(repo_id, branch="dev"),
        lambda: admin.api.super_squash_history(repo_id),
        lambda: admin.api.delete_repo(repo_id),
    ]
    for attempt in attempts:
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
        assert expected in str(caught.value)
    body = {"operation": "upload", "transfers": ["basic"], "objects": [
        {"oid": "a" * 64, "size": 1}
    ]}  # fmt: skip
    with httpx.Client(base_url=mirror.url, headers={"authorization": f"Bearer {admin.token}"}) as h:
        response = h.post(
            f"/{repo_id}.git/info/lfs/objects/batch",
            json=body,
            headers={"content-type": "application/vnd.git-lfs+json"},
        )
        assert response.status_code == 403
        push = h.get(f"/{repo_id}.git/info/refs", params={"service": "git-receive-pack"})
        assert push.status_code == 403
        assert expected in push.text
    assert owner.api.repo_info(repo_id).sha == admin.api.repo_info(repo_id).sha


def test_sync_runs_on_a_redis_worker_as_in_process(
    upstream: LiveServer, owner: HubUser, tmp_path: Path, postgres: bool
) -> None:
    """With a Redis queue, the production arq worker runs the sync the hub queued there."""
    repo_id, files = seed(owner)
    queue = unique_name("hubstead-test-mirror-jobs")
    with hub(
        tmp_path / "redis-mirror", postgres, redis_url=redis_url(), redis_queue=queue
    ) as queued:
        try:
            add_mirror(queued, repo_id, upstream.url)
            with ArqWorkerThread(build_runner(queued.services)):
                job = queued.services.mirrors.sync(RepoType.MODEL, repo_id)
                done = wait_for_job(queued.services.jobs, job.id, timeout=60)
        finally:
            drop_queue(queue)
        assert done.state is JobState.SUCCEEDED, done.error
        reader = HfApi(endpoint=queued.url, token=make_user(queued, "reader").token)
        assert reader.repo_info(repo_id).sha == owner.api.repo_info(repo_id).sha
        local = hf_hub_download(
            repo_id, "weights/model.safetensors", endpoint=queued.url, token=reader.token,
            cache_dir=tmp_path / "hf",
        )  # fmt: skip
        assert Path(local).read_bytes() == files["weights/model.safetensors"]
