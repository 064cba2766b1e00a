"""Objects in an S3 bucket under one key prefix: the primitives `blobs_s3` and `xorbs_s3` share.

`S3Objects` names a bucket, a prefix and the boto3 client that reaches them (credentials come
from boto3's standard sources: the environment, `~/.aws/config` and `credentials`, instance
roles; never from hubstead's settings). On it:

- `S3ObjectWriter` streams an object in: chunks are hashed as they come and buffered up to one
  part, parts go to an S3 multipart upload started at the final key on the first full part,
  and the upload is completed (or a small object PUT) only once the size and sha256 are
  verified. S3 shows nothing at a key until `CompleteMultipartUpload`, so no half-written or
  unverified object is ever visible there; a writer that never finishes leaves an in-progress
  multipart upload (`uploads`, `abort_upload`), which gc aborts once it is old.
- `S3Reader` reads an object as a seekable file: one streaming ranged GET from the position,
  started again at a new position after a seek.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
import botocore.config
import botocore.exceptions

from hubstead.server.storage.errors import (
    BlobMismatchError,
    BlobNotFoundError,
    StoreUnreachableError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

MiB = 1024 * 1024
# S3 refuses parts under 5 MiB (but the last) and uploads of more than 10,000 parts.
MIN_PART_BYTES = 5 * MiB
MAX_PARTS = 10_000
PART_BYTES = 8 * MiB
# Parts of one object being sent at once: each `upload_part` is a round trip to the bucket, which
# overlaps the receiving and hashing of the next parts; bounded, so one write holds at most this
# many parts in memory.
PARTS_IN_FLIGHT = 4
_READ_CHUNK = 1 * MiB
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


# Retries with backoff on throttling and 5xx answers; a pool as large as the threads that
# stream uploads and downloads at once. Presigned URLs in SigV4 (with a custom endpoint boto3
# would presign in SigV2, which signs no headers: a PUT URL's Content-Length is signed in).
CLIENT_CONFIG = botocore.config.Config(
    signature_version="s3v4",
    connect_timeout=10,
    read_timeout=60,
    retries={"max_attempts": 5, "mode": "standard"},
    max_pool_connections=32,
)


def s3_client(endpoint_url: str | None, region: str | None) -> S3Client:
    """A thread-safe S3 client with boto3's standard credential chain, retries and timeouts."""
    session = boto3.session.Session()
    client = session.client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=CLIENT_CONFIG
    )
    return cast("S3Client", client)


def is_missing(exc: botocore.exceptions.ClientError) -> bool:
    """Whether S3 answered that the key (or upload) does not exist."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") in _MISSING or status == 404


@dataclasses.dataclass(frozen=True)
class Head:
    """What a HEAD tells of a stored object."""

    size: int
    modified_at: float
    etag: str


@dataclasses.dataclass(frozen=True)
class InProgress:
    """An S3 multipart upload not completed: its key, id, bytes so far and newest write."""

    key: str
    upload_id: str
    size: int
    modified_at: float


class S3Objects:
    """A bucket and key prefix, and the client that reaches them."""

    def __init__(
        self, client: S3Client, bucket: str, prefix: str = "", *, part_bytes: int = PART_BYTES
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 parts are at least {MIN_PART_BYTES} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_bytes = part_bytes

    def key(self, *names: str) -> str:
        """The full key of `names` joined by `/` under the prefix."""
        return "/".join(n for n in (self.prefix, *names) if n)

    def check(self) -> None:
        """Make sure the bucket answers with these credentials.

        Raises:
            StoreUnreachableError: no connection, no such bucket, or access denied.
        """
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            where = self.client.meta.endpoint_url
            raise StoreUnreachableError(
                f"cannot reach the S3 bucket {self.bucket!r} at {where}: {exc}"
            ) from exc

    def head(self, key: str) -> Head | None:
        """The object's size, write time and ETag, or None when there is none at `key`."""
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return Head(found["ContentLength"], found["LastModified"].timestamp(), found["ETag"])

    def listing(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object whose key starts with `prefix` (`Key`, `Size`, `LastModified`)."""
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])  # type: ignore[misc]

    def delete_keys(self, keys: list[str]) -> None:
        """Delete objects, a thousand per request (missing ones are not an error)."""
        for start in range(0, len(keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [
                {"Key": key} for key in keys[start : start + 1000]
            ]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def copy(
        self,
        source: str,
        target: str,
        unmodified_since: float | None = None,
        *,
        if_match: str | None = None,
    ) -> bool:
        """Copy an object in the bucket (multipart for large ones); False if `source` is gone.

        With `unmodified_since`, False as well when `source` was written after that time; with
        `if_match`, when its ETag is no longer that one (it was written again).
        """
        extra: dict[str, Any] = {}
        if unmodified_since is not None:
            extra["CopySourceIfUnmodifiedSince"] = dt.datetime.fromtimestamp(
                unmodified_since, dt.UTC
            )
        if if_match is not None:
            extra["CopySourceIfMatch"] = if_match
        try:
            self.client.copy(
                {"Bucket": self.bucket, "Key": source}, self.bucket, target, ExtraArgs=extra
            )
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if is_missing(exc) or code in ("PreconditionFailed", "412"):
                return False
            raise
        return True

    def presign(self, operation: str, key: str, ttl: int, **params: Any) -> str:
        """A URL that lets its holder do `operation` on the object at `key` for `ttl` seconds.

        Made locally (no request); the bucket checks the signature, the expiry and the signed
        headers (a PUT's Content-Length) when the URL is used.
        """
        return self.client.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, "Key": key, **params}, ExpiresIn=ttl
        )

    def digest(self, key: str, etag: str) -> tuple[str, int]:
        """The sha256 and length of the object at `key`, read in one GET of that very version.

        Raises:
            BlobNotFoundError: there is no object at `key`, or it is no longer the one with
                ETag `etag` (written again since it was looked at).
        """
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if is_missing(exc) or code in ("PreconditionFailed", "412"):
                raise BlobNotFoundError(key) from exc
            raise
        digest, length = hashlib.sha256(), 0
        body = found["Body"]
        while chunk := body.read(_READ_CHUNK):
            digest.update(chunk)
            length += len(chunk)
        return digest.hexdigest(), length

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `[start, end)` of an object; fewer past its end.

        Raises:
            BlobNotFoundError: there is no object at `key`.
        """
        if end <= start:
            return b""
        try:
            found = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
            )
        except botocore.exceptions.ClientError as exc:
            if is_missing(exc):
                raise BlobNotFoundError(key) from exc
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # starts past the end
            raise
        return found["Body"].read()

    def open(self, key: str) -> BinaryIO:
        """The object as a buffered, seekable file.

        Raises:
            BlobNotFoundError: there is no object at `key`.
        """
        head = self.head(key)
        if head is None:
            raise BlobNotFoundError(key)
        return io.BufferedReader(S3Reader(self, key, head.size), buffer_size=_READ_CHUNK)

    # --- multipart uploads in progress (the leftovers of writers that never finished) ----------

    def uploads(self, prefix: str) -> Iterator[InProgress]:
        """The multipart uploads not completed under `prefix`, with their size and newest write."""
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                key, upload_id = upload["Key"], upload["UploadId"]
                size, newest = 0, upload["Initiated"].timestamp()
                try:
                    for part in self._parts(key, upload_id):
                        size += part["Size"]
                        newest = max(newest, part["LastModified"].timestamp())
                except botocore.exceptions.ClientError as exc:
                    if is_missing(exc):  # completed or aborted meanwhile
                        continue
                    raise
                yield InProgress(key, upload_id, size, newest)

    def _parts(self, key: str, upload_id: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_parts")
        for page in pages.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
            yield from page.get("Parts", [])  # type: ignore[misc]

    def abort_upload(self, key: str, upload_id: str) -> bool:
        """Abort a multipart upload; whether it was still there."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except botocore.exceptions.ClientError as exc:
            if is_missing(exc):
                return False
            raise
        return True


class S3ObjectWriter:
    """An object being written to `key`: visible there only once its size and digest check.

    Its methods may be called from different threads, one at a time or not: they serialize.
    """

    def __init__(self, objects: S3Objects, key: str, size: int, sha256: str | None) -> None:
        self._objects = objects
        self._key = key
        self._size = size
        self._sha256 = sha256
        self._written = 0
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        # Parts as large as needed to fit S3's 10,000 parts, never under the configured size.
        self._part_bytes = max(objects.part_bytes, -(-size // MAX_PARTS))
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        # Parts being sent, oldest first: their numbers and the ETags to come.
        self._sending: deque[tuple[int, Future[str]]] = deque()
        self._senders: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Append bytes, sending each full part.

        Raises:
            BlobMismatchError: more bytes than announced (the upload is dropped).
            botocore.exceptions.ClientError: a part could not be sent (the upload is dropped).
        """
        with self._lock:
            if self._done:
                raise BlobMismatchError(f"the write of {self._key} was abandoned")
            self._written += len(chunk)
            if self._written > self._size:
                self._abort()
                raise BlobMismatchError(f"received more than the announced {self._size} bytes")
            self._hash.update(chunk)
            self._buffer += chunk
            try:
                while len(self._buffer) >= self._part_bytes and self._written < self._size:
                    self._send_part(self._part_bytes)
            except BaseException:
                self._abort()
                raise

    def commit(self) -> str:
        """Verify size (and digest, when announced), then make the object visible at its key.

        Returns:
            The sha256 of the bytes.

        Raises:
            BlobMismatchError: the bytes are not what was announced; nothing is stored.
        """
        with self._lock:
            digest = self._hash.hexdigest()
            if self._done or self._written != self._size or digest != (self._sha256 or digest):
                self._abort()
                expected = f" with sha256 {self._sha256}" if self._sha256 else ""
                raise BlobMismatchError(
                    f"expected {self._size} bytes{expected}, "
                    f"received {self._written} bytes with sha256 {digest}"
                )
            client, bucket = self._objects.client, self._objects.bucket
            try:
                if self._upload_id is None:
                    client.put_object(Bucket=bucket, Key=self._key, Body=bytes(self._buffer))
                else:
                    self._send_part(len(self._buffer))
                    while self._sending:
                        self._collect_oldest()
                    self._stop_senders()
                    client.complete_multipart_upload(
                        Bucket=bucket,
                        Key=self._key,
                        UploadId=self._upload_id,
                        MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
                    )
            except BaseException:
                self._abort()
                raise
            self._done = True
            self._buffer = bytearray()
            return digest

    def abort(self) -> None:
        """Drop what was written (and the multipart upload, when one was started)."""
        with self._lock:
            self._abort()

    def _abort(self) -> None:
        self._done = True
        self._buffer = bytearray()
        # Parts still being sent are waited for: one landing after the abort would outlive it.
        wait([future for _, future in self._sending])
        self._sending.clear()
        self._stop_senders()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._objects.abort_upload(self._key, upload_id)

    def _send_part(self, length: int) -> None:
        """Start sending the buffer's first `length` bytes as the next part."""
        if self._upload_id is None:
            started = self._objects.client.create_multipart_upload(
                Bucket=self._objects.bucket, Key=self._key
            )
            self._upload_id = started["UploadId"]
            self._senders = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3-parts")
        assert self._senders is not None
        if len(self._sending) == PARTS_IN_FLIGHT:
            self._collect_oldest()
        number = len(self._parts) + len(self._sending) + 1
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._sending.append(
            (number, self._senders.submit(self._upload_part, self._upload_id, number, body))
        )

    def _upload_part(self, upload_id: str, number: int, body: bytes) -> str:
        sent = self._objects.client.upload_part(
            Bucket=self._objects.bucket,
            Key=self._key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        return sent["ETag"]

    def _collect_oldest(self) -> None:
        """Wait for the oldest part being sent (its failure raises here) and record it."""
        number, future = self._sending.popleft()
        self._parts.append({"PartNumber": number, "ETag": future.result()})

    def _stop_senders(self) -> None:
        if self._senders is not None:
            self._senders.shutdown(wait=True)
            self._senders = None


class S3Reader(io.RawIOBase):
    """An object's bytes as a seekable raw file: a streaming GET from the current position.

    A seek drops the stream; the next read starts a ranged GET where it points.
    """

    def __init__(self, objects: S3Objects, key: str, size: int) -> None:
        super().__init__()
        self._objects = objects
        self._key = key
        self._size = size
        self._position = 0
        self._body: Any = None

    def readable(self) -> bool:
        """Always: it is a reader."""
        return True

    def seekable(self) -> bool:
        """Always: seeking starts a new ranged GET."""
        return True

    def tell(self) -> int:
        """The position of the next byte read."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position (past the end is allowed: reads there give nothing)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        position = base + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        if position != self._position:
            self._drop()
            self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the stream (starting one at the position if needed)."""
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        if self._body is None:
            self._body = self._get()
        data = self._body.read(len(view))
        if not data and self._position < self._size:
            raise BlobNotFoundError(f"{self._key} ended at {self._position} of {self._size}")
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        """Drop the stream."""
        self._drop()
        super().close()

    def _get(self) -> Any:
        objects = self._objects
        try:
            found = objects.client.get_object(
                Bucket=objects.bucket, Key=self._key, Range=f"bytes={self._position}-"
            )
        except botocore.exceptions.ClientError as exc:
            if is_missing(exc):
                raise BlobNotFoundError(self._key) from exc
            raise
        return found["Body"]

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
