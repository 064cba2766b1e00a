"""What only the S3 stores show: keys in the bucket, multipart writes, touch, reachability.

The behaviour every blob store shares is in `test_blobs.py`; this runs against moto's S3 API
server with small parts (5 MiB, S3's least) so that objects of a few MiB take several.
"""

from __future__ import annotations

import hashlib
import os
import time

import botocore.exceptions
import httpx
import pytest

from hubstead.server.domain.upkeep import LeftoverKind
from hubstead.server.storage.blobs_s3 import S3BlobStore
from hubstead.server.storage.errors import (
    BlobMismatchError,
    BlobNotFoundError,
    StoreUnreachableError,
)
from hubstead.server.storage.objects_s3 import MIN_PART_BYTES, S3Objects, s3_client
from hubstead.server.storage.xorbs_s3 import S3XorbStore
from tests.helpers.s3 import MotoS3
from tests.helpers.waiting import wait_until

DAY = 24 * 3600


@pytest.fixture
def objects(moto_s3: MotoS3) -> S3Objects:
    return S3Objects(moto_s3.client(), moto_s3.new_bucket(), "/hub/", part_bytes=MIN_PART_BYTES)


@pytest.fixture
def store(objects: S3Objects) -> S3BlobStore:
    return S3BlobStore(objects)


def keys(objects: S3Objects) -> list[str]:
    return sorted(found["Key"] for found in objects.listing(""))


def test_objects_are_keyed_as_the_fs_store_lays_out_files(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data = b"laid out"
    sha = hashlib.sha256(data).hexdigest()
    writer = store.writer(sha, len(data))
    writer.write(data)
    writer.commit()
    assert keys(objects) == [f"hub/blobs/{sha[:2]}/{sha[2:4]}/{sha}"]
    assert store.local_path(sha) is None


def test_a_large_object_goes_up_in_parts_and_shows_only_once_verified(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data = os.urandom(2 * MIN_PART_BYTES + 1000)
    sha = hashlib.sha256(data).hexdigest()
    writer = store.writer(sha, len(data))
    for start in range(0, len(data), 1024 * 1024):
        writer.write(data[start : start + 1024 * 1024])
    # Two parts sent, nothing visible yet: an upload in progress, a leftover while it runs.
    assert keys(objects) == []
    assert [item.kind for item in store.leftovers()] == [LeftoverKind.TEMP]
    writer.commit()
    assert store.rehash(sha) == sha
    with store.open(sha) as file:
        file.seek(MIN_PART_BYTES - 10)
        assert file.read(20) == data[MIN_PART_BYTES - 10 : MIN_PART_BYTES + 10]
    assert list(store.leftovers()) == []


def test_a_large_object_with_wrong_bytes_leaves_nothing(store: S3BlobStore) -> None:
    data = os.urandom(MIN_PART_BYTES + 10)
    sha = hashlib.sha256(b"something else").hexdigest()
    writer = store.writer(sha, len(data))
    writer.write(data)
    with pytest.raises(BlobMismatchError):
        writer.commit()
    assert store.size(sha) is None
    assert list(store.leftovers()) == []


def test_an_abandoned_write_is_a_leftover_gc_aborts(store: S3BlobStore) -> None:
    data = os.urandom(MIN_PART_BYTES + 10)
    writer = store.writer(hashlib.sha256(data).hexdigest(), len(data) + 1)
    writer.write(data)  # one part on its way, then the process "dies"
    leftover = wait_until(
        lambda: next((item for item in store.leftovers() if item.size == MIN_PART_BYTES), None),
        "the part sent to be in the bucket",
    )

    assert leftover.kind is LeftoverKind.TEMP
    assert not store.remove_leftover(leftover, time.time() - DAY)
    assert store.remove_leftover(leftover, time.time() + 60)
    assert list(store.leftovers()) == []


def test_a_part_the_bucket_refuses_drops_the_whole_write(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data = os.urandom(3 * MIN_PART_BYTES)
    sha = hashlib.sha256(data).hexdigest()
    writer = store.writer(sha, len(data))
    writer.write(data[:MIN_PART_BYTES])
    # The upload vanishes under the writer (another process's gc, a bucket lifecycle rule).
    for upload in objects.client.list_multipart_uploads(Bucket=objects.bucket)["Uploads"]:
        objects.abort_upload(upload["Key"], upload["UploadId"])

    # S3 answers NoSuchUpload; moto a 500 (after botocore's retries).
    with pytest.raises(botocore.exceptions.ClientError):
        writer.write(data[MIN_PART_BYTES:])
        writer.commit()
    assert store.size(sha) is None
    assert list(store.leftovers()) == []
    with pytest.raises(BlobMismatchError, match="abandoned"):
        writer.write(b"more")


def test_rehash_detects_corruption_in_the_bucket(store: S3BlobStore, objects: S3Objects) -> None:
    sha = hashlib.sha256(b"intact").hexdigest()
    writer = store.writer(sha, 6)
    writer.write(b"intact")
    writer.commit()
    objects.client.put_object(Bucket=objects.bucket, Key=store.key(sha), Body=b"broken")
    assert store.rehash(sha) == hashlib.sha256(b"broken").hexdigest()


def test_an_object_deleted_under_a_reader_raises_not_found(store: S3BlobStore) -> None:
    sha = hashlib.sha256(b"short-lived").hexdigest()
    writer = store.writer(sha, 11)
    writer.write(b"short-lived")
    writer.commit()
    file = store.open(sha)
    store.delete(sha)
    with pytest.raises(BlobNotFoundError):
        file.read()


def test_the_xorb_store_puts_once_reads_ranges_and_touch_renews_the_write_time(
    objects: S3Objects,
) -> None:
    store = S3XorbStore(objects)
    name = "ab" * 32

    assert store.put(name, b"0123456789") is True
    first = store.stat(name)
    time.sleep(1.1)  # S3 write times are in whole seconds
    assert store.put(name, b"ignored") is False
    second = store.stat(name)
    assert first is not None and second is not None
    assert second.modified_at > first.modified_at
    assert store.read(name, 2, 5) == b"234"
    assert store.read(name, 8, 20) == b"89"
    assert store.read(name, 20, 30) == b""
    assert store.size(name) == 10 and list(store.hashes()) == [name]
    assert keys(objects) == [f"hub/xorbs/ab/ab/{name}"]

    assert store.delete_unless(name, lambda stat: stat.size == 10) is False
    assert store.read(name, 0, 10) == b"0123456789"
    assert store.delete_unless(name, lambda stat: False) is True
    assert store.size(name) is None and store.touch(name) is False
    with pytest.raises(BlobNotFoundError):
        store.read(name, 0, 1)


def test_gc_does_not_park_an_object_written_again_since_it_was_looked_at(
    store: S3BlobStore, objects: S3Objects
) -> None:
    sha = hashlib.sha256(b"rewritten").hexdigest()
    objects.client.put_object(Bucket=objects.bucket, Key=store.key(sha), Body=b"rewritten")
    looked = objects.head(store.key(sha))
    assert looked is not None
    time.sleep(1.1)  # S3 write times are in whole seconds
    objects.client.put_object(Bucket=objects.bucket, Key=store.key(sha), Body=b"rewritten")

    assert not objects.copy(store.key(sha), "elsewhere", unmodified_since=looked.modified_at)
    assert objects.copy(store.key(sha), "elsewhere", unmodified_since=time.time() + 5)
    assert objects.head("elsewhere") is not None


def test_an_object_is_put_back_when_keep_fails(store: S3BlobStore) -> None:
    sha = hashlib.sha256(b"keep fails").hexdigest()
    writer = store.writer(sha, 10)
    writer.write(b"keep fails")
    writer.commit()

    def failing(_stat: object) -> bool:
        raise RuntimeError("the index is down")

    with pytest.raises(RuntimeError):
        store.delete_unless(sha, failing)
    assert store.rehash(sha) == sha
    assert list(store.leftovers()) == []


def test_an_unknown_bucket_is_reported_as_unreachable(
    moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in moto_s3.aws_environ().items():
        monkeypatch.setenv(key, value)
    objects = S3Objects(s3_client(moto_s3.endpoint_url, None), "no-such-bucket")
    with pytest.raises(StoreUnreachableError, match="no-such-bucket"):
        objects.check()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_presigned_put_lands_at_a_scratch_key_and_becomes_the_object_once_it_checks(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data, name = os.urandom(1000), "a" * 32
    url = store.upload_url(name, len(data), 60)
    assert url is not None and "/hub/blobs/.incoming/" + name in url
    assert "X-Amz-Expires=60" in url and "content-length" in url
    assert httpx.put(url, content=data).status_code == 200
    assert store.size(_sha(data)) is None  # not an object before it is adopted
    store.adopt(name, _sha(data), len(data))
    assert store.size(_sha(data)) == len(data)
    assert keys(objects) == [f"hub/blobs/{store.relative_path(_sha(data))}"]
    get = store.download_url(_sha(data), 30)
    assert get is not None and "X-Amz-Expires=30" in get
    assert httpx.get(get, headers={"range": "bytes=10-19"}).content == data[10:20]


def test_adopting_bytes_that_are_not_the_object_drops_them(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data, name = os.urandom(1000), "b" * 32
    with pytest.raises(BlobNotFoundError):
        store.adopt(name, _sha(data), len(data))
    for sent in (os.urandom(1000), data[:-1], data + b"!"):
        url = store.upload_url(name, len(data), 60)
        assert url is not None
        httpx.put(url, content=sent)
        with pytest.raises(BlobMismatchError):
            store.adopt(name, _sha(data), len(data))
        assert keys(objects) == []


def test_bytes_replaced_while_they_are_checked_are_not_stored(
    store: S3BlobStore, objects: S3Objects, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = os.urandom(1000), "c" * 32
    url = store.upload_url(name, len(data), 60)
    assert url is not None
    httpx.put(url, content=data)
    checked = objects.digest

    def digest_then_replace(key: str, etag: str) -> tuple[str, int]:
        found = checked(key, etag)
        httpx.put(url, content=os.urandom(1000))  # a second PUT to the URL, mid-check
        return found

    monkeypatch.setattr(objects, "digest", digest_then_replace)
    with pytest.raises(BlobNotFoundError):
        store.adopt(name, _sha(data), len(data))
    assert store.size(_sha(data)) is None


def test_presigned_parts_are_assembled_and_verified_as_received_ones_are(
    store: S3BlobStore, objects: S3Objects
) -> None:
    data, upload = os.urandom(3000), "d" * 32
    for number in (1, 2, 3):
        url = store.part_url(upload, number, 1000, 60)
        assert url is not None
        httpx.put(url, content=data[(number - 1) * 1000 : number * 1000])
    assert store.parts(upload) == {1: 1000, 2: 1000, 3: 1000}
    store.complete_multipart(upload, _sha(data), len(data), 3)
    assert keys(objects) == [f"hub/blobs/{store.relative_path(_sha(data))}"]


def test_scratch_uploads_never_adopted_are_leftovers_gc_removes(store: S3BlobStore) -> None:
    name = "e" * 32
    url = store.upload_url(name, 3, 60)
    assert url is not None
    httpx.put(url, content=b"abc")
    (leftover,) = store.leftovers()
    assert (leftover.kind, leftover.name) == (LeftoverKind.TEMP, f".incoming/{name}")
    assert not store.remove_leftover(leftover, written_before=time.time() - DAY)
    assert store.remove_leftover(leftover, written_before=time.time() + 60)
    assert list(store.leftovers()) == []
