"""Uploads of whole files a caller holds (the web hub's upload form): one commit for all of them.

Each file travels as `huggingface_hub`'s `create_commit` would send it, through the same
services its requests reach: `CommitService.preupload` decides, per file, regular or LFS
(`.gitattributes`, the LFS threshold, a binary sample); an LFS file is stored through
`LfsService` as the client's basic transfer stores it (batch, then the upload, verified and
linked to the repo) and committed as its pointer; a regular file goes inline. Then one commit,
through `CommitService.begin` (checked before any byte is stored) and `PendingCommit.apply`.

The files are read from seekable binary streams the caller spooled to disk, a chunk at a time,
and handed to the commit one by one: nothing here holds an LFS file in memory, nor more than one
inline file (smaller than the LFS threshold) at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.services.auth import Identity
from hubstead.server.services.commits import (
    AddFile,
    AddLfsFile,
    CommitHeader,
    CommitResult,
    CommitService,
    Operation,
    PreuploadFile,
)
from hubstead.server.services.discussions import pull_request_number
from hubstead.server.services.lfs import LfsObject, LfsService

CHUNK = 1024 * 1024
# What `huggingface_hub` sends as a file's sample for the upload-mode decision.
SAMPLE_BYTES = 512
MAX_FILES = 1000


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """A file to commit: its path in the repo, its bytes (a seekable stream) and their size."""

    path: str
    content: BinaryIO
    size: int


class UploadService:
    """Whole files to one commit, LFS or inline as the official client would send them.

    `spool` makes the anonymous temporary files the files are received into, on the hub's data
    disk (the git store's temporary area), not the system's `/tmp`: the hub's size limit, not
    the size of `/tmp`, decides what fits.
    """

    def __init__(
        self, commits: CommitService, lfs: LfsService, spool: Callable[[], BinaryIO]
    ) -> None:
        self._commits = commits
        self._lfs = lfs
        self.spool = spool

    def upload(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        files: Sequence[UploadedFile],
        header: CommitHeader,
        *,
        create_pr: bool = False,
    ) -> CommitResult:
        """Commit `files` to `revision` (a branch, a pull request's ref), or open a PR with them.

        Raises:
            InvalidRequestError: no files, too many, two with one path, a bad path, an empty
                summary; an LFS object the hub refuses (larger than it accepts:
                `PayloadTooLargeError`).
            RepoNotFoundError, RevisionNotFoundError, AuthorizationError, ...: as
                `CommitService.commit`.
        """
        if not files:
            raise errors.InvalidRequestError("Choose at least one file to upload")
        if len(files) > MAX_FILES:
            raise errors.InvalidRequestError(f"Upload at most {MAX_FILES} files in one commit")
        paths = [file.path for file in files]
        if len(set(paths)) != len(paths):
            raise errors.InvalidRequestError("Two of the files have the same path")
        pending = self._commits.begin(identity, type, repo_id, revision, create_pr=create_pr)
        plans = self._commits.preupload(
            identity,
            type,
            repo_id,
            revision,
            [PreuploadFile(file.path, file.size, _sample(file)) for file in files],
            create_pr=create_pr,
        )
        ref = None if create_pr else _lfs_ref(revision)

        def operations() -> Iterator[Operation]:
            # Lazily: the commit writes each file before the next one is read.
            for file, plan in zip(files, plans, strict=True):
                if plan.upload_mode == "lfs":
                    yield self._store_lfs(identity, type, repo_id, ref, file)
                else:
                    file.content.seek(0)
                    yield AddFile(file.path, file.content.read())

        return pending.apply(header, operations())

    def _store_lfs(
        self, identity: Identity, type: RepoType, repo_id: str, ref: str | None, file: UploadedFile
    ) -> AddLfsFile:
        """Store a file as an LFS object linked to the repo (unless it already is)."""
        if file.size > self._lfs.max_object_bytes:
            raise errors.PayloadTooLargeError(
                f"{file.path} is {file.size} bytes, more than the "
                f"{self._lfs.max_object_bytes} this hub accepts in one file"
            )
        obj = LfsObject(_sha256(file.content), file.size)
        (item,) = self._lfs.batch(identity, type, repo_id, "upload", [obj], ["basic"], ref=ref)
        if item.error is not None:
            raise errors.InvalidRequestError(f"{file.path}: {item.error[1]}")
        if item.upload is not None:
            receiver = self._lfs.begin_upload(item.upload.token, obj.size)
            try:
                file.content.seek(0)
                while chunk := file.content.read(CHUNK):
                    receiver.write(chunk)
                receiver.finish()
            except BaseException:
                receiver.abort()
                raise
        return AddLfsFile(file.path, obj.sha256, obj.size)


def _lfs_ref(revision: str) -> str:
    """The ref an LFS batch names for a commit to `revision` (as git-lfs and the client do)."""
    if pull_request_number(revision) is not None or revision.startswith("refs/"):
        return revision
    return f"refs/heads/{revision}"


def _sample(file: UploadedFile) -> bytes:
    file.content.seek(0)
    return file.content.read(SAMPLE_BYTES)


def _sha256(content: BinaryIO) -> str:
    digest = hashlib.sha256()
    content.seek(0)
    while chunk := content.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
