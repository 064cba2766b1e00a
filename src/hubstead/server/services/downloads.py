"""Downloads: what `resolve` answers for a file at a revision, decided in one call.

A file is one of three things to whoever may read the repo's files:

- `RegularFile`: its bytes are a git blob (small: at most `max_regular_file_bytes`), served
  with the blob id as ETag;
- `LfsRedirect`: a git-lfs pointer whose object this hub holds for the repo: the client is sent
  to the object's signed, content-addressed URL (the grant names the repo, the caller and the
  commit, see `LfsService.pointer_download`), or to the object store's presigned URL of
  the object when the store gives one;
- `LfsStream`: a pointer of an on-demand (pull-through) mirror whose object is not stored yet:
  its bytes are fetched from upstream as they are read, and stored (`mirroring/pull_through.py`);
- `XetStream`: a pointer whose object the hub holds as a Xet file: Xet clients download it from
  the CAS by its Xet hash, the others get its bytes reconstructed as they are sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from hubstead.protocol import LFS_POINTER_MAX_SIZE, RepoType, parse_lfs_pointer
from hubstead.server import errors
from hubstead.server.domain.git import EntryKind
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.files import normalize_path
from hubstead.server.services.lfs import LfsService
from hubstead.server.services.mirroring.pull_through import PullThroughService
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.git_objects import GitObjectStore


@dataclasses.dataclass(frozen=True)
class RegularFile:
    """A file stored in git: its bytes, and its git blob id."""

    commit_id: str
    path: str
    blob_id: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class LfsRedirect:
    """An LFS file this hub holds: the signed token of its object's download URL.

    `url`, when the object store gives one, is a presigned URL to redirect to instead.
    """

    commit_id: str
    path: str
    sha256: str
    size: int
    token: str
    url: str | None = None


@dataclasses.dataclass(frozen=True)
class LfsStream:
    """An LFS file of an on-demand mirror, not stored yet: its bytes come from upstream.

    `read(start, end)` gives bytes `start` to `end` (inclusive), lazily: nothing runs until the
    first chunk is asked for, and failures before the first bytes are raised then (see
    `PullThroughService.stream`).
    """

    commit_id: str
    path: str
    sha256: str
    size: int
    read: Callable[[int, int], Iterator[bytes]]


@dataclasses.dataclass(frozen=True)
class XetStream:
    """An LFS file held as a Xet file: its Xet hash, and its bytes `start..end` (inclusive)."""

    commit_id: str
    path: str
    sha256: str
    size: int
    xet_hash: str
    read: Callable[[int, int], Iterator[bytes]]


Download = RegularFile | LfsRedirect | LfsStream | XetStream


class DownloadService:
    """Decides how each file download is served."""

    def __init__(
        self,
        repos: RepoService,
        git: GitObjectStore,
        lfs: LfsService,
        pull_through: PullThroughService,
    ) -> None:
        self._repos = repos
        self._git = git
        self._lfs = lfs
        self._pull_through = pull_through

    def prepare(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, path: str
    ) -> Download:
        """How to serve the file at `path` in a revision of the repo.

        Raises:
            EntryNotFoundError: no file at `path` in this revision (it carries the commit).
            InvalidRequestError: a malformed path.
            NotFoundError: an LFS object the repo does not hold (deleted, never uploaded, or
                left out of a mirror by its patterns).
            RepoNotFoundError, RevisionNotFoundError, GatedRepoError, ...: see
                `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ_FILES, revision)
        repo, commit_id = handle.repo, handle.commit_id
        clean = normalize_path(path)
        entry = self._git.entry(repo.storage_key, commit_id, clean) if clean else None
        if entry is None or entry.kind is not EntryKind.FILE:
            raise errors.EntryNotFoundError(
                f"Entry not found: {path!r} at revision {handle.revision}", commit_id=commit_id
            )
        data = self._git.read_blob(repo.storage_key, entry.oid)
        pointer = parse_lfs_pointer(data) if entry.size < LFS_POINTER_MAX_SIZE else None
        if pointer is None:
            return RegularFile(commit_id, clean, entry.oid, data)
        sha256, size = pointer
        served = self._lfs.pointer_download(identity, repo, sha256, size, commit_id)
        if served is None:
            if self._pull_through.pending(repo, clean, sha256, size):

                def read(start: int, end: int) -> Iterator[bytes]:
                    return self._pull_through.stream(
                        repo, commit_id, clean, sha256, size, start, end
                    )

                return LfsStream(commit_id, clean, sha256, size, read)
            raise errors.NotFoundError(
                f"LFS object {sha256} ({size} bytes) is not stored for {repo.repo_id} on this "
                "hub; an operator can check the store with `hubstead fsck`"
            )
        if served.xet is not None:
            xet = served.xet
            return XetStream(commit_id, clean, sha256, size, xet.file.hash, xet.read)
        return LfsRedirect(commit_id, clean, sha256, size, served.token, served.url)
