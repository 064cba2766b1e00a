"""The blob store's upkeep operations (what fsck and gc stand on), and the LFS index's queries.

`delete_unless` is tested against a writer that stores the same object while the deletion is
deciding: the callback is the moment such a writer can interleave, so it runs there.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.server.storage import lfs_index_sql
from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.interfaces import AccountKind, BlobStat, LeftoverKind
from hubstead.server.storage.lfs_index_sql import SqlLfsIndex
from hubstead.server.storage.metadata_sql import SqlMetadataStore

DAY = 24 * 3600


@pytest.fixture(params=["fs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FsBlobStore]:
    yield FsBlobStore(tmp_path / "blobs")


def stored(store: FsBlobStore, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    store.write(sha, len(data), [data])
    return sha


def parked_files(store: FsBlobStore) -> list[str]:
    return [p.name for p in store.temp_dir.iterdir() if p.name.startswith("gc-")]


def test_delete_unless_removes_an_object_keep_does_not_claim(store: FsBlobStore) -> None:
    sha = stored(store, b"unreferenced")
    seen: list[BlobStat] = []

    def decline(stat: BlobStat) -> bool:
        seen.append(stat)
        return False

    assert store.delete_unless(sha, decline)

    assert store.stat(sha) is None
    assert seen[0].size == len(b"unreferenced")
    assert abs(seen[0].modified_at - time.time()) < 60
    assert parked_files(store) == []


def test_delete_unless_puts_the_object_back_when_keep_claims_it(store: FsBlobStore) -> None:
    sha = stored(store, b"claimed")

    assert not store.delete_unless(sha, lambda _stat: True)

    with store.open(sha) as file:
        assert file.read() == b"claimed"
    assert parked_files(store) == []


def test_an_upload_landing_while_deletion_decides_survives_it(store: FsBlobStore) -> None:
    data = b"uploaded again meanwhile"
    sha = stored(store, data)

    def upload_then_decline(_stat: BlobStat) -> bool:
        store.write(sha, len(data), [data])  # a concurrent upload renames its file into place
        return False

    assert store.delete_unless(sha, upload_then_decline)

    with store.open(sha) as file:
        assert file.read() == data
    assert parked_files(store) == []


def test_putting_back_defers_to_a_copy_that_landed_meanwhile(store: FsBlobStore) -> None:
    data = b"landed while parked"
    sha = stored(store, data)

    def upload_then_keep(_stat: BlobStat) -> bool:
        store.write(sha, len(data), [data])
        return True

    assert not store.delete_unless(sha, upload_then_keep)

    assert store.stat(sha) == BlobStat(len(data), store.path(sha).stat().st_mtime)
    assert parked_files(store) == []


def test_delete_unless_of_a_missing_object_deletes_nothing(store: FsBlobStore) -> None:
    assert not store.delete_unless("ab" * 32, lambda _stat: False)


def test_leftovers_are_temp_files_and_upload_folders_with_their_newest_write(
    store: FsBlobStore,
) -> None:
    writer = store.writer(hashlib.sha256(b"unfinished").hexdigest(), 10)
    try:
        writer.write(b"unfin")  # a write still running (or whose process died)
        upload = "ab" * 16
        part = store.part_writer(upload, 2, 3, 3)
        part.write(b"abc")
        part.commit()

        found = {item.kind: item for item in store.leftovers()}
    finally:
        writer.abort()

    assert set(found) == {LeftoverKind.TEMP, LeftoverKind.UPLOAD}
    assert found[LeftoverKind.TEMP].name.startswith("blob-")
    assert found[LeftoverKind.UPLOAD].name == upload
    assert found[LeftoverKind.UPLOAD].size > 0
    for item in found.values():
        assert abs(item.modified_at - time.time()) < 60


def test_a_leftover_is_removed_only_when_not_written_to_since_the_cutoff(
    store: FsBlobStore,
) -> None:
    upload = "cd" * 16
    part = store.part_writer(upload, 1, 0, 4)
    part.write(b"part")
    part.commit()
    leftover = next(store.leftovers())

    assert not store.remove_leftover(leftover, time.time() - DAY)
    assert store.parts(upload) == {1: 4}

    folder = store.temp_dir.parent / ".uploads" / upload
    for path in [folder, *folder.iterdir()]:
        os.utime(path, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    assert store.remove_leftover(leftover, time.time() - DAY)
    assert store.parts(upload) == {}
    assert list(store.leftovers()) == []


def test_records_pages_through_every_link_in_order(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(empty_database_url)
    database.migrate()
    metadata = SqlMetadataStore(database)
    metadata.create_account("owner", AccountKind.USER, "Owner", None, False)
    repos = [metadata.create_repo("model", "owner", f"r{n}", f"key{n}", False) for n in range(2)]
    index = SqlLfsIndex(database)
    links = sorted((f"{n:064x}", repo.id) for n in range(5) for repo in repos)
    for sha, repo_id in links:
        index.link(repo_id, sha, 7)
    monkeypatch.setattr(lfs_index_sql, "_RECORDS_PAGE", 3)

    records = list(index.records())

    assert [(r.sha256, r.repo_id) for r in records] == links
    assert index.is_linked(f"{4:064x}")
    assert not index.is_linked(f"{9:064x}")
    index.unlink(repos[0].id, [f"{4:064x}"])
    assert index.is_linked(f"{4:064x}")
    index.unlink(repos[1].id, [f"{4:064x}"])
    assert not index.is_linked(f"{4:064x}")
    database.close()
