"""fsck and gc (`UpkeepService`) on a running hub whose content the official client made.

Each test has a hub of its own (small multipart parts), so what fsck and gc see is only what the
test did. Damage is made as it happens in real life: bytes overwritten or deleted on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pygit2
import pytest
from huggingface_hub import CommitOperationAdd, hf_hub_download

from hubstead.server.domain.upkeep import LeftoverKind, Progress
from hubstead.server.services.upkeep import CorruptObject
from hubstead.server.storage.lfs_index_sql import SqlLfsIndex
from hubstead.server.storage.repos_sql import SqlRepoStore
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.lfs import batch, lfs_server
from tests.helpers.live_server import LiveServer
from tests.helpers.storage import (
    blob_path,
    lfs_bytes,
    send_first_part,
    send_remaining_parts,
    upload_lfs,
    uploads_dir,
)

KiB = 1024
PART = 64 * KiB  # uploads of 4 parts and more go multipart on these hubs
NO_GRACE = dt.timedelta(0)
DAY = dt.timedelta(hours=24)


@pytest.fixture
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    settings: dict[str, Any] = {"lfs_multipart_threshold_bytes": 4 * PART, "lfs_chunk_bytes": PART}
    with lfs_server(tmp_path / "hub", postgres, **settings) as server:
        yield server


@pytest.fixture
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub)


def new_repo(owner: HubUser, name: str = "repo", **kwargs: object) -> str:
    repo_id = f"{owner.name}/{name}"
    owner.api.create_repo(repo_id, **kwargs)  # type: ignore[arg-type]
    return repo_id


def age(path: Path, by: dt.timedelta) -> None:
    """Make a file or folder look last written `by` ago (as after a day of being left alone)."""
    when = time.time() - by.total_seconds()
    for item in [path, *(path.iterdir() if path.is_dir() else [])]:
        os.utime(item, (when, when))


def download(hub: LiveServer, owner: HubUser, repo_id: str, path: str, tmp_path: Path) -> bytes:
    local = hf_hub_download(
        repo_id, path, endpoint=hub.url, token=owner.token, cache_dir=tmp_path / "cache"
    )
    return Path(local).read_bytes()


# --- fsck -------------------------------------------------------------------------------------


def test_fsck_of_a_hub_in_use_finds_no_damage_and_reports_progress(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner)
    upload_lfs(owner.api, repo, "model.bin", lfs_bytes("main", 1000))
    owner.api.create_branch(repo, branch="dev")
    upload_lfs(owner.api, repo, "extra.bin", lfs_bytes("dev", 2000), revision="dev")
    owner.api.create_tag(repo, tag="v1", revision="dev")
    seen: list[Progress] = []

    report = hub.services.upkeep.fsck(on_progress=seen.append)

    assert not report.damaged
    assert (report.objects, report.bytes, report.repos) == (2, 3007, 1)
    assert (report.corrupt, report.dangling, report.purged, report.bad_links) == ([], [], [], [])
    objects = [p for p in seen if p.phase == "objects"]
    assert [(p.done, p.total) for p in objects] == [(1, 2), (2, 2)]
    assert objects[-1].bytes == 3007
    assert seen[-1] == Progress("repos", 1, 1)


def test_fsck_reports_an_object_whose_bytes_changed_on_disk(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner)
    damaged = upload_lfs(owner.api, repo, "a.bin", lfs_bytes("a"))
    upload_lfs(owner.api, repo, "b.bin", lfs_bytes("b"))
    junk = os.urandom(blob_path(hub, damaged).stat().st_size)
    blob_path(hub, damaged).write_bytes(junk)

    report = hub.services.upkeep.fsck()

    assert report.damaged
    assert report.corrupt == [CorruptObject(damaged, hashlib.sha256(junk).hexdigest(), len(junk))]
    assert (report.dangling, report.bad_links) == ([], [])  # same size: only the hash tells


def test_fsck_reports_a_truncated_object_as_corrupt_and_its_pointer_as_dangling(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner)
    sha = upload_lfs(owner.api, repo, "w.bin", lfs_bytes("w", 500))
    with blob_path(hub, sha).open("r+b") as file:
        file.truncate(100)

    report = hub.services.upkeep.fsck()

    assert [c.sha256 for c in report.corrupt] == [sha]
    assert [(p.path, p.ref, p.size, p.stored_size) for p in report.dangling] == [
        ("w.bin", "refs/heads/main", 501, 100)
    ]
    assert [(b.repo_id, b.sha256, b.stored_size) for b in report.bad_links] == [(repo, sha, 100)]


def test_fsck_finds_missing_objects_at_a_branch_head_in_history_and_behind_a_tag(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner, repo_type="dataset")
    api, kind = owner.api, "dataset"
    at_head = upload_lfs(api, repo, "data/head.bin", lfs_bytes("head"), repo_type=kind)
    in_history = upload_lfs(api, repo, "old.bin", lfs_bytes("old"), repo_type=kind)
    api.delete_file("old.bin", repo, repo_type=kind)
    api.create_branch(repo, branch="release", repo_type=kind)
    tagged = upload_lfs(api, repo, "r.bin", lfs_bytes("r"), revision="release", repo_type=kind)
    api.create_tag(repo, tag="v1", revision="release", repo_type=kind)
    api.delete_branch(repo, branch="release", repo_type=kind)
    for sha in (at_head, in_history, tagged):
        blob_path(hub, sha).unlink()

    report = hub.services.upkeep.fsck()

    assert report.damaged and report.corrupt == [] and report.purged == []
    found = {p.sha256: (p.repo_type, p.repo_id, p.path, p.ref) for p in report.dangling}
    assert found == {
        at_head: ("dataset", repo, "data/head.bin", "refs/heads/main"),
        in_history: ("dataset", repo, "old.bin", None),
        tagged: ("dataset", repo, "r.bin", "refs/tags/v1"),
    }
    assert all(p.stored_size is None for p in report.dangling)
    assert {b.sha256 for b in report.bad_links} == {at_head, in_history, tagged}


def test_fsck_lists_an_unfinished_upload_without_calling_it_damage(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner)
    send_first_part(hub, owner.token, repo, lfs_bytes("multi", 4 * PART))

    report = hub.services.upkeep.fsck()

    assert not report.damaged
    assert [item.kind for item in report.leftovers] == [LeftoverKind.UPLOAD]
    assert PART <= report.leftovers[0].size < PART + 4 * KiB  # part 1 and its bookkeeping


def test_a_repo_whose_git_data_is_damaged_is_reported_and_stops_gc_collecting(
    hub: LiveServer, owner: HubUser
) -> None:
    broken = new_repo(owner, "broken")
    upload_lfs(owner.api, broken, "w.bin", lfs_bytes("broken"))
    doomed = new_repo(owner, "doomed")
    garbage = upload_lfs(owner.api, doomed, "g.bin", lfs_bytes("garbage"))
    owner.api.delete_repo(doomed)
    namespace, name = broken.split("/")
    record = SqlRepoStore(hub.services.database).get_repo("model", namespace, name)
    assert record is not None
    git_dir = hub.data_dir / "repos" / record.storage_key[:2] / f"{record.storage_key}.git"
    tree = str(pygit2.Repository(str(git_dir)).revparse_single("main").peel(pygit2.Tree).id)
    (git_dir / "objects" / tree[:2] / tree[2:]).unlink()  # a disk that lost a git object

    fsck = hub.services.upkeep.fsck()
    gc = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert fsck.damaged
    assert [(u.repo_type, u.repo_id) for u in fsck.unreadable] == [("model", broken)]
    assert [(u.repo_type, u.repo_id) for u in gc.unreadable] == [("model", broken)]
    assert gc.objects == []  # what the broken repo references is unknown: keep everything
    assert blob_path(hub, garbage).exists()


# --- gc ---------------------------------------------------------------------------------------


def test_gc_removes_what_only_a_deleted_repo_used_and_keeps_what_another_repo_shares(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    doomed, survivor = new_repo(owner, "doomed"), new_repo(owner, "survivor")
    shared = lfs_bytes("shared")
    unique = upload_lfs(owner.api, doomed, "unique.bin", lfs_bytes("unique"))
    kept = upload_lfs(owner.api, doomed, "shared.bin", shared)
    upload_lfs(owner.api, survivor, "copy.bin", shared)
    owner.api.delete_repo(doomed)

    preview = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=True)
    assert [o.sha256 for o in preview.objects] == [unique]
    assert blob_path(hub, unique).exists()

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert [(o.sha256, o.size) for o in report.objects] == [(unique, len(b"unique") + 256)]
    assert (report.referenced, report.recent, report.freed_bytes) == (1, 0, 262)
    assert not blob_path(hub, unique).exists()
    assert blob_path(hub, kept).exists()
    assert download(hub, owner, survivor, "copy.bin", tmp_path) == shared
    assert not hub.services.upkeep.fsck().damaged


def test_gc_keeps_unreferenced_objects_younger_than_the_grace_period(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner)
    sha = upload_lfs(owner.api, repo, "w.bin", lfs_bytes("young"))
    owner.api.delete_repo(repo)

    young = hub.services.upkeep.gc(grace=DAY, dry_run=False)
    assert (young.objects, young.recent) == ([], 1)
    assert blob_path(hub, sha).exists()

    age(blob_path(hub, sha), dt.timedelta(hours=25))
    old = hub.services.upkeep.gc(grace=DAY, dry_run=False)
    assert [o.sha256 for o in old.objects] == [sha]
    assert not blob_path(hub, sha).exists()


def test_gc_never_removes_an_upload_whose_commit_has_not_landed_yet(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo = new_repo(owner)
    data = lfs_bytes("pending")
    sha = hashlib.sha256(data).hexdigest()
    auth = {"authorization": f"Bearer {owner.token}"}
    with httpx.Client(base_url=hub.url, headers=auth) as http:
        answer = batch(http, repo, "upload", [{"oid": sha, "size": len(data)}])
        href = answer.json()["objects"][0]["actions"]["upload"]["href"]
        assert http.put(href, content=data).status_code == 200
    age(blob_path(hub, sha), dt.timedelta(days=3))  # even when the commit is very late

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert report.objects == []
    owner.api.create_commit(
        repo, [CommitOperationAdd("late.bin", data)], commit_message="the commit lands"
    )
    assert download(hub, owner, repo, "late.bin", tmp_path) == data


def test_gc_leaves_a_multipart_upload_in_flight_alone_and_removes_an_abandoned_one(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo = new_repo(owner)
    active, abandoned = lfs_bytes("active", 4 * PART), lfs_bytes("abandoned", 4 * PART)
    in_flight = send_first_part(hub, owner.token, repo, active)
    (active_folder,) = uploads_dir(hub).iterdir()
    send_first_part(hub, owner.token, repo, abandoned)
    (abandoned_folder,) = [p for p in uploads_dir(hub).iterdir() if p != active_folder]
    age(abandoned_folder, dt.timedelta(days=2))

    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert [(item.kind, item.name) for item in report.leftovers] == [
        (LeftoverKind.UPLOAD, abandoned_folder.name)
    ]
    assert not abandoned_folder.exists()
    assert active_folder.exists()
    send_remaining_parts(in_flight, active)
    owner.api.create_commit(repo, [CommitOperationAdd("big.bin", active)], commit_message="big")
    assert download(hub, owner, repo, "big.bin", tmp_path) == active


def test_gc_keeps_an_object_a_pointer_names_even_if_the_index_lost_its_link(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo = new_repo(owner)
    data = lfs_bytes("pointer-only")
    sha = upload_lfs(owner.api, repo, "w.bin", data)
    namespace, name = repo.split("/")
    record = SqlRepoStore(hub.services.database).get_repo("model", namespace, name)
    assert record is not None
    SqlLfsIndex(hub.services.database).unlink(record.id, [sha])  # a damaged index
    age(blob_path(hub, sha), dt.timedelta(days=3))

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert (report.objects, report.referenced) == ([], 1)
    assert blob_path(hub, sha).read_bytes() == data
    # The index is what lets a repo reach an object: sending the bytes again repairs it.
    upload_lfs(owner.api, repo, "again.bin", data)
    assert download(hub, owner, repo, "w.bin", tmp_path) == data


def test_gc_clears_the_links_a_crash_of_an_older_version_left_and_what_only_they_kept(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    # Older versions linked (repo, object) before the bytes verified: a kill -9 during a
    # multipart completion left the link. One names a victim's object with a forged size, one
    # an object never stored; a third object was stored, then the crash came before its link.
    victim = new_repo(owner, "victim", private=True)
    secret = lfs_bytes("secret")
    secret_sha = upload_lfs(owner.api, victim, "s.bin", secret)
    thief = new_repo(owner, "thief")
    namespace, name = thief.split("/")
    thief_row = SqlRepoStore(hub.services.database).get_repo("model", namespace, name)
    assert thief_row is not None
    index = SqlLfsIndex(hub.services.database)
    missing_sha = hashlib.sha256(b"never stored").hexdigest()
    index.link(thief_row.id, secret_sha, 4 * PART + 5)
    index.link(thief_row.id, missing_sha, 12)
    orphan = lfs_bytes("stored, never linked")
    orphan_sha = hashlib.sha256(orphan).hexdigest()
    blob_path(hub, orphan_sha).parent.mkdir(parents=True, exist_ok=True)
    blob_path(hub, orphan_sha).write_bytes(orphan)
    age(blob_path(hub, orphan_sha), dt.timedelta(days=2))

    before = hub.services.upkeep.fsck()
    dry = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=True)
    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)
    after = hub.services.upkeep.fsck()

    bad = {(link.repo_id, link.sha256, link.stored_size) for link in before.bad_links}
    assert bad == {(thief, secret_sha, len(secret)), (thief, missing_sha, None)}
    assert {link.sha256 for link in dry.links} == {secret_sha, missing_sha}
    assert {link.sha256 for link in report.links} == {secret_sha, missing_sha}
    assert [obj.sha256 for obj in report.objects] == [orphan_sha]
    assert after.bad_links == [] and not after.damaged
    assert index.linked_size(thief_row.id, secret_sha) is None
    assert download(hub, owner, victim, "s.bin", tmp_path) == secret


def test_gc_keeps_a_bad_link_younger_than_the_grace_period(hub: LiveServer, owner: HubUser) -> None:
    repo = new_repo(owner)
    namespace, name = repo.split("/")
    row = SqlRepoStore(hub.services.database).get_repo("model", namespace, name)
    assert row is not None
    index = SqlLfsIndex(hub.services.database)
    missing_sha = hashlib.sha256(b"not stored yet").hexdigest()
    index.link(row.id, missing_sha, 12)

    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert report.links == []
    assert index.linked_size(row.id, missing_sha) == 12


def test_gc_removes_temporary_files_left_by_interrupted_writes(
    hub: LiveServer, owner: HubUser
) -> None:
    temp = hub.data_dir / "blobs" / ".tmp"
    crashed, running = temp / "blob-crashed", temp / "blob-running"
    crashed.write_bytes(b"x" * 10)  # what a write interrupted by a crash leaves
    running.write_bytes(b"y" * 20)
    age(crashed, dt.timedelta(days=2))

    dry = hub.services.upkeep.gc(grace=DAY, dry_run=True)
    assert [item.name for item in dry.leftovers] == ["blob-crashed"] and crashed.exists()
    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert [(item.kind, item.name, item.size) for item in report.leftovers] == [
        (LeftoverKind.TEMP, "blob-crashed", 10)
    ]
    assert not crashed.exists() and running.exists()
    assert report.objects == []


def test_gc_running_in_a_loop_does_not_harm_uploads_of_objects_it_is_collecting(
    hub: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    # The same bytes as old garbage are uploaded again while gc collects that garbage: gc
    # either deletes the old file before the new one lands, or sees the new one and keeps it.
    contents = [lfs_bytes(f"again-{n}") for n in range(6)]
    deleted = new_repo(owner, "deleted")
    for n, data in enumerate(contents):
        sha = upload_lfs(owner.api, deleted, f"{n}.bin", data)
        age(blob_path(hub, sha), dt.timedelta(days=2))
    owner.api.delete_repo(deleted)  # every object is now garbage, and old
    repo = new_repo(owner, "reuploaded")
    stop = threading.Event()
    runs: list[int] = []

    def collect() -> None:
        while not stop.wait(0.02):
            report = hub.services.upkeep.gc(grace=dt.timedelta(hours=1), dry_run=False)
            runs.append(len(report.objects))

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        for n, data in enumerate(contents):
            upload_lfs(owner.api, repo, f"{n}.bin", data)
    finally:
        stop.set()
        collector.join(timeout=60)

    assert len(runs) > 1 and sum(runs) <= len(contents)
    assert not hub.services.upkeep.fsck().damaged
    for n, data in enumerate(contents):
        assert download(hub, owner, repo, f"{n}.bin", tmp_path) == data
