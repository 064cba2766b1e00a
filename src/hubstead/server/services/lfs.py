"""Git LFS: the batch API's decisions, uploads (basic and multipart), verify and downloads.

Objects are stored once, by sha256, in the blob store; the LFS index records which repos may
reference which objects. An object becomes linked to a repo only once its bytes were received
and verified for that repo: knowing a digest (and size) is never enough to reach content, not
even for a moment. The bytes are stored first and linked after, so a concurrent gc may see a
stored object that no repo links yet: it spares objects written within its grace period.

Upload and download URLs are self-authenticating (signed, short-lived), because the clients
send no `Authorization` header to them. A download URL names the object, the repo it was issued
for and the caller (a user id, or anonymous); each download checks again that the repo still
links the object and that the caller may still read the repo, so a URL does not outlive a
membership change, a repo turned private, or a deleted link.

With an object store that gives presigned URLs (the s3 blob backend, `direct_url_ttl` > 0), the
bytes go between the clients and the store: a batch upload answer's `href` is a presigned PUT
of exactly the object's size to a scratch key of that answer's own (`.incoming/<random>`), and
the verify URL names that key; `verify` reads the bytes back from the store, hashes them, and
only if they are the object copies them (server-side) under its sha256 and links it. Bytes that
are not the object, sent to the URL or to another object's, are dropped, and nothing is linked.
A multipart answer lists presigned PUTs of the part keys; the completion still comes to the
hub, which assembles and verifies the parts as it does for parts it received. Downloads (batch,
resolve, blob URLs) redirect to a presigned GET issued after the same checks; it is not checked
again when used, so it lives `direct_url_ttl` seconds (`s3_url_ttl_seconds`), no longer.

Who may upload depends on the ref the batch names: a branch (or any other ref) needs write
access; a pull request's ref, `refs/pr/<num>`, its author or a writer; no ref at all, which is
how the official client asks when it opens a pull request (`create_pr`), whoever may take part
in the repo's discussions. The objects are linked to the repo all the same: a pull request's
refs are as readable as its branches (see `services/discussions.py`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.discussions import DiscussionService, pull_request_number
from hubstead.server.services.objects import LfsObjects, XetHeld
from hubstead.server.services.repos import RepoService
from hubstead.server.services.signing import UrlSigner
from hubstead.server.storage.blobs import BlobStore, BlobWriter
from hubstead.server.storage.errors import BlobMismatchError, BlobNotFoundError
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.mutexes import Mutexes

_SHA256 = re.compile(r"[0-9a-f]{64}")
_UPLOAD = "lfs-upload"
_MULTIPART = "lfs-multipart"
_DOWNLOAD = "lfs-download"
_VERIFY = "lfs-verify"
_COMPLETION_LOCKS = 64
MAX_PARTS = 10_000


@dataclasses.dataclass(frozen=True)
class LfsObject:
    """An object named in a batch request."""

    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class UploadAction:
    """How to send an object: one PUT (`parts` 0) or `parts` PUTs of `chunk_size` bytes.

    `verify_token` signs the verify URL, which git-lfs calls without credentials. With an
    object store that takes uploads itself, `href` (one PUT) or `part_hrefs` (one per part) are
    its presigned URLs, to use instead of the hub's.
    """

    token: str
    verify_token: str
    parts: int = 0
    chunk_size: int = 0
    href: str | None = None
    part_hrefs: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class BatchItem:
    """The answer for one object: an action, nothing to do, or an error."""

    sha256: str
    size: int
    upload: UploadAction | None = None
    download_token: str | None = None
    download_url: str | None = None
    error: tuple[int, str] | None = None


@dataclasses.dataclass(frozen=True)
class UploadGrant:
    """What a signed upload URL allows: this object, for this repo."""

    repo_id: int
    sha256: str
    size: int
    upload_id: str = ""
    chunk_size: int = 0
    incoming: str = ""

    @property
    def parts(self) -> int:
        """How many parts a multipart upload has."""
        return max(1, math.ceil(self.size / self.chunk_size)) if self.chunk_size else 0


@dataclasses.dataclass(frozen=True)
class PointerDownload:
    """How a held LFS object is served: its Xet file, or its blob's signed download token.

    `url`, when the object store gives one, is a presigned URL of the blob to send clients to
    instead of the hub's own blob URL.
    """

    xet: XetHeld | None = None
    token: str = ""
    url: str | None = None


@dataclasses.dataclass(frozen=True)
class Blob:
    """An object to serve, and the commit it was resolved at (for resolve redirects).

    A blob has a `path` (when local) and a `relative_path`, where it lies under the blob
    store's root, for a front web server that serves that directory (the download offload).
    An object held as a Xet file, or in an object store (the s3 blob backend), has neither,
    but `read(start, end)`, which reconstructs or fetches its bytes `start..end` (inclusive).
    `public` is whether anyone may read it (a public, ungated repo), so shared caches may
    keep it. `url`, when set, is a short-lived presigned URL of the object store that serves
    the object: the hub redirects there instead of sending the bytes.
    """

    sha256: str
    size: int
    path: Path | None
    relative_path: str | None
    commit_id: str | None = None
    public: bool = False
    read: Callable[[int, int], Iterator[bytes]] | None = None
    url: str | None = None


class Receiver:
    """The bytes of one upload (or part) arriving: written chunk by chunk, then finished once."""

    def __init__(self, writer: BlobWriter, on_stored: Callable[[], None] | None = None) -> None:
        self._writer = writer
        self._on_stored = on_stored

    def write(self, chunk: bytes) -> None:
        """Take the next bytes.

        Raises:
            InvalidRequestError: more bytes than announced (what was received is dropped).
            LocalStorageError: the disk is full (the caller aborts the upload).
        """
        try:
            with errors.out_of_space("storing an LFS upload"):
                self._writer.write(chunk)
        except BlobMismatchError as exc:
            raise errors.InvalidRequestError(f"Upload refused: {exc}") from exc

    def finish(self) -> str:
        """Verify and keep what was received; return the digest (or a part's ETag).

        Raises:
            InvalidRequestError: the bytes are not what was announced (nothing is kept).
        """
        try:
            digest = self._writer.commit()
        except BlobMismatchError as exc:
            raise errors.InvalidRequestError(f"Upload refused: {exc}") from exc
        # Only now, the bytes verified, may the object become reachable (see the module doc).
        if self._on_stored is not None:
            self._on_stored()
        return digest

    def abort(self) -> None:
        """Drop what was received."""
        self._writer.abort()


class LfsService:
    """The LFS batch API and the transfers behind it."""

    def __init__(
        self,
        repos: RepoService,
        auth: AuthService,
        discussions: DiscussionService,
        blobs: BlobStore,
        objects: LfsObjects,
        index: LfsIndex,
        signer: UrlSigner,
        mutexes: Mutexes,
        *,
        multipart_threshold: int,
        chunk_size: int,
        url_ttl: int,
        max_object_bytes: int,
        direct_url_ttl: int = 0,
    ) -> None:
        self._repos = repos
        self._auth = auth
        self._discussions = discussions
        self._max_object_bytes = max_object_bytes
        self._blobs = blobs
        self._objects = objects
        self._index = index
        self._signer = signer
        self._multipart_threshold = multipart_threshold
        self._chunk_size = chunk_size
        self.url_ttl = url_ttl
        # Presigned URLs of the object store, when it gives them: downloads live this long (they
        # are checked once, when issued); uploads as long as the hub's own upload URLs (they
        # only reach a scratch key, whose bytes are verified before they become an object).
        self.direct_url_ttl = direct_url_ttl
        # Completions of one upload take turns, in every server process, so a duplicate that
        # waited finds the object stored and linked instead of its parts gone.
        self._mutexes = mutexes

    @property
    def max_object_bytes(self) -> int:
        """The largest object this hub accepts."""
        return self._max_object_bytes

    # --- batch --------------------------------------------------------------------------------

    def batch(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        operation: str,
        objects: Sequence[LfsObject],
        transfers: Sequence[str],
        ref: str | None = None,
    ) -> list[BatchItem]:
        """Decide, per object, what the client must do; uploads are for `ref` (see the module doc).

        Raises:
            InvalidRequestError: an operation other than upload or download.
            RevisionNotFoundError: an upload for a pull request's ref that names none.
            AuthorizationError: an upload for a branch without write access, for a pull
                request's ref by neither its author nor a writer, or for a merged or closed one
                (InvalidRequestError).
            RepoNotFoundError, GatedRepoError, AuthenticationError: see `RepoService.locate`.
        """
        if operation not in ("upload", "download"):
            raise errors.InvalidRequestError(f"Unknown LFS operation {operation!r}")
        multipart = "multipart" in transfers
        if operation == "upload":
            repo = self._uploader_repo(identity, type, repo_id, ref)
            return [self._plan_upload(repo, obj, multipart) for obj in objects]
        repo = self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        return [self._plan_download(identity, repo, obj) for obj in objects]

    def _uploader_repo(
        self, identity: Identity, type: RepoType, repo_id: str, ref: str | None
    ) -> RepoRecord:
        if ref is None:
            return self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        num = pull_request_number(ref)
        if num is not None:
            return self._discussions.check_pr_commit(identity, type, repo_id, num)
        return self._repos.locate(identity, type, repo_id, Action.WRITE)

    def _plan_upload(self, repo: RepoRecord, obj: LfsObject, multipart: bool) -> BatchItem:
        problem = self._object_problem(obj)
        if problem is not None:
            return BatchItem(obj.sha256, obj.size, error=(422, problem))
        if self._holds_object(repo.id, obj.sha256, obj.size):
            return BatchItem(obj.sha256, obj.size)
        subject: dict[str, Any] = {"r": repo.id, "o": obj.sha256, "n": obj.size}
        if multipart and obj.size >= self._multipart_threshold:
            verify = self._signer.sign(_VERIFY, subject, self.url_ttl)
            # Past MAX_PARTS parts, parts grow instead: the answer lists one URL per part.
            chunk_size = max(self._chunk_size, math.ceil(obj.size / MAX_PARTS))
            subject.update(u=_upload_id(repo.id, obj, chunk_size), c=chunk_size)
            grant = _grant(subject)
            token = self._signer.sign(_MULTIPART, subject, self.url_ttl)
            action = UploadAction(
                token,
                verify,
                parts=grant.parts,
                chunk_size=chunk_size,
                part_hrefs=self._part_urls(grant),
            )
            return BatchItem(obj.sha256, obj.size, upload=action)
        href = None
        if self.direct_url_ttl:
            # A scratch key of this answer's own: the verify URL names it, and only bytes
            # found there to be the object are stored (see `verify`).
            incoming = secrets.token_hex(16)
            href = self._blobs.upload_url(incoming, obj.size, self.url_ttl)
            if href is not None:
                subject["k"] = incoming
        verify = self._signer.sign(_VERIFY, subject, self.url_ttl)
        token = self._signer.sign(_UPLOAD, subject, self.url_ttl)
        return BatchItem(obj.sha256, obj.size, upload=UploadAction(token, verify, href=href))

    def _part_urls(self, grant: UploadGrant) -> tuple[str, ...]:
        """The object store's presigned URL of each part, or none: the parts come to the hub."""
        if not self.direct_url_ttl:
            return ()
        urls = []
        for number in range(1, grant.parts + 1):
            size = min(grant.chunk_size, grant.size - (number - 1) * grant.chunk_size)
            url = self._blobs.part_url(grant.upload_id, number, size, self.url_ttl)
            if url is None:
                return ()
            urls.append(url)
        return tuple(urls)

    def _plan_download(self, identity: Identity, repo: RepoRecord, obj: LfsObject) -> BatchItem:
        problem = self._object_problem(obj)
        if problem is not None:
            return BatchItem(obj.sha256, obj.size, error=(422, problem))
        if not self.linked(repo, obj.sha256, obj.size):
            return BatchItem(obj.sha256, obj.size, error=(404, "Object does not exist"))
        token = self._download_token(identity, repo, obj.sha256)
        url = self.direct_download_url(obj.sha256)
        return BatchItem(obj.sha256, obj.size, download_token=token, download_url=url)

    # --- uploads ------------------------------------------------------------------------------

    def begin_upload(self, token: str, length: int | None = None) -> Receiver:
        """Check a basic upload URL and start receiving its object (`length` bytes, if known).

        Once finished, the object is stored and linked to the repo the URL was made for.

        Raises:
            AuthorizationError: the URL is forged or expired.
            InvalidRequestError: `length` is not the object's size.
        """
        grant = _grant(self._signer.verify(token, _UPLOAD))
        _check_length(length, grant.size, "This object")
        writer = self._blobs.writer(grant.sha256, grant.size)
        return Receiver(writer, lambda: self._link(grant))

    def begin_part(self, token: str, number: int, length: int | None = None) -> Receiver:
        """Check a multipart URL and start receiving one part; finishing it gives its ETag.

        Raises:
            AuthorizationError: the URL is forged or expired.
            InvalidRequestError: a part number outside the upload, or `length` (when known) is
                not the part's size.
        """
        grant = _grant(self._signer.verify(token, _MULTIPART))
        if not 1 <= number <= grant.parts:
            raise errors.InvalidRequestError(
                f"Part {number} does not exist: this upload has parts 1 to {grant.parts}"
            )
        offset = (number - 1) * grant.chunk_size
        size = min(grant.chunk_size, grant.size - offset)
        _check_length(length, size, f"Part {number}")
        return Receiver(self._blobs.part_writer(grant.upload_id, number, offset, size))

    def received_parts(self, token: str) -> dict[int, int]:
        """The parts of a multipart upload received so far (for resuming)."""
        grant = _grant(self._signer.verify(token, _MULTIPART))
        return self._blobs.parts(grant.upload_id)

    def complete(self, token: str, sha256: str, part_numbers: Sequence[int]) -> None:
        """Assemble and verify a multipart upload, then link the object to the repo.

        Raises:
            AuthorizationError: the URL is forged or expired.
            InvalidRequestError: another object, a wrong list of parts, missing parts, or bytes
                that are not the announced object (the parts are then discarded).
        """
        grant = _grant(self._signer.verify(token, _MULTIPART))
        if sha256 != grant.sha256:
            raise errors.InvalidRequestError("The completion names another object than the upload")
        if sorted(part_numbers) != list(range(1, grant.parts + 1)):
            raise errors.InvalidRequestError(f"The completion must list parts 1 to {grant.parts}")
        with self._completion_lock(grant.upload_id):
            # A retried completion, or the bytes arrived another way.
            if self._holds_object(grant.repo_id, grant.sha256, grant.size):
                self._blobs.abort_multipart(grant.upload_id)
                return
            try:
                self._blobs.complete_multipart(
                    grant.upload_id, grant.sha256, grant.size, grant.parts
                )
            except BlobNotFoundError as exc:
                raise errors.InvalidRequestError(f"{exc}; send them, then complete again") from exc
            except BlobMismatchError as exc:
                self._blobs.abort_multipart(grant.upload_id)
                raise errors.InvalidRequestError(f"{exc}; upload it again") from exc
            # Linked only once verified, under the completion's lock (see the module doc).
            self._link(grant)

    def _link(self, grant: UploadGrant) -> None:
        """Link the grant's object, whose bytes were just verified, to the grant's repo."""
        self._index.link(grant.repo_id, grant.sha256, grant.size)

    def verify(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        obj: LfsObject,
        token: str | None = None,
    ) -> None:
        """Confirm an object is stored with this size for the repo.

        The caller may write to the repo, or holds the signed `token` of a batch answer's verify
        URL for this object (the token names the repo).

        Raises:
            InvalidRequestError: a malformed object.
            AuthorizationError: the token is forged, expired or for another object.
            RepoNotFoundError, AuthorizationError: see `RepoService.locate` (without a token).
            NotFoundError: the object is not stored (or not with this size, or not for the repo).
        """
        problem = self._object_problem(obj)
        if problem is not None:
            raise errors.InvalidRequestError(problem)
        if token is None:
            repo_key = self._repos.locate(identity, type, repo_id, Action.WRITE).id
        else:
            grant = _grant(self._signer.verify(token, _VERIFY))
            if (grant.sha256, grant.size) != (obj.sha256, obj.size):
                raise errors.AuthorizationError("This URL is not valid for this object")
            repo_key = grant.repo_id
            if grant.incoming:
                with self._completion_lock(grant.incoming):
                    if not self._holds_object(repo_key, obj.sha256, obj.size):
                        self._adopt(grant)
        if not self._holds_object(repo_key, obj.sha256, obj.size):
            raise errors.NotFoundError(f"Object {obj.sha256} ({obj.size} bytes) is not stored")

    def _completion_lock(self, upload: str) -> AbstractContextManager[None]:
        """The lock completions of the upload `upload` (hex) take turns on, in every process."""
        return self._mutexes.hold(f"lfs-completion-{int(upload, 16) % _COMPLETION_LOCKS}")

    def _adopt(self, grant: UploadGrant) -> None:
        """Store and link what the client sent to the object store for this grant, if it checks.

        A client that sent other bytes (or sent them to another object's URL) gets an error,
        and nothing is stored or linked.
        """
        try:
            self._blobs.adopt(grant.incoming, grant.sha256, grant.size)
        except BlobNotFoundError as exc:
            # A duplicate verify took it first (in a process on another data dir: the completion
            # lock holds among the processes of one).
            if self._holds_object(grant.repo_id, grant.sha256, grant.size):
                return
            raise errors.NotFoundError(
                f"Object {grant.sha256} ({grant.size} bytes) is not stored: {exc}"
            ) from exc
        except BlobMismatchError as exc:
            raise errors.InvalidRequestError(f"Upload refused: {exc}; upload it again") from exc
        # Only now, the bytes verified, may the object become reachable (see the module doc).
        self._link(grant)

    # --- downloads ----------------------------------------------------------------------------

    def pointer_download(
        self, identity: Identity, repo: RepoRecord, sha256: str, size: int, commit_id: str
    ) -> PointerDownload | None:
        """How to serve the object a pointer file (which the caller may read) names.

        None when the repo does not hold it: not linked to the repo (a pointer whose object was
        deleted, or never uploaded, or a mirror's not fetched yet), not of the pointer's size,
        or missing from the store (a damaged store: see fsck). A blob's download token (or
        presigned URL) is made only after that check; a resolve passes the commit it resolved,
        so the blob response can carry `X-Repo-Commit` (the official client follows same-host
        redirects and reads the metadata from the final response).
        """
        if self._index.linked_size(repo.id, sha256) != size:
            return None
        held = self._objects.held(sha256)
        if held is None or held.size != size:
            return None
        if held.xet is not None:
            return PointerDownload(xet=held.xet)
        token = self._download_token(identity, repo, sha256, commit_id)
        url = self._blobs.download_url(sha256, self.direct_url_ttl) if self.direct_url_ttl else None
        return PointerDownload(token=token, url=url)

    def _download_token(
        self, identity: Identity, repo: RepoRecord, sha256: str, commit_id: str | None = None
    ) -> str:
        """A signed URL token for an object of `repo` that `identity` was found allowed to read.

        It names the repo and the caller, so that each download checks both again.
        """
        account = identity.account
        subject: dict[str, Any] = {"o": sha256, "r": repo.id, "u": account and account.id}
        if commit_id is not None:
            subject["c"] = commit_id
        return self._signer.sign(_DOWNLOAD, subject, self.url_ttl)

    def direct_download_url(self, sha256: str) -> str | None:
        """A presigned URL of the object store holding the object as a blob, or None.

        Only for a caller just found allowed to read a repo that holds the object (so it is
        stored, as a blob or a Xet file): the URL itself is not checked again when used, so it
        lives `direct_url_ttl` seconds.
        """
        if not self.direct_url_ttl or self._objects.as_xet(sha256) is not None:
            return None
        return self._blobs.download_url(sha256, self.direct_url_ttl)

    def blob(self, sha256: str, token: str) -> Blob:
        """The object a download URL grants, if its repo still holds it for the URL's caller.

        Raises:
            AuthorizationError: the URL is forged, expired, or for another object; or its
                caller may no longer read its repo (deleted, made private or gated, membership
                removed, account deleted).
            NotFoundError: the repo no longer holds the object (unlinked, or not stored).
        """
        subject = self._signer.verify(token, _DOWNLOAD)
        repo_key, user_id = subject.get("r"), subject.get("u")
        if (
            subject.get("o") != sha256
            or not isinstance(repo_key, int)
            or not (user_id is None or isinstance(user_id, int))
        ):
            raise errors.AuthorizationError("This URL is not valid for this object")
        repo = self._repos.find(repo_key)
        reader = self._auth.reader(user_id)
        if repo is None or reader is None or not access.may(reader, repo, Action.READ_FILES):
            raise errors.AuthorizationError(
                "This URL is no longer valid: its repo is gone or may no longer be read by "
                "whom it was issued to; ask for a new one"
            )
        size = self._objects.size(sha256)
        if size is None or self._index.linked_size(repo.id, sha256) != size:
            raise errors.NotFoundError(f"Object {sha256} is not stored for {repo.repo_id}")
        commit_id = subject.get("c")
        commit = commit_id if isinstance(commit_id, str) else None
        public = not repo.private and not repo.gated
        path = self._blobs.local_path(sha256)
        if path is None:
            # Not a local file: a Xet file, or a blob in an object store, streamed by ranges.
            held = self._objects.as_xet(sha256)
            if held is not None:
                return Blob(sha256, size, None, None, commit, public, held.read)
            read = functools.partial(self._objects.read_blob, sha256)
            url = (
                self._blobs.download_url(sha256, self.direct_url_ttl)
                if self.direct_url_ttl
                else None
            )
            return Blob(sha256, size, None, None, commit, public, read, url)
        return Blob(sha256, size, path, self._blobs.relative_path(sha256), commit, public=public)

    def linked(self, repo: RepoRecord, sha256: str, size: int) -> bool:
        """Whether the repo may reference the object, stored with exactly this size."""
        return self._holds_object(repo.id, sha256, size)

    def _holds_object(self, repo_key: int, sha256: str, size: int) -> bool:
        return self._index.linked_size(repo_key, sha256) == size == self._objects.size(sha256)

    def _object_problem(self, obj: LfsObject) -> str | None:
        """Why an object named in a request is malformed or refused, or None."""
        if not _SHA256.fullmatch(obj.sha256):
            return f"Invalid object id {obj.sha256!r}: expected a lowercase sha256"
        if obj.size < 0:
            return f"Invalid size {obj.size} for {obj.sha256}"
        if obj.size > self._max_object_bytes:
            return (
                f"Object {obj.sha256} is {obj.size} bytes, more than the "
                f"{self._max_object_bytes} this hub accepts"
            )
        return None


def _check_length(length: int | None, size: int, what: str) -> None:
    # Refuse a body of the wrong announced length before reading any of it.
    if length is not None and length != size:
        raise errors.InvalidRequestError(
            f"Upload refused: {what} is {size} bytes, the request announces {length}"
        )


def _upload_id(repo_id: int, obj: LfsObject, chunk_size: int) -> str:
    """Stable per (repo, object, part size), so an interrupted upload resumes its parts."""
    key = f"{repo_id}:{obj.sha256}:{obj.size}:{chunk_size}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def _grant(subject: dict[str, Any]) -> UploadGrant:
    try:
        return UploadGrant(
            repo_id=int(subject["r"]),
            sha256=str(subject["o"]),
            size=int(subject["n"]),
            upload_id=str(subject.get("u", "")),
            chunk_size=int(subject.get("c", 0)),
            incoming=str(subject.get("k", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise errors.AuthorizationError("This URL's signature is invalid") from None
