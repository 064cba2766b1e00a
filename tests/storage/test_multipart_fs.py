"""Multipart uploads in the filesystem blob store: parts written in place, then verified once."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.multipart_fs import DATA
from tests.helpers.waiting import wait_until

UPLOAD = "ab" * 16
PART = 4096


@pytest.fixture
def store(tmp_path: Path) -> FsBlobStore:
    return FsBlobStore(tmp_path / "blobs")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def send(store: FsBlobStore, number: int, data: bytes, *pieces: int) -> str:
    """Send part `number` of `data` (in pieces of the given sizes, else at once)."""
    part = data[(number - 1) * PART : number * PART]
    writer = store.part_writer(UPLOAD, number, (number - 1) * PART, len(part))
    offset = 0
    for size in pieces or (len(part),):
        writer.write(part[offset : offset + size])
        offset += size
    return writer.commit()


def stored(store: FsBlobStore, data: bytes) -> bytes | None:
    if store.size(digest(data)) is None:
        return None
    with store.open(digest(data)) as file:
        return file.read()


def test_parts_sent_from_many_threads_assemble(store: FsBlobStore) -> None:
    data = os.urandom(16 * PART - 100)
    threads = [threading.Thread(target=send, args=(store, n, data)) for n in range(1, 17)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    store.complete_multipart(UPLOAD, digest(data), len(data), 16)

    assert stored(store, data) == data
    assert store.parts(UPLOAD) == {}
    assert list(store.temp_dir.iterdir()) == []


def test_a_part_refused_for_its_size_writes_nothing_over_its_neighbour(
    store: FsBlobStore,
) -> None:
    data = os.urandom(2 * PART)
    send(store, 2, data)
    writer = store.part_writer(UPLOAD, 1, 0, PART)
    writer.write(data[: PART - 10])

    with pytest.raises(BlobMismatchError, match="received more"):
        writer.write(os.urandom(20))

    assert store.parts(UPLOAD) == {2: PART}
    send(store, 1, data)
    store.complete_multipart(UPLOAD, digest(data), len(data), 2)
    assert stored(store, data) == data


def test_a_part_being_sent_again_does_not_count_until_whole(store: FsBlobStore) -> None:
    data = os.urandom(2 * PART)
    send(store, 1, data)
    send(store, 2, data)

    writer = store.part_writer(UPLOAD, 1, 0, PART)
    assert store.parts(UPLOAD) == {2: PART}
    writer.write(data[:100])
    with pytest.raises(BlobMismatchError):
        writer.commit()
    with pytest.raises(BlobNotFoundError, match=r"\[1\]"):
        store.complete_multipart(UPLOAD, digest(data), len(data), 2)

    send(store, 1, data, 100, PART - 100)
    store.complete_multipart(UPLOAD, digest(data), len(data), 2)
    assert stored(store, data) == data


def test_an_abandoned_part_does_not_count(store: FsBlobStore) -> None:
    writer = store.part_writer(UPLOAD, 1, 0, PART)
    writer.write(b"x" * 10)
    writer.abort()
    writer.abort()

    assert store.parts(UPLOAD) == {}


def waiting_for_exclusive_flock(path: Path) -> bool:
    """Whether this process waits for an exclusive `flock` on the file at `path` (Linux)."""
    # /proc/locks lists a waiter as `N: -> FLOCK ADVISORY WRITE <pid> <dev>:<inode> ...`; the
    # device is left out, as some filesystems (btrfs) report another one there than `stat`.
    wanted = ["->", "FLOCK", "ADVISORY", "WRITE", str(os.getpid())]
    inode = f":{path.stat().st_ino}"
    with open("/proc/locks") as locks:
        return any(
            fields[1:6] == wanted and fields[6].endswith(inode)
            for fields in (line.split() for line in locks)
        )


def test_completion_waits_for_a_part_being_written(store: FsBlobStore, tmp_path: Path) -> None:
    data = os.urandom(3 * PART)
    for number in (1, 2, 3):
        send(store, number, data)
    resend = store.part_writer(UPLOAD, 2, PART, PART)
    resend.write(data[PART : PART + 10])
    failures: list[BaseException] = []

    def complete() -> None:
        try:
            store.complete_multipart(UPLOAD, digest(data), len(data), 3)
        except BaseException as exc:  # asserted on below
            failures.append(exc)

    completion = threading.Thread(target=complete)
    completion.start()
    data_file = tmp_path / "blobs" / ".uploads" / UPLOAD / DATA
    wait_until(lambda: waiting_for_exclusive_flock(data_file), "completion to wait for the lock")
    assert completion.is_alive(), "completion must not read a part mid-write"
    assert stored(store, data) is None

    resend.write(data[PART + 10 : 2 * PART])
    resend.commit()
    completion.join(timeout=10)

    assert failures == []
    assert stored(store, data) == data


def test_a_part_sent_after_completion_leaves_the_object_alone(store: FsBlobStore) -> None:
    data = os.urandom(PART)
    send(store, 1, data)
    store.complete_multipart(UPLOAD, digest(data), len(data), 1)

    late = store.part_writer(UPLOAD, 1, 0, PART)
    late.write(bytes(PART))
    late.commit()

    assert stored(store, data) == data
    with pytest.raises(BlobMismatchError):
        store.complete_multipart(UPLOAD, digest(data), len(data), 1)
    assert stored(store, data) == data


def test_completing_the_wrong_bytes_stores_nothing(store: FsBlobStore) -> None:
    data = os.urandom(2 * PART)
    send(store, 1, data)
    send(store, 2, bytes(2 * PART))

    with pytest.raises(BlobMismatchError, match=digest(data)):
        store.complete_multipart(UPLOAD, digest(data), len(data), 2)

    assert stored(store, data) is None
    assert store.parts(UPLOAD) == {1: PART, 2: PART}
    store.abort_multipart(UPLOAD)
    assert store.parts(UPLOAD) == {}


def test_completing_an_upload_that_never_started_is_refused(store: FsBlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        store.complete_multipart(UPLOAD, digest(b"x"), 1, 1)
