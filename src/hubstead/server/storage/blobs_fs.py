"""`BlobStore` on the local filesystem: `<root>/<sha[:2]>/<sha[2:4]>/<sha>`.

A write streams into `<root>/.tmp/` while hashing, is checked against the announced sha256 and
size, fsynced, then renamed into place: a reader sees a whole, verified object or nothing.
Multipart uploads are written in place under `<root>/.uploads/<upload_id>/` and moved into the
store once verified (`multipart_fs`); parts may arrive in any order, in parallel, and be sent
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from hubstead.server.domain.upkeep import Leftover, LeftoverKind
from hubstead.server.storage.blobs import BlobStat
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.multipart_fs import (
    FsPartWriter,
    assemble,
    fsync_dir,
    received_parts,
    sha256_of,
)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def _check_digest(sha256: str) -> None:
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")


class FsBlobWriter:
    """Bytes being written to `target`: fed in chunks, verified and renamed into place."""

    def __init__(self, temp_dir: Path, target: Path, size: int, sha256: str | None) -> None:
        self._target = target
        self._size = size
        self._sha256 = sha256
        self._written = 0
        self._hash = hashlib.sha256()
        # Created as any file is (0644 less the umask), not 0600 as `tempfile` would: a front
        # web server running as another user may send the stored objects (download offload).
        self._path = temp_dir / f"blob-{secrets.token_hex(8)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        self._file = os.fdopen(os.open(self._path, flags, 0o644), "wb")

    def write(self, chunk: bytes) -> None:
        """Append bytes, refusing more than the announced size.

        Raises:
            BlobMismatchError: more bytes than announced.
        """
        self._written += len(chunk)
        if self._written > self._size:
            self.abort()
            raise BlobMismatchError(f"received more than the announced {self._size} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self) -> str:
        """Verify size (and digest, when announced), fsync, move into place; return the sha256.

        Raises:
            BlobMismatchError: the bytes are not what was announced; nothing is stored.
        """
        digest = self._hash.hexdigest()
        if self._written != self._size or digest != (self._sha256 or digest):
            self.abort()
            expected = f" with sha256 {self._sha256}" if self._sha256 else ""
            raise BlobMismatchError(
                f"expected {self._size} bytes{expected}, "
                f"received {self._written} bytes with sha256 {digest}"
            )
        self._file.flush()
        # Stored now: gc's grace period counts from here, so gc spares the object until the
        # caller has linked it.
        os.utime(self._file.fileno())
        os.fsync(self._file.fileno())
        self._file.close()
        self._target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, self._target)
        fsync_dir(self._target.parent)
        return digest

    def abort(self) -> None:
        """Drop what was written."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


class FsBlobStore:
    """LFS objects as files under one root, fanned out by the first bytes of their sha256."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.temp_dir = root / ".tmp"
        self._uploads = root / ".uploads"
        for folder in (root, self.temp_dir, self._uploads):
            folder.mkdir(parents=True, exist_ok=True)

    def relative_path(self, sha256: str) -> str:
        """The object's path under the root: `<sha[:2]>/<sha[2:4]>/<sha>`."""
        _check_digest(sha256)
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        """Where the object with this digest lives (whether or not it is stored)."""
        return self._root / self.relative_path(sha256)

    def local_path(self, sha256: str) -> Path | None:
        """The object's file, or None when it is not stored."""
        path = self.path(sha256)
        return path if path.is_file() else None

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when it is not stored."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes.

        Raises:
            BlobNotFoundError: it is not stored.
        """
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFoundError(sha256) from exc

    def writer(self, sha256: str, size: int) -> FsBlobWriter:
        """Start writing an object; nothing is visible until `commit` succeeds."""
        return FsBlobWriter(self.temp_dir, self.path(sha256), size, sha256)

    def write(self, sha256: str, size: int, chunks: Iterable[bytes]) -> None:
        """Store an object from an iterable of chunks.

        Raises:
            BlobMismatchError: the bytes are not the announced object.
        """
        writer = self.writer(sha256, size)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()

    def delete(self, sha256: str) -> bool:
        """Remove an object; whether it was there."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[str]:
        """The digest of every stored object."""
        for path in self._root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _SHA256.fullmatch(path.name):
                yield path.name

    def rehash(self, sha256: str) -> str:
        """The sha256 of the stored bytes, computed again (for fsck).

        Raises:
            BlobNotFoundError: it is not stored.
        """
        with self.open(sha256) as file:
            return sha256_of(file.fileno())

    # --- multipart uploads ----------------------------------------------------------------------

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"invalid upload id {upload_id!r}")
        return self._uploads / upload_id

    def part_writer(self, upload_id: str, number: int, offset: int, size: int) -> FsPartWriter:
        """Start writing (or replacing) part `number`: `size` bytes at `offset` in the object."""
        return FsPartWriter(self._upload_dir(upload_id), number, offset, size)

    def parts(self, upload_id: str) -> dict[int, int]:
        """The parts received so far: part number to size."""
        return received_parts(self._upload_dir(upload_id))

    def complete_multipart(self, upload_id: str, sha256: str, size: int, count: int) -> None:
        """Verify that parts 1..count make the object, move it into place, drop the upload.

        Raises:
            BlobNotFoundError: a part is missing (the parts are kept).
            BlobMismatchError: the bytes are not the announced object.
        """
        assemble(self._upload_dir(upload_id), sha256, size, count, self.path(sha256))
        self.abort_multipart(upload_id)

    def abort_multipart(self, upload_id: str) -> None:
        """Forget an upload and its parts."""
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    # --- upkeep (fsck and gc) -------------------------------------------------------------------

    # --- direct transfers: none, the hub sends and receives the bytes ------------------------

    def download_url(self, sha256: str, ttl: int) -> str | None:
        """None: the hub serves local files itself (or through the nginx offload)."""
        return None

    def upload_url(self, name: str, size: int, ttl: int) -> str | None:
        """None: uploads come to the hub."""
        return None

    def part_url(self, upload_id: str, number: int, size: int, ttl: int) -> str | None:
        """None: parts come to the hub."""
        return None

    def adopt(self, name: str, sha256: str, size: int) -> None:
        """Nothing is ever received elsewhere (`upload_url` gives none)."""
        raise BlobNotFoundError(f"no upload was received for {sha256}")

    def stat(self, sha256: str) -> BlobStat | None:
        """The object's size and mtime, or None when it is not stored."""
        try:
            found = self.path(sha256).stat()
        except FileNotFoundError:
            return None
        return BlobStat(found.st_size, found.st_mtime)

    def delete_unless(self, sha256: str, keep: Callable[[BlobStat], bool]) -> bool:
        """Move the file into `.tmp/`, ask `keep`, then delete it or put it back.

        Asking after the move closes the race with a concurrent upload of the same object: it
        either renames a new file into place after the move (left alone, and readers never see
        a gap), or finished before it and is then seen by `keep` (linked, or recently written).
        """
        path = self.path(sha256)
        parked = self.temp_dir / f"gc-{sha256}-{secrets.token_hex(4)}"
        try:
            os.rename(path, parked)
            found = parked.stat()
        except FileNotFoundError:  # gone already (another gc)
            return False
        if keep(BlobStat(found.st_size, found.st_mtime)):
            # A newer copy already in place is the same bytes: keep that one.
            with contextlib.suppress(FileExistsError, FileNotFoundError):
                os.link(parked, path)
            parked.unlink(missing_ok=True)
            return False
        parked.unlink(missing_ok=True)
        return True

    def leftovers(self) -> Iterator[Leftover]:
        """Files in `.tmp/` and upload folders in `.uploads/`, with their newest write time."""
        for path in sorted(self.temp_dir.iterdir()):
            with contextlib.suppress(FileNotFoundError):
                found = path.stat()
                yield Leftover(LeftoverKind.TEMP, path.name, found.st_size, found.st_mtime)
        for folder in sorted(self._uploads.iterdir()):
            if _UPLOAD_ID.fullmatch(folder.name):
                with contextlib.suppress(FileNotFoundError):
                    size, newest = _folder_usage(folder)
                    yield Leftover(LeftoverKind.UPLOAD, folder.name, size, newest)

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Delete a temporary file or an upload folder not written to since `written_before`."""
        try:
            if leftover.kind is LeftoverKind.UPLOAD:
                folder = self._upload_dir(leftover.name)
                if _folder_usage(folder)[1] >= written_before:
                    return False
                shutil.rmtree(folder)
                return True
            path = self.temp_dir / Path(leftover.name).name
            if path.stat().st_mtime >= written_before:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _folder_usage(folder: Path) -> tuple[int, float]:
    """The disk space of a folder's files, and the newest mtime among the folder and its files.

    Space is counted in allocated blocks: an upload's data file is sparse until every part came.
    """
    stats = [folder.stat()] + [p.stat() for p in folder.iterdir()]
    used = sum(min(s.st_size, s.st_blocks * 512) for s in stats[1:])
    return used, max(s.st_mtime for s in stats)
