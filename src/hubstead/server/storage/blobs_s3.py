"""`BlobStore` on S3 (or any S3-compatible store): `<prefix>/blobs/<sha[:2]>/<sha[2:4]>/<sha>`.

The keys under `blobs/` are the paths of `FsBlobStore` under its root, so a blob directory
copied into the bucket (`aws s3 sync`) is a valid store, and back.

- Writes stream through `S3ObjectWriter`: hashed as they come, sent in parts, and completed at
  the final key only once size and sha256 check, so a key holds a whole, verified object or
  nothing.
- A multipart upload keeps each part as an object of its own, `.uploads/<upload_id>/<n>`
  (written whole or not at all, so a part sent again replaces the old one atomically, in any
  order and in parallel). Completion streams the parts in order through a writer to the final
  key, which verifies the assembled bytes before S3 shows them: the bytes cross the hub once
  more, but parts may have any size and number (S3's own multipart needs 5 MiB parts).
- `open` returns a seekable file that reads by ranged GETs; `local_path` is None, so downloads
  are streamed by the hub (not `X-Accel-Redirect`ed) unless it hands out presigned URLs.
- Presigned URLs (`download_url`, `upload_url`, `part_url`) let clients reach the bucket
  directly, each for one key and a short time. A presigned PUT never targets an object's own
  key: it lands at `.incoming/<name>` (or a part key), and `adopt` (or `complete_multipart`)
  reads those bytes back and hashes them before the object appears under its sha256.
- `delete_unless` parks the object at `.gc/<sha>-<random>` (a server-side copy), deletes it,
  asks `keep`, then deletes the parked copy or puts it back. S3 has no atomic rename or
  conditional delete: a writer of the same object whose upload completes between the copy and
  the delete (one request apart) loses its copy. The copy is refused if the object was written
  since it was looked at, so only that window is left; writers that land after the delete
  keep theirs, and writers that linked the object by then are seen by `keep`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from hubstead.server.domain.upkeep import Leftover, LeftoverKind
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.objects_s3 import S3Objects, S3ObjectWriter

_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORED = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_UPLOADS = ".uploads"
_INCOMING = ".incoming"
_PARKED = ".gc"
_IN_PROGRESS = "?uploadId="
_READ_CHUNK = 8 * 1024 * 1024


def _check_digest(sha256: str) -> None:
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")


class S3BlobStore:
    """LFS objects (or, under another `area`, xorbs) as objects in an S3 bucket."""

    def __init__(self, objects: S3Objects, area: str = "blobs") -> None:
        self.objects = objects
        self._root = objects.key(area)

    def _key(self, name: str) -> str:
        return f"{self._root}/{name}"

    def relative_path(self, sha256: str) -> str:
        """The object's key under the store's root: `<sha[:2]>/<sha[2:4]>/<sha>`."""
        _check_digest(sha256)
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def key(self, sha256: str) -> str:
        """The object's full key in the bucket (stored or not)."""
        return self._key(self.relative_path(sha256))

    def local_path(self, sha256: str) -> Path | None:
        """None: no object of this store is a local file."""
        _check_digest(sha256)
        return None

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when it is not stored."""
        head = self.objects.head(self.key(sha256))
        return None if head is None else head.size

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes, as a seekable file reading by ranged GETs.

        Raises:
            BlobNotFoundError: it is not stored.
        """
        try:
            return self.objects.open(self.key(sha256))
        except BlobNotFoundError as exc:
            raise BlobNotFoundError(sha256) from exc

    def writer(self, sha256: str, size: int) -> S3ObjectWriter:
        """Start writing an object; nothing is visible until `commit` succeeds."""
        return S3ObjectWriter(self.objects, self.key(sha256), size, sha256)

    def unchecked_writer(self, name: str, size: int) -> S3ObjectWriter:
        """Start writing an object whose content the caller checks (a xorb): only its size is."""
        _check_digest(name)
        return S3ObjectWriter(self.objects, self.key(name), size, None)

    def delete(self, sha256: str) -> bool:
        """Remove an object; whether it was there."""
        key = self.key(sha256)
        if self.objects.head(key) is None:
            return False
        self.objects.client.delete_object(Bucket=self.objects.bucket, Key=key)
        return True

    def digests(self) -> Iterator[str]:
        """Every stored object's sha256 (one listing of the store's keys)."""
        start = len(self._root) + 1
        for found in self.objects.listing(self._root + "/"):
            match = _STORED.fullmatch(found["Key"][start:])
            if match and match.group(3).startswith(match.group(1) + match.group(2)):
                yield match.group(3)

    def rehash(self, sha256: str) -> str:
        """The sha256 of the stored bytes, read back from the bucket (for fsck).

        Raises:
            BlobNotFoundError: it is not stored.
        """
        digest = hashlib.sha256()
        with self.open(sha256) as file:
            while chunk := file.read(_READ_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    # --- presigned URLs: clients send and fetch bytes from the bucket itself -------------------

    def download_url(self, sha256: str, ttl: int) -> str | None:
        """A presigned GET of the object, valid `ttl` seconds (ranges work on it)."""
        return self.objects.presign("get_object", self.key(sha256), ttl)

    def upload_url(self, name: str, size: int, ttl: int) -> str | None:
        """A presigned PUT of exactly `size` bytes to the incoming object `name`, not the object.

        `name` (32 hex digits, unguessable, one per batch answer) is where the client's bytes
        land; `adopt` checks them and only then stores them under their sha256.
        """
        return self.objects.presign("put_object", self._incoming(name), ttl, ContentLength=size)

    def part_url(self, upload_id: str, number: int, size: int, ttl: int) -> str | None:
        """A presigned PUT of part `number` (exactly `size` bytes) of a multipart upload.

        The part lands where `part_writer` would write it; `complete_multipart` verifies.
        """
        key = f"{self._upload_prefix(upload_id)}{number}"
        return self.objects.presign("put_object", key, ttl, ContentLength=size)

    def _incoming(self, name: str) -> str:
        if not _UPLOAD_ID.fullmatch(name):
            raise ValueError(f"invalid incoming object name {name!r}")
        return self._key(f"{_INCOMING}/{name}")

    def adopt(self, name: str, sha256: str, size: int) -> None:
        """Store the incoming object `name` as the object `sha256`, once its bytes check.

        The bytes are read back once (a GET of that version of the object, hashed) and copied
        server-side, on condition that the incoming object is still that version: a PUT to the
        URL between the check and the copy is not stored. The incoming object is then removed.

        Raises:
            BlobNotFoundError: nothing was received at `name` (or it changed while read).
            BlobMismatchError: the bytes are not the object (the incoming object is dropped).
        """
        _check_digest(sha256)
        incoming = self._incoming(name)
        head = self.objects.head(incoming)
        if head is None:
            raise BlobNotFoundError(f"no upload was received for {sha256}")
        client, bucket = self.objects.client, self.objects.bucket
        try:
            if head.size != size:
                raise BlobMismatchError(f"expected {size} bytes, received {head.size} bytes")
            digest, length = self.objects.digest(incoming, head.etag)
            if (digest, length) != (sha256, size):
                raise BlobMismatchError(
                    f"expected {size} bytes with sha256 {sha256}, "
                    f"received {length} bytes with sha256 {digest}"
                )
            if not self.objects.copy(incoming, self.key(sha256), if_match=head.etag):
                raise BlobNotFoundError(f"the upload of {sha256} changed while it was checked")
        except BlobMismatchError:
            client.delete_object(Bucket=bucket, Key=incoming)
            raise
        client.delete_object(Bucket=bucket, Key=incoming)

    # --- multipart uploads ----------------------------------------------------------------------

    def _upload_prefix(self, upload_id: str) -> str:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"invalid upload id {upload_id!r}")
        return self._key(f"{_UPLOADS}/{upload_id}/")

    def part_writer(self, upload_id: str, number: int, offset: int, size: int) -> S3PartWriter:
        """Start writing (or replacing) part `number`, an object of its own.

        `offset` is implied by the part's number (parts are put together in order).
        """
        key = f"{self._upload_prefix(upload_id)}{number}"
        return S3PartWriter(S3ObjectWriter(self.objects, key, size, None), number, size)

    def parts(self, upload_id: str) -> dict[int, int]:
        """The parts received so far: part number to size."""
        prefix = self._upload_prefix(upload_id)
        return {
            int(name): found["Size"]
            for found in self.objects.listing(prefix)
            if (name := found["Key"][len(prefix) :]).isdigit()
        }

    def complete_multipart(self, upload_id: str, sha256: str, size: int, count: int) -> None:
        """Stream parts 1..count in order into the object, verified before it shows; drop them.

        Raises:
            BlobNotFoundError: a part is missing (the parts are kept).
            BlobMismatchError: the bytes are not the announced object (the parts are kept).
        """
        received = self.parts(upload_id)
        missing = [n for n in range(1, count + 1) if n not in received]
        if missing:
            raise BlobNotFoundError(f"parts {missing} of upload {upload_id} were not received")
        prefix = self._upload_prefix(upload_id)
        writer = self.writer(sha256, size)
        try:
            for number in range(1, count + 1):
                with self.objects.open(f"{prefix}{number}") as part:
                    while chunk := part.read(_READ_CHUNK):
                        writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        self.abort_multipart(upload_id)

    def abort_multipart(self, upload_id: str) -> None:
        """Forget an upload: its parts, and parts still being written."""
        prefix = self._upload_prefix(upload_id)
        self.objects.delete_keys([found["Key"] for found in self.objects.listing(prefix)])
        for upload in self.objects.uploads(prefix):
            self.objects.abort_upload(upload.key, upload.upload_id)

    # --- upkeep (fsck and gc) -------------------------------------------------------------------

    def stat(self, sha256: str) -> BlobStat | None:
        """The object's size and last write time, or None when it is not stored."""
        head = self.objects.head(self.key(sha256))
        return None if head is None else BlobStat(head.size, head.modified_at)

    def delete_unless(self, sha256: str, keep: Callable[[BlobStat], bool]) -> bool:
        """Park a copy, delete the object, ask `keep`, then drop the copy or put it back.

        See the module docstring for what S3 lets this guarantee.
        """
        key = self.key(sha256)
        head = self.objects.head(key)
        if head is None:  # gone already (another gc)
            return False
        parked = self._key(f"{_PARKED}/{sha256}-{secrets.token_hex(4)}")
        if not self.objects.copy(key, parked, unmodified_since=head.modified_at):
            return False  # deleted, or written again since the look: recent, so kept
        client, bucket = self.objects.client, self.objects.bucket
        deleted = False
        try:
            client.delete_object(Bucket=bucket, Key=key)
            deleted = not keep(BlobStat(head.size, head.modified_at))
        finally:
            # Kept (or `keep` failed): put it back, unless a newer copy (the same bytes) landed.
            # Should that fail, the parked copy stays (a leftover fsck lists).
            if not deleted and self.objects.head(key) is None:
                self.objects.copy(parked, key)
            client.delete_object(Bucket=bucket, Key=parked)
        return deleted

    def leftovers(self) -> Iterator[Leftover]:
        """Writes never completed, parked copies of an interrupted gc, and multipart uploads."""
        start = len(self._root) + 1
        for upload in self.objects.uploads(self._root + "/"):
            name = f"{upload.key[start:]}{_IN_PROGRESS}{upload.upload_id}"
            yield Leftover(LeftoverKind.TEMP, name, upload.size, upload.modified_at)
        for found in [
            *self.objects.listing(self._key(_PARKED + "/")),
            *self.objects.listing(self._key(_INCOMING + "/")),
        ]:
            stamp = found["LastModified"].timestamp()
            yield Leftover(LeftoverKind.TEMP, found["Key"][start:], found["Size"], stamp)
        uploads: dict[str, tuple[int, float]] = {}
        prefix = self._key(_UPLOADS + "/")
        for found in self.objects.listing(prefix):
            upload_id = found["Key"][len(prefix) :].split("/", 1)[0]
            size, newest = uploads.get(upload_id, (0, 0.0))
            stamp = found["LastModified"].timestamp()
            uploads[upload_id] = (size + found["Size"], max(newest, stamp))
        for upload_id, (size, newest) in sorted(uploads.items()):
            if _UPLOAD_ID.fullmatch(upload_id):
                yield Leftover(LeftoverKind.UPLOAD, upload_id, size, newest)

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Remove a leftover unless it was written to at or after `written_before`."""
        if leftover.kind is LeftoverKind.UPLOAD:
            prefix = self._upload_prefix(leftover.name)
            found = list(self.objects.listing(prefix))
            if not found or max(f["LastModified"].timestamp() for f in found) >= written_before:
                return False
            self.objects.delete_keys([f["Key"] for f in found])
            return True
        if _IN_PROGRESS in leftover.name:
            name, upload_id = leftover.name.split(_IN_PROGRESS, 1)
            key = self._key(name)
            for upload in self.objects.uploads(key):
                if upload.key == key and upload.upload_id == upload_id:
                    if upload.modified_at >= written_before:
                        return False
                    return self.objects.abort_upload(key, upload_id)
            return False
        if not leftover.name.startswith((_PARKED + "/", _INCOMING + "/")):
            return False
        key = self._key(leftover.name)
        head = self.objects.head(key)
        if head is None or head.modified_at >= written_before:
            return False
        self.objects.client.delete_object(Bucket=self.objects.bucket, Key=key)
        return True


class S3PartWriter:
    """One part of a multipart upload: an object written whole, whose commit returns an ETag."""

    def __init__(self, writer: S3ObjectWriter, number: int, size: int) -> None:
        self._writer = writer
        self._number = number
        self._size = size

    def write(self, chunk: bytes) -> None:
        """Append bytes of the part (BlobMismatchError past its size)."""
        self._writer.write(chunk)

    def commit(self) -> str:
        """Store the part, replacing any earlier copy; return its ETag.

        Raises:
            BlobMismatchError: the part is not exactly its size (nothing is stored).
        """
        self._writer.commit()
        return f"{self._number}-{self._size}"

    def abort(self) -> None:
        """Stop writing; the part is not stored."""
        self._writer.abort()
