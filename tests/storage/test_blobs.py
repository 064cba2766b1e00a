"""The `BlobStore` contract, on every implementation (the local filesystem, for now).

Writes and multipart uploads first, then the upkeep operations fsck and gc stand on.
`delete_unless` is tested against a writer that stores the same object while the deletion is
deciding: the callback is the moment such a writer can interleave, so it runs there.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.server.domain.upkeep import LeftoverKind
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError


@pytest.fixture(params=["fs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FsBlobStore]:
    yield FsBlobStore(tmp_path / "blobs")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_part(
    store: FsBlobStore, upload: str, number: int, data: bytes, part_size: int | None = None
) -> str:
    offset = (number - 1) * (part_size or len(data))
    writer = store.part_writer(upload, number, offset, len(data))
    writer.write(data)
    return writer.commit()


def test_a_part_of_the_wrong_size_is_refused_and_not_kept(store: FsBlobStore) -> None:
    writer = store.part_writer("0" * 31 + "4", 1, 0, 10)
    writer.write(b"short")
    with pytest.raises(BlobMismatchError):
        writer.commit()
    assert store.parts("0" * 31 + "4") == {}


def _leftovers(store: FsBlobStore) -> list[Path]:
    return [p for p in store.temp_dir.iterdir()]


def test_written_object_reads_back(store: FsBlobStore) -> None:
    data = b"weights" * 1000
    store.write(_digest(data), len(data), [data[:100], data[100:]])
    with store.open(_digest(data)) as file:
        assert file.read() == data
    assert store.size(_digest(data)) == len(data)
    assert list(store.digests()) == [_digest(data)]


def test_zero_byte_object_is_stored(store: FsBlobStore) -> None:
    store.write(_digest(b""), 0, [])
    assert store.size(_digest(b"")) == 0


def test_wrong_bytes_are_refused_and_nothing_becomes_visible(store: FsBlobStore) -> None:
    with pytest.raises(BlobMismatchError):
        store.write(_digest(b"right"), 5, [b"wrong"])
    assert store.size(_digest(b"right")) is None
    assert _leftovers(store) == []


def test_more_bytes_than_announced_are_refused(store: FsBlobStore) -> None:
    with pytest.raises(BlobMismatchError):
        store.write(_digest(b"abc"), 2, [b"abc"])
    assert store.size(_digest(b"abc")) is None
    assert _leftovers(store) == []


def test_missing_object_raises(store: FsBlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        store.open(_digest(b"nothing"))
    assert store.size(_digest(b"nothing")) is None


def test_malformed_digest_is_rejected_before_touching_disk(store: FsBlobStore) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.path("../../etc/passwd")


def test_concurrent_writers_of_one_digest_leave_one_good_copy(store: FsBlobStore) -> None:
    data = b"x" * 1_000_000
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.write(
                _digest(data), len(data), [data[i : i + 4096] for i in range(0, len(data), 4096)]
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.rehash(_digest(data)) == _digest(data)
    assert _leftovers(store) == []


def test_multipart_parts_out_of_order_and_resent_assemble(store: FsBlobStore) -> None:
    data = bytes(range(256)) * 40
    parts = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    upload = "0" * 31 + "1"
    for number in reversed(range(1, len(parts) + 1)):
        _write_part(store, upload, number, parts[number - 1], 4096)
    assert _write_part(store, upload, 1, parts[0], 4096)
    assert store.parts(upload) == {n: len(p) for n, p in enumerate(parts, start=1)}
    store.complete_multipart(upload, _digest(data), len(data), len(parts))
    with store.open(_digest(data)) as file:
        assert file.read() == data
    assert store.parts(upload) == {}


def test_multipart_with_a_missing_part_is_refused(store: FsBlobStore) -> None:
    upload = "0" * 31 + "2"
    _write_part(store, upload, 1, b"a")
    with pytest.raises(BlobNotFoundError):
        store.complete_multipart(upload, _digest(b"ab"), 2, 2)
    assert store.size(_digest(b"ab")) is None
    assert store.parts(upload) == {1: 1}


def test_multipart_with_wrong_content_is_refused(store: FsBlobStore) -> None:
    upload = "0" * 31 + "3"
    _write_part(store, upload, 1, b"a")
    _write_part(store, upload, 2, b"c")
    with pytest.raises(BlobMismatchError):
        store.complete_multipart(upload, _digest(b"ab"), 2, 2)
    assert store.size(_digest(b"ab")) is None


def test_delete_removes_the_object(store: FsBlobStore) -> None:
    store.write(_digest(b"gone"), 4, [b"gone"])
    assert store.delete(_digest(b"gone")) is True
    assert store.delete(_digest(b"gone")) is False
    assert store.size(_digest(b"gone")) is None


def test_rehash_detects_corruption_on_disk(store: FsBlobStore) -> None:
    store.write(_digest(b"intact"), 6, [b"intact"])
    store.path(_digest(b"intact")).write_bytes(b"broken")
    assert store.rehash(_digest(b"intact")) != _digest(b"intact")


# --- upkeep -------------------------------------------------------------------------------------

DAY = 24 * 3600


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
