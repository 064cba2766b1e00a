"""Multipart uploads in the filesystem blob store: parts written in place, hashed as they come."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.multipart_fs import DATA
from hubstead.server.storage.multipart_hashes_fs import STATE
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


def upload_dir(store: FsBlobStore) -> Path:
    return store.temp_dir.parent / ".uploads" / UPLOAD


def hashed_parts(store: FsBlobStore) -> int:
    """How many parts the upload's running sha256 has taken in (0 without a state)."""
    raw = (upload_dir(store) / STATE).read_bytes().rstrip(b"\0")
    return int(json.loads(raw)["part"]) - 1 if raw else 0


def rewrite_state(store: FsBlobStore, **changes: object) -> None:
    path = upload_dir(store) / STATE
    record = json.loads(path.read_bytes().rstrip(b"\0"))
    path.write_text(json.dumps(record | changes))


def test_parts_out_of_order_are_hashed_once_the_parts_before_them_are_whole(
    store: FsBlobStore,
) -> None:
    data = os.urandom(4 * PART - 7)
    taken_in = []
    for number in (3, 1, 4, 2):
        send(store, number, data)
        taken_in.append(hashed_parts(store))

    assert taken_in == [0, 1, 1, 4]
    store.complete_multipart(UPLOAD, digest(data), len(data), 4)
    assert stored(store, data) == data


def test_a_hashed_part_sent_again_with_other_bytes_is_hashed_again(store: FsBlobStore) -> None:
    first = os.urandom(2 * PART)
    second = os.urandom(PART) + first[PART:]
    send(store, 1, first)
    send(store, 2, first)
    send(store, 1, second)

    with pytest.raises(BlobMismatchError):
        store.complete_multipart(UPLOAD, digest(first), len(first), 2)
    send(store, 1, second)
    store.complete_multipart(UPLOAD, digest(second), len(second), 2)
    assert stored(store, second) == second


def test_a_part_is_not_hashed_while_a_duplicate_of_it_is_being_written(
    store: FsBlobStore,
) -> None:
    data = os.urandom(2 * PART)
    duplicate = store.part_writer(UPLOAD, 1, 0, PART)
    send(store, 1, data)
    send(store, 2, data)
    # The duplicate overwrites the part that came whole, then breaks off: the bytes are wrong.
    duplicate.write(bytes(PART // 2))
    duplicate.abort()

    assert hashed_parts(store) == 0
    with pytest.raises(BlobMismatchError):
        store.complete_multipart(UPLOAD, digest(data), len(data), 2)
    assert stored(store, data) is None


def _send_in_another_process(root: Path, number: int, data: bytes) -> None:
    send(FsBlobStore(root), number, data)


def test_another_process_continues_the_hash(store: FsBlobStore) -> None:
    data = os.urandom(3 * PART)
    send(store, 1, data)
    process = multiprocessing.get_context("spawn").Process(
        target=_send_in_another_process, args=(store.temp_dir.parent, 2, data)
    )
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert hashed_parts(store) == 2

    send(store, 3, data)
    assert hashed_parts(store) == 3
    store.complete_multipart(UPLOAD, digest(data), len(data), 3)
    assert stored(store, data) == data


@pytest.mark.parametrize(
    "stale",
    [{"boot": "another-boot"}, {"inode": 1}, {"context": "00"}],
    ids=["from-before-a-crash", "of-another-data-file", "unreadable"],
)
def test_a_stale_state_is_not_trusted_and_the_bytes_are_hashed_again(
    store: FsBlobStore, stale: dict[str, object]
) -> None:
    data = os.urandom(2 * PART)
    send(store, 1, data)
    send(store, 2, data)
    # The state's bytes are not the file's any more (as when a crash lost written pages).
    with (upload_dir(store) / DATA).open("r+b") as file:
        file.write(bytes(10))
    rewrite_state(store, **stale)

    with pytest.raises(BlobMismatchError):
        store.complete_multipart(UPLOAD, digest(data), len(data), 2)
    assert stored(store, data) is None


def test_a_torn_state_is_not_trusted(store: FsBlobStore) -> None:
    data = os.urandom(2 * PART)
    send(store, 1, data)
    send(store, 2, data)
    (upload_dir(store) / STATE).write_bytes(b'{"part": 3, "off')

    store.complete_multipart(UPLOAD, digest(data), len(data), 2)
    assert stored(store, data) == data
