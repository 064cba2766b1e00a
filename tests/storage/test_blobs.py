"""The `BlobStore` contract, on every implementation (the local filesystem and S3).

Only the Protocol's methods are used here; what only one backend can show (files on disk,
keys in a bucket) is in `test_blobs_fs.py` and `test_blobs_s3.py`. Writes and multipart
uploads first, then the upkeep operations fsck and gc stand on. `delete_unless` is tested
against a writer that stores the same object while the deletion is deciding: the callback is
the moment such a writer can interleave, so it runs there.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from hubstead.server.domain.upkeep import LeftoverKind
from hubstead.server.storage.blobs import BlobStat, BlobStore
from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.blobs_s3 import S3BlobStore
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.objects_s3 import S3Objects
from tests.helpers.s3 import MotoS3


@pytest.fixture(params=["fs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "fs":
        return FsBlobStore(tmp_path / "blobs")
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    return S3BlobStore(S3Objects(moto.client(), moto.new_bucket(), "hub"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(store: BlobStore, sha256: str, size: int, chunks: Iterable[bytes]) -> None:
    writer = store.writer(sha256, size)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    writer.commit()


def stored(store: BlobStore, data: bytes) -> str:
    sha = _digest(data)
    write(store, sha, len(data), [data])
    return sha


def read(store: BlobStore, sha256: str) -> bytes:
    with store.open(sha256) as file:
        return file.read()


def _write_part(
    store: BlobStore, upload: str, number: int, data: bytes, part_size: int | None = None
) -> str:
    offset = (number - 1) * (part_size or len(data))
    writer = store.part_writer(upload, number, offset, len(data))
    writer.write(data)
    return writer.commit()


def test_a_part_of_the_wrong_size_is_refused_and_not_kept(store: BlobStore) -> None:
    writer = store.part_writer("0" * 31 + "4", 1, 0, 10)
    writer.write(b"short")
    with pytest.raises(BlobMismatchError):
        writer.commit()
    assert store.parts("0" * 31 + "4") == {}


def test_written_object_reads_back(store: BlobStore) -> None:
    data = b"weights" * 1000
    write(store, _digest(data), len(data), [data[:100], data[100:]])
    assert read(store, _digest(data)) == data
    assert store.size(_digest(data)) == len(data)
    assert list(store.digests()) == [_digest(data)]


def test_an_object_opens_as_a_seekable_file(store: BlobStore) -> None:
    data = bytes(range(256)) * 64
    sha = stored(store, data)
    with store.open(sha) as file:
        file.seek(1000)
        assert file.read(10) == data[1000:1010]
        file.seek(-5, 2)
        assert file.read() == data[-5:]
        file.seek(0)
        assert file.read(3) == data[:3]
        assert file.tell() == 3


def test_zero_byte_object_is_stored(store: BlobStore) -> None:
    write(store, _digest(b""), 0, [])
    assert store.size(_digest(b"")) == 0
    assert read(store, _digest(b"")) == b""


def test_wrong_bytes_are_refused_and_nothing_becomes_visible(store: BlobStore) -> None:
    with pytest.raises(BlobMismatchError):
        write(store, _digest(b"right"), 5, [b"wrong"])
    assert store.size(_digest(b"right")) is None
    assert list(store.leftovers()) == []


def test_more_bytes_than_announced_are_refused(store: BlobStore) -> None:
    with pytest.raises(BlobMismatchError):
        write(store, _digest(b"abc"), 2, [b"abc"])
    assert store.size(_digest(b"abc")) is None
    assert list(store.leftovers()) == []


def test_missing_object_raises(store: BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        store.open(_digest(b"nothing"))
    assert store.size(_digest(b"nothing")) is None
    assert store.stat(_digest(b"nothing")) is None


def test_malformed_digest_is_rejected_before_touching_storage(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.relative_path("../../etc/passwd")
    with pytest.raises(ValueError, match="sha256"):
        store.writer("../../etc/passwd", 1)


def test_concurrent_writers_of_one_digest_leave_one_good_copy(store: BlobStore) -> None:
    data = b"x" * 1_000_000
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write(
                store,
                _digest(data),
                len(data),
                [data[i : i + 4096] for i in range(0, len(data), 4096)],
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.rehash(_digest(data)) == _digest(data)
    assert list(store.leftovers()) == []


def test_multipart_parts_out_of_order_and_resent_assemble(store: BlobStore) -> None:
    data = bytes(range(256)) * 40
    parts = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    upload = "0" * 31 + "1"
    for number in reversed(range(1, len(parts) + 1)):
        _write_part(store, upload, number, parts[number - 1], 4096)
    assert _write_part(store, upload, 1, parts[0], 4096)
    assert store.parts(upload) == {n: len(p) for n, p in enumerate(parts, start=1)}
    store.complete_multipart(upload, _digest(data), len(data), len(parts))
    assert read(store, _digest(data)) == data
    assert store.parts(upload) == {}
    assert list(store.leftovers()) == []


def test_multipart_with_a_missing_part_is_refused(store: BlobStore) -> None:
    upload = "0" * 31 + "2"
    _write_part(store, upload, 1, b"a")
    with pytest.raises(BlobNotFoundError):
        store.complete_multipart(upload, _digest(b"ab"), 2, 2)
    assert store.size(_digest(b"ab")) is None
    assert store.parts(upload) == {1: 1}


def test_multipart_with_wrong_content_is_refused(store: BlobStore) -> None:
    upload = "0" * 31 + "3"
    _write_part(store, upload, 1, b"a")
    _write_part(store, upload, 2, b"c")
    with pytest.raises(BlobMismatchError):
        store.complete_multipart(upload, _digest(b"ab"), 2, 2)
    assert store.size(_digest(b"ab")) is None


def test_an_aborted_multipart_upload_keeps_nothing(store: BlobStore) -> None:
    upload = "0" * 31 + "5"
    _write_part(store, upload, 1, b"a")
    store.abort_multipart(upload)
    assert store.parts(upload) == {}
    assert list(store.leftovers()) == []


def test_delete_removes_the_object(store: BlobStore) -> None:
    stored(store, b"gone")
    assert store.delete(_digest(b"gone")) is True
    assert store.delete(_digest(b"gone")) is False
    assert store.size(_digest(b"gone")) is None


# --- upkeep -------------------------------------------------------------------------------------

DAY = 24 * 3600


def test_stat_tells_size_and_write_time(store: BlobStore) -> None:
    sha = stored(store, b"stat me")
    found = store.stat(sha)
    assert found is not None
    assert found.size == 7
    assert abs(found.modified_at - time.time()) < 60


def test_delete_unless_removes_an_object_keep_does_not_claim(store: BlobStore) -> None:
    sha = stored(store, b"unreferenced")
    seen: list[BlobStat] = []

    def decline(stat: BlobStat) -> bool:
        seen.append(stat)
        return False

    assert store.delete_unless(sha, decline)

    assert store.stat(sha) is None
    assert seen[0].size == len(b"unreferenced")
    assert abs(seen[0].modified_at - time.time()) < 60
    assert list(store.leftovers()) == []


def test_delete_unless_puts_the_object_back_when_keep_claims_it(store: BlobStore) -> None:
    sha = stored(store, b"claimed")

    assert not store.delete_unless(sha, lambda _stat: True)

    assert read(store, sha) == b"claimed"
    assert list(store.leftovers()) == []


def test_an_upload_landing_while_deletion_decides_survives_it(store: BlobStore) -> None:
    data = b"uploaded again meanwhile"
    sha = stored(store, data)

    def upload_then_decline(_stat: BlobStat) -> bool:
        write(store, sha, len(data), [data])  # a concurrent upload puts its copy in place
        return False

    assert store.delete_unless(sha, upload_then_decline)

    assert read(store, sha) == data
    assert list(store.leftovers()) == []


def test_putting_back_defers_to_a_copy_that_landed_meanwhile(store: BlobStore) -> None:
    data = b"landed while parked"
    sha = stored(store, data)

    def upload_then_keep(_stat: BlobStat) -> bool:
        write(store, sha, len(data), [data])
        return True

    assert not store.delete_unless(sha, upload_then_keep)

    assert read(store, sha) == data
    assert list(store.leftovers()) == []


def test_delete_unless_of_a_missing_object_deletes_nothing(store: BlobStore) -> None:
    assert not store.delete_unless("ab" * 32, lambda _stat: False)


def test_an_unfinished_multipart_upload_is_a_leftover_with_its_newest_write(
    store: BlobStore,
) -> None:
    upload = "ab" * 16
    _write_part(store, upload, 2, b"abc")

    found = list(store.leftovers())

    assert [(item.kind, item.name) for item in found] == [(LeftoverKind.UPLOAD, upload)]
    assert found[0].size > 0
    assert abs(found[0].modified_at - time.time()) < 60


def test_a_leftover_is_removed_only_when_not_written_to_since_the_cutoff(
    store: BlobStore,
) -> None:
    upload = "cd" * 16
    _write_part(store, upload, 1, b"part")
    leftover = next(store.leftovers())

    assert not store.remove_leftover(leftover, time.time() - DAY)
    assert store.parts(upload) == {1: 4}

    assert store.remove_leftover(leftover, time.time() + 60)
    assert store.parts(upload) == {}
    assert list(store.leftovers()) == []
