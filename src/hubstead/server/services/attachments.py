"""`AttachmentService`: image, video and audio files uploaded for discussions, and serving them.

This is a public file host on the hub's own origin, so it takes only what `huggingface_hub`'s
`upload_attachment` sends (its `_ATTACHMENT_CONTENT_TYPES`), from a signed-in caller with a
write token, and only bytes that start as the declared type does (a PNG says PNG): an HTML or
SVG page, or a page sent as `image/png`, is refused. Sizes are capped as the client documents
(10 MiB for images and audio, 50 MiB for video) while the bytes arrive. The bytes are stored in
a blob store of their own (not the LFS one: gc there knows nothing of attachments) under their
sha256, and a row records the type, size and uploader; only a recorded object is ever served,
so knowing an LFS object's sha256 gives nothing here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from hubstead.server import errors
from hubstead.server.domain.attachments import Attachment
from hubstead.server.services import access
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.objects import read_range
from hubstead.server.storage.attachments import AttachmentStore
from hubstead.server.storage.blobs import BlobStore

_MIB = 1024 * 1024
_SMALL, _VIDEO = 10 * _MIB, 50 * _MIB
# Enough of a file's start to tell every accepted type (RIFF's form type is at 8..12).
_HEAD_BYTES = 16
_COPY = _MIB


def _is_mp3(head: bytes) -> bool:
    # An ID3v2 tag, or straight into an MPEG audio frame (11 sync bits set).
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0)


def _is_iso_media(head: bytes) -> bool:
    # An ISO base media file (MP4) starts with its `ftyp` box.
    return head[4:8] == b"ftyp"


def _is_quicktime(head: bytes) -> bool:
    # Newer QuickTime files have an `ftyp` box too; older ones start with one of these atoms.
    return _is_iso_media(head) or head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip")


@dataclasses.dataclass(frozen=True)
class MediaType:
    """A type the hub takes as an attachment: its URL extension, size cap and signature test."""

    extension: str
    max_bytes: int
    matches: Callable[[bytes], bool]


MEDIA_TYPES: dict[str, MediaType] = {
    "image/png": MediaType("png", _SMALL, lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": MediaType("jpg", _SMALL, lambda h: h.startswith(b"\xff\xd8\xff")),
    "image/gif": MediaType("gif", _SMALL, lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    "image/webp": MediaType("webp", _SMALL, lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    "video/mp4": MediaType("mp4", _VIDEO, _is_iso_media),
    "video/quicktime": MediaType("mov", _VIDEO, _is_quicktime),
    "video/webm": MediaType("webm", _VIDEO, lambda h: h.startswith(b"\x1a\x45\xdf\xa3")),
    "audio/mpeg": MediaType("mp3", _SMALL, _is_mp3),
    "audio/wav": MediaType("wav", _SMALL, lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
}


@dataclasses.dataclass(frozen=True)
class AttachmentFile:
    """An attachment to serve: its record, and its local file or a reader of its bytes.

    `read(start, end)` gives bytes `start..end` (inclusive) when the store is not local (S3).
    """

    attachment: Attachment
    path: Path | None
    read: Callable[[int, int], Iterator[bytes]]


class AttachmentReceiver:
    """The bytes of one attachment arriving: spooled to disk while hashed and capped."""

    def __init__(
        self, service: AttachmentService, identity: Identity, content_type: str, spool: BinaryIO
    ) -> None:
        self._service = service
        self._identity = identity
        self._content_type = content_type
        self._media = MEDIA_TYPES[content_type]
        self._spool = spool
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""

    def write(self, chunk: bytes) -> None:
        """Append bytes.

        Raises:
            PayloadTooLargeError: past the type's cap (nothing is kept).
        """
        self._size += len(chunk)
        if self._size > self._media.max_bytes:
            self.abort()
            raise _too_large(self._content_type, self._media)
        if len(self._head) < _HEAD_BYTES:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._spool.write(chunk)

    def finish(self) -> Attachment:
        """Check the bytes are the declared type, store them, record the attachment.

        Raises:
            InvalidRequestError: no bytes.
            UnsupportedMediaTypeError: the bytes do not start as the declared type's do.
        """
        try:
            if self._size == 0:
                raise errors.InvalidRequestError("An attachment cannot be empty")
            if not self._media.matches(self._head):
                raise errors.UnsupportedMediaTypeError(
                    f"The file is not a {self._content_type} file (its first bytes are not "
                    "those of that format); attachments are images, videos and audio only"
                )
            self._spool.seek(0)
            return self._service.store(
                self._identity, self._content_type, self._hash.hexdigest(), self._size, self._spool
            )
        finally:
            self._spool.close()

    def abort(self) -> None:
        """Drop what was received."""
        self._spool.close()


def _too_large(content_type: str, media: MediaType) -> errors.PayloadTooLargeError:
    return errors.PayloadTooLargeError(
        f"An attachment of type {content_type} may be at most {media.max_bytes // _MIB} MiB"
    )


class AttachmentService:
    """Takes attachments from signed-in users and finds them again by their sha256."""

    def __init__(
        self,
        store: AttachmentStore,
        files: BlobStore,
        spool: Callable[[], BinaryIO],
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._files = files
        self._spool = spool
        self._clock = clock

    def begin(
        self, identity: Identity, content_type: str, length: int | None
    ) -> AttachmentReceiver:
        """Start receiving an attachment of `content_type`, `length` bytes when announced.

        Raises:
            AuthenticationError: no token.
            AuthorizationError: a read token.
            UnsupportedMediaTypeError: a type that is not an image, video or audio type taken.
            PayloadTooLargeError: an announced length over the type's cap.
        """
        access.check_write_token(identity, "upload attachments")
        media = MEDIA_TYPES.get(content_type)
        if media is None:
            raise errors.UnsupportedMediaTypeError(
                f"Attachments of type {content_type[:80]!r} are not accepted; send one of "
                f"{', '.join(MEDIA_TYPES)}"
            )
        if length is not None and length > media.max_bytes:
            raise _too_large(content_type, media)
        return AttachmentReceiver(self, identity, content_type, self._spool())

    def store(
        self, identity: Identity, content_type: str, sha256: str, size: int, content: BinaryIO
    ) -> Attachment:
        """Write checked bytes into the attachment store (unless there) and record them."""
        if self._files.size(sha256) != size:
            writer = self._files.writer(sha256, size)
            with errors.out_of_space("storing the attachment"):
                try:
                    while chunk := content.read(_COPY):
                        writer.write(chunk)
                    writer.commit()
                except BaseException:
                    writer.abort()
                    raise
        record = Attachment(sha256, content_type, size, identity.account_id, self._clock())
        return self._store.add(record)

    def find(self, sha256: str, extension: str) -> AttachmentFile:
        """The attachment named `<sha256>.<extension>` in its URL.

        Raises:
            NotFoundError: no attachment has these bytes (whatever else the hub stores), or
                the extension is not its type's.
        """
        attachment = self._store.get(sha256) if _is_digest(sha256) else None
        if attachment is None or MEDIA_TYPES[attachment.content_type].extension != extension:
            raise errors.NotFoundError(f"No attachment {sha256[:64]}.{extension[:8]}")
        read = functools.partial(read_range, self._files, attachment.sha256)
        return AttachmentFile(attachment, self._files.local_path(attachment.sha256), read)


def extension(attachment: Attachment) -> str:
    """The extension of the attachment's URL (`png` for `image/png`)."""
    return MEDIA_TYPES[attachment.content_type].extension


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
