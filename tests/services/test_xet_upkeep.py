"""fsck and gc of Xet storage (`UpkeepService` with `XetUpkeep`) on a hub the official client uses.

Files go up through Xet (huggingface_hub with hf_xet) as a user's would: xorbs and shards
through the hub's CAS, then the commit. Each test has a hub of its own on a clock it moves by
hand, so grace periods run out without waiting. Damage is made on disk, as in real life.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download

from hubstead.server.domain.upkeep import LeftoverKind, Progress
from hubstead.server.services.xet.upkeep import StoredXorb
from hubstead.server.storage.xet_index_sql import SqlXetIndex
from hubstead.xet.hashing import hash_to_hex
from hubstead.xet.xorb import build_xorb
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.clock import ManualClock
from tests.helpers.lfs import lfs_server
from tests.helpers.live_server import LiveServer
from tests.helpers.xet import stored_xorbs

KiB = 1024
NO_GRACE = dt.timedelta(0)
DAY = dt.timedelta(days=1)
XORB_GRACE = dt.timedelta(days=21)  # the default of xet_xorb_grace_seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hub(
    tmp_path: Path, request: pytest.FixtureRequest, clock: ManualClock, xet: None
) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path / "hub", postgres, clock=clock) as server:
        yield server


@pytest.fixture
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub)


def new_repo(owner: HubUser, name: str) -> str:
    repo_id = f"{owner.name}/{name}"
    owner.api.create_repo(repo_id)
    return repo_id


def upload(owner: HubUser, repo_id: str, path: str, data: bytes) -> str:
    """Upload through Xet (every `*.bin` file is LFS, and hf_xet is on); return the sha256."""
    owner.api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo_id)
    return hashlib.sha256(data).hexdigest()


def xorb_files(hub: LiveServer) -> dict[str, Path]:
    """The xorbs stored on disk, by hash."""
    return {path.name: path for path in stored_xorbs(hub)}


def xorbs_of(hub: LiveServer, sha256: str) -> frozenset[str]:
    """The xorbs the Xet file holding this object uses."""
    file = SqlXetIndex(hub.services.database).file_for_sha256(sha256)
    assert file is not None, "the object is held as a Xet file"
    return file.xorbs


def download(hub: LiveServer, owner: HubUser, repo_id: str, path: str, tmp_path: Path) -> bytes:
    local = hf_hub_download(
        repo_id, path, endpoint=hub.url, token=owner.token, cache_dir=tmp_path / "cache"
    )
    return Path(local).read_bytes()


def put_lone_xorb(hub: LiveServer, owner: HubUser, repo_id: str, data: bytes) -> str:
    """Send a xorb through the CAS with no shard after it (an upload that never finished)."""
    xorb_hash, blob = build_xorb([data])
    auth = {"authorization": f"Bearer {owner.token}"}
    with httpx.Client(base_url=hub.url, headers=auth) as http:
        token = http.get(f"/api/models/{repo_id}/xet-write-token/main").json()
        sent = http.post(
            f"{token['casUrl']}/v1/xorbs/default/{hash_to_hex(xorb_hash)}",
            content=blob,
            headers={"authorization": f"Bearer {token['accessToken']}"},
        )
    assert sent.status_code == 200, sent.text
    return hash_to_hex(xorb_hash)


# --- fsck -------------------------------------------------------------------------------------


def test_fsck_verifies_every_xorb_and_xet_file_and_does_not_call_xet_held_objects_missing(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner, "healthy")
    upload(owner, repo, "a.bin", os.urandom(300 * KiB))
    upload(owner, repo, "b.bin", os.urandom(200 * KiB))
    stored = xorb_files(hub)
    seen: list[Progress] = []

    report = hub.services.upkeep.fsck(on_progress=seen.append)

    assert not report.damaged
    assert (report.dangling, report.bad_links, report.objects) == ([], [], 0)
    xet = report.xet
    assert (xet.xorbs, xet.files, xet.bad_xorbs, xet.bad_files, xet.orphans) == (
        len(stored),
        2,
        [],
        [],
        [],
    )
    assert xet.xorb_bytes == sum(path.stat().st_size for path in stored.values())
    xorbs = [p for p in seen if p.phase == "xorbs"]
    assert (xorbs[-1].done, xorbs[-1].total, xorbs[-1].bytes) == (
        len(stored),
        len(stored),
        xet.xorb_bytes,
    )
    assert [p for p in seen if p.phase == "xet files"][-1] == Progress("xet files", 2, 2)


def test_fsck_reports_a_xorb_whose_bytes_changed_on_disk(hub: LiveServer, owner: HubUser) -> None:
    repo = new_repo(owner, "rot")
    sha = upload(owner, repo, "w.bin", os.urandom(100 * KiB))
    (xorb,) = xorbs_of(hub, sha)
    path = xorb_files(hub)[xorb]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    report = hub.services.upkeep.fsck()

    assert report.damaged
    ((bad),) = report.xet.bad_xorbs
    assert (bad.hash, bad.size, bad.stored_size) == (xorb, len(data), len(data))
    assert bad.error is not None and "hash" in bad.error
    assert (report.dangling, report.bad_links, report.xet.bad_files) == ([], [], [])


def test_fsck_reports_a_missing_xorb_and_a_truncated_one(hub: LiveServer, owner: HubUser) -> None:
    repo = new_repo(owner, "lost")
    lost = upload(owner, repo, "lost.bin", os.urandom(100 * KiB))
    cut = upload(owner, repo, "cut.bin", os.urandom(100 * KiB))
    ((lost_xorb,), (cut_xorb,)) = xorbs_of(hub, lost), xorbs_of(hub, cut)
    sizes = {name: path.stat().st_size for name, path in xorb_files(hub).items()}
    xorb_files(hub)[lost_xorb].unlink()
    with xorb_files(hub)[cut_xorb].open("r+b") as file:
        file.truncate(100)

    report = hub.services.upkeep.fsck()

    assert report.damaged
    found = {(bad.hash, bad.size, bad.stored_size) for bad in report.xet.bad_xorbs}
    assert found == {(lost_xorb, sizes[lost_xorb], None), (cut_xorb, sizes[cut_xorb], 100)}
    # The objects are still held as Xet files: their pointers and links are not the damage.
    assert (report.dangling, report.bad_links) == ([], [])


def test_fsck_reports_a_xet_file_whose_xorb_the_index_lost_and_that_xorb_as_an_orphan(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = new_repo(owner, "index")
    sha = upload(owner, repo, "w.bin", os.urandom(100 * KiB))
    (xorb,) = xorbs_of(hub, sha)
    SqlXetIndex(hub.services.database).delete_xorb(xorb)  # a damaged index

    report = hub.services.upkeep.fsck()

    assert report.damaged
    ((bad),) = report.xet.bad_files
    assert (bad.sha256, bad.error) == (sha, f"term 0 names xorb {xorb}, which is not recorded")
    assert [orphan.hash for orphan in report.xet.orphans] == [xorb]


def test_fsck_lists_an_orphan_xorb_without_calling_it_damage_and_gc_removes_it_once_old(
    hub: LiveServer, clock: ManualClock
) -> None:
    # What a crash between storing a xorb and recording it leaves.
    xorb_hash, blob = build_xorb([b"orphan " + os.urandom(1000)])
    orphan = hash_to_hex(xorb_hash)
    path = hub.data_dir / "xorbs" / orphan[:2] / orphan[2:4] / orphan
    path.parent.mkdir(parents=True)
    path.write_bytes(blob)

    report = hub.services.upkeep.fsck()

    assert not report.damaged
    assert report.xet.orphans == [StoredXorb(orphan, len(blob), path.stat().st_mtime)]
    assert hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False).xet.recent == 1
    clock.advance((XORB_GRACE + DAY).total_seconds())
    gc = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)
    assert [x.hash for x in gc.xet.xorbs] == [orphan]
    assert not path.exists()


# --- gc ---------------------------------------------------------------------------------------


def test_gc_keeps_what_xet_held_objects_of_live_repos_need_however_old(
    hub: LiveServer, owner: HubUser, clock: ManualClock, tmp_path: Path
) -> None:
    repo = new_repo(owner, "live")
    data = os.urandom(300 * KiB)
    upload(owner, repo, "w.bin", data)
    stored = xorb_files(hub)
    clock.advance((XORB_GRACE + DAY).total_seconds())

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert report.links == []  # a link to a Xet-held object is not a link without its object
    assert (report.xet.files, report.xet.xorbs, report.xet.used) == ([], [], len(stored))
    assert xorb_files(hub) == stored
    assert download(hub, owner, repo, "w.bin", tmp_path) == data
    assert not hub.services.upkeep.fsck().damaged


def test_gc_after_a_repo_deletion_forgets_its_xet_files_and_frees_its_xorbs_once_old(
    hub: LiveServer, owner: HubUser, clock: ManualClock
) -> None:
    repo = new_repo(owner, "doomed")
    sha = upload(owner, repo, "w.bin", os.urandom(300 * KiB))
    stored = xorb_files(hub)
    sizes = {name: path.stat().st_size for name, path in stored.items()}
    owner.api.delete_repo(repo)

    young = hub.services.upkeep.gc(grace=DAY, dry_run=False)
    assert [(f.sha256, f.size) for f in young.xet.files] == [(sha, 300 * KiB)]
    assert (young.xet.xorbs, young.xet.recent) == ([], len(stored))
    assert xorb_files(hub) == stored

    clock.advance((XORB_GRACE + DAY).total_seconds())
    dry = hub.services.upkeep.gc(grace=DAY, dry_run=True)
    assert {x.hash for x in dry.xet.xorbs} == set(stored)
    assert xorb_files(hub) == stored
    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert {(x.hash, x.size) for x in report.xet.xorbs} == set(sizes.items())
    assert report.freed_bytes == sum(sizes.values())
    assert xorb_files(hub) == {}
    assert SqlXetIndex(hub.services.database).xorbs(stored) == {}
    after = hub.services.upkeep.fsck()
    assert not after.damaged
    assert (after.xet.xorbs, after.xet.files, after.xet.orphans) == (0, 0, [])


def test_a_xorb_another_repos_file_uses_survives_deleting_the_repo_that_uploaded_it(
    hub: LiveServer, owner: HubUser, clock: ManualClock, tmp_path: Path
) -> None:
    first, second = new_repo(owner, "first"), new_repo(owner, "second")
    shared = os.urandom(300 * KiB)
    one = upload(owner, first, "one.bin", shared + os.urandom(200 * KiB))
    data = shared + os.urandom(250 * KiB)
    two = upload(owner, second, "two.bin", data)
    assert xorbs_of(hub, one) & xorbs_of(hub, two), "the second upload dedups against the first"
    stored = xorb_files(hub)
    owner.api.delete_repo(first)
    clock.advance((XORB_GRACE + DAY).total_seconds())

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert [f.sha256 for f in report.xet.files] == [one]
    assert (report.xet.xorbs, report.xet.used) == ([], len(stored))
    assert xorb_files(hub) == stored
    assert download(hub, owner, second, "two.bin", tmp_path) == data
    assert not hub.services.upkeep.fsck().damaged


def test_gc_forgets_a_xet_file_deleted_on_request_and_frees_its_xorbs(
    hub: LiveServer, owner: HubUser, clock: ManualClock
) -> None:
    repo = new_repo(owner, "purge")
    sha = upload(owner, repo, "w.bin", os.urandom(100 * KiB))
    (xorb,) = xorbs_of(hub, sha)
    owner.api.delete_file("w.bin", repo)
    owner.api.permanently_delete_lfs_files(
        repo, list(owner.api.list_lfs_files(repo)), rewrite_history=False
    )
    clock.advance((XORB_GRACE + DAY).total_seconds())

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert [f.sha256 for f in report.xet.files] == [sha]
    assert [x.hash for x in report.xet.xorbs] == [xorb]
    after = hub.services.upkeep.fsck()
    assert not after.damaged
    assert [(p.path, p.sha256) for p in after.purged] == [("w.bin", sha)]


def test_a_xet_file_deleted_with_a_history_rewrite_leaves_nothing_behind(
    hub: LiveServer, owner: HubUser, clock: ManualClock, tmp_path: Path
) -> None:
    repo = new_repo(owner, "rewrite")
    sha = upload(owner, repo, "w.bin", os.urandom(100 * KiB))
    (xorb,) = xorbs_of(hub, sha)
    kept = os.urandom(10 * KiB)
    upload(owner, repo, "kept.bin", kept)

    owner.api.permanently_delete_lfs_files(
        repo, [f for f in owner.api.list_lfs_files(repo) if f.file_oid == sha]
    )
    clock.advance((XORB_GRACE + DAY).total_seconds())
    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert [f.sha256 for f in report.xet.files] == [sha]
    assert [x.hash for x in report.xet.xorbs] == [xorb]
    after = hub.services.upkeep.fsck()
    # No commit names the object any more: nothing is purged-but-named, nothing is damaged.
    assert (after.damaged, after.purged) == (False, [])
    assert "w.bin" not in owner.api.list_repo_files(repo)
    assert download(hub, owner, repo, "kept.bin", tmp_path) == kept


def test_gc_keeps_an_unused_xorb_until_the_xorb_grace_period_after_its_last_upload(
    hub: LiveServer, owner: HubUser, clock: ManualClock
) -> None:
    repo = new_repo(owner, "pending")
    content = b"pending " + os.urandom(2000)
    xorb = put_lone_xorb(hub, owner, repo, content)
    sent_at = clock().timestamp() - (XORB_GRACE - DAY).total_seconds()
    os.utime(xorb_files(hub)[xorb], (sent_at, sent_at))  # sent 20 days ago

    fresh = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)
    assert (fresh.xet.xorbs, fresh.xet.recent) == ([], 1)
    clock.advance((2 * DAY).total_seconds())  # 22 days old now
    put_lone_xorb(hub, owner, repo, content)  # but the client sends it again: it is fresh
    again = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)
    assert (again.xet.xorbs, again.xet.recent) == ([], 1)
    assert xorb in xorb_files(hub)

    clock.advance(XORB_GRACE.total_seconds())
    old = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert [x.hash for x in old.xet.xorbs] == [xorb]
    assert xorb not in xorb_files(hub)
    assert SqlXetIndex(hub.services.database).xorbs([xorb]) == {}


def test_an_upload_that_dedups_against_an_old_xorb_restarts_its_grace_period(
    hub: LiveServer, owner: HubUser, clock: ManualClock
) -> None:
    repo = new_repo(owner, "dedup")
    shared = os.urandom(300 * KiB)
    one = upload(owner, repo, "one.bin", shared + os.urandom(100 * KiB))
    (old,) = xorbs_of(hub, one)
    sent_at = clock().timestamp() - (XORB_GRACE + DAY).total_seconds()
    os.utime(xorb_files(hub)[old], (sent_at, sent_at))  # uploaded 22 days ago
    two = upload(owner, repo, "two.bin", shared + os.urandom(100 * KiB))
    assert old in xorbs_of(hub, two), "the second upload dedups against the first"
    owner.api.delete_files(repo, delete_patterns=["*.bin"])
    owner.api.permanently_delete_lfs_files(
        repo, list(owner.api.list_lfs_files(repo)), rewrite_history=False
    )

    report = hub.services.upkeep.gc(grace=NO_GRACE, dry_run=False)

    assert {f.sha256 for f in report.xet.files} == {one, two}
    assert (report.xet.xorbs, report.xet.recent) == ([], len(xorb_files(hub)))
    assert old in xorb_files(hub)


def test_gc_removes_old_temporary_files_of_the_xorb_store(
    hub: LiveServer, clock: ManualClock
) -> None:
    temp = hub.data_dir / "xorbs" / ".tmp"
    crashed, running = temp / "blob-crashed", temp / "blob-running"
    crashed.write_bytes(b"x" * 10)  # what a write interrupted by a crash leaves
    clock.advance((2 * DAY).total_seconds())
    running.write_bytes(b"y" * 20)
    now = clock().timestamp()
    os.utime(running, (now, now))  # written just now, as the hub's clock has it

    fsck = hub.services.upkeep.fsck()
    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert {item.name for item in fsck.xet.leftovers} == {"blob-crashed", "blob-running"}
    assert [(i.kind, i.name, i.size) for i in report.xet.leftovers] == [
        (LeftoverKind.TEMP, "blob-crashed", 10)
    ]
    assert report.freed_bytes == 10
    assert not crashed.exists() and running.exists()
