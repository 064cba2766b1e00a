"""What only `FsBlobStore` shows: files on disk, temporary files and their write times.

The behaviour every store shares is in `test_blobs.py`.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from hubstead.server.domain.upkeep import LeftoverKind
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.errors import BlobNotFoundError

DAY = 24 * 3600


@pytest.fixture
def store(tmp_path: Path) -> FsBlobStore:
    return FsBlobStore(tmp_path / "blobs")


def stored(store: FsBlobStore, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    store.write(sha, len(data), [data])
    return sha


def test_malformed_digest_is_rejected_before_touching_disk(store: FsBlobStore) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.path("../../etc/passwd")


def test_an_object_is_a_local_file_under_its_relative_path(
    store: FsBlobStore, tmp_path: Path
) -> None:
    sha = stored(store, b"local")
    assert store.local_path(sha) == tmp_path / "blobs" / store.relative_path(sha)
    assert store.local_path("ab" * 32) is None


def test_rehash_detects_corruption_on_disk(store: FsBlobStore) -> None:
    sha = stored(store, b"intact")
    store.path(sha).write_bytes(b"broken")
    assert store.rehash(sha) != sha


def test_putting_back_keeps_the_copy_that_landed_meanwhile(store: FsBlobStore) -> None:
    data = b"landed while parked"
    sha = stored(store, data)

    def upload_then_keep(_stat: BlobStat) -> bool:
        store.write(sha, len(data), [data])
        return True

    assert not store.delete_unless(sha, upload_then_keep)

    assert store.stat(sha) == BlobStat(len(data), store.path(sha).stat().st_mtime)
    assert [p for p in store.temp_dir.iterdir() if p.name.startswith("gc-")] == []


def test_an_unfinished_write_is_a_temporary_file_leftover(store: FsBlobStore) -> None:
    writer = store.writer(hashlib.sha256(b"unfinished").hexdigest(), 10)
    try:
        writer.write(b"unfin")  # a write still running (or whose process died)
        found = list(store.leftovers())
    finally:
        writer.abort()

    assert [item.kind for item in found] == [LeftoverKind.TEMP]
    assert found[0].name.startswith("blob-")
    assert abs(found[0].modified_at - time.time()) < 60


def test_an_upload_folder_written_to_before_the_cutoff_is_removed(store: FsBlobStore) -> None:
    upload = "cd" * 16
    part = store.part_writer(upload, 1, 0, 4)
    part.write(b"part")
    part.commit()
    leftover = next(store.leftovers())

    assert not store.remove_leftover(leftover, time.time() - DAY)

    folder = store.temp_dir.parent / ".uploads" / upload
    for path in [folder, *folder.iterdir()]:
        os.utime(path, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    assert store.remove_leftover(leftover, time.time() - DAY)
    assert store.parts(upload) == {}


def test_the_fs_store_gives_no_direct_urls_and_adopts_nothing(store: FsBlobStore) -> None:
    sha = stored(store, b"local")
    assert store.download_url(sha, 60) is None
    assert store.upload_url("a" * 32, 5, 60) is None
    assert store.part_url("a" * 32, 1, 5, 60) is None
    with pytest.raises(BlobNotFoundError):
        store.adopt("a" * 32, sha, 5)
