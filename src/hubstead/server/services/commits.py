"""Commits: upload-mode negotiation (preupload) and applying a commit's operations to a ref.

A commit follows the storage order: blobs first, then the commit object, then a compare-and-swap
of the ref. When another commit wins the race and the caller named no parent, the same
operations are replayed on the new head (both land, in some order); when the caller named a
parent, the loser gets `StaleParentError`. Nothing is visible before the swap succeeds.

Where a commit may go, and who may send it:

- a branch (or a conversion ref, `refs/convert/…`): writers of the repo;
- a pull request's ref, `refs/pr/<num>`: its author and writers, while it is open or a draft
  (`DiscussionService.check_pr_commit`, checked again under the publish lock);
- `create_pr`: whoever may open a pull request (`Action.DISCUSS`): the commit is written on the
  branch's head (or on `parent_commit`, which the pull request then starts from), and the pull
  request opens with its ref at the commit. A commit refused on the way opens nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

import pathspec

from hubstead.protocol import (
    DEFAULT_BRANCH,
    SPECIAL_REF,
    STALE_PARENT_MESSAGE,
    RepoType,
    format_lfs_pointer,
    parse_lfs_pointer,
)
from hubstead.server import errors
from hubstead.server.domain.git import Author, EntryKind, RefUpdate, TreeEdit
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.discussions import (
    DiscussionService,
    pull_request_number,
)
from hubstead.server.services.files import describe, normalize_new_path
from hubstead.server.services.heads import HeadService
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.repos import RepoHandle, RepoService, author_of
from hubstead.server.storage.errors import PathConflictError, PathNotFoundError, RefConflictError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex

_SHA256 = re.compile(r"[0-9a-f]{64}")
_PARENT = re.compile(r"[0-9a-f]{5,40}")
_MAX_ATTEMPTS = 20
_BRANCHES = "refs/heads/"
# Content of inline files held before it is written to git (see `CommitService._edits`).
_BATCH_BYTES = 32 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class AddFile:
    """Create or overwrite a regular file with `content`."""

    path: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class AddLfsFile:
    """Point `path` at a stored LFS object; `size` may be omitted (copies)."""

    path: str
    sha256: str
    size: int | None


@dataclasses.dataclass(frozen=True)
class DeleteFile:
    """Delete a file (or, leniently, a folder)."""

    path: str


@dataclasses.dataclass(frozen=True)
class DeleteFolder:
    """Delete everything under a folder."""

    path: str


Operation = AddFile | AddLfsFile | DeleteFile | DeleteFolder


@dataclasses.dataclass(frozen=True)
class CommitHeader:
    """The commit's message and the parent the caller based it on."""

    summary: str
    description: str = ""
    parent_commit: str | None = None


@dataclasses.dataclass(frozen=True)
class PreuploadFile:
    """A file the client is about to upload: its size and first bytes."""

    path: str
    size: int
    sample: bytes


@dataclasses.dataclass(frozen=True)
class UploadPlan:
    """How one file must travel: inline (`regular`) or through LFS, or not at all."""

    path: str
    upload_mode: str
    should_ignore: bool
    oid: str | None


@dataclasses.dataclass(frozen=True)
class CommitResult:
    """A commit that landed, and the pull request it opened or went to (None: a branch)."""

    commit_id: str
    pull_request: int | None = None


@dataclasses.dataclass(frozen=True)
class _Target:
    """Where a commit goes: the ref it moves, or the branch its new pull request targets.

    `pull_request` is the number of the pull request whose ref `ref` is, if any.
    """

    repo: RepoRecord
    ref: str
    pull_request: int | None
    create_pr: bool


@dataclasses.dataclass(frozen=True)
class PendingCommit:
    """A commit `CommitService.begin` found able to land, waiting for its operations."""

    _service: CommitService
    _identity: Identity
    _type: RepoType
    _repo_id: str
    _revision: str
    _create_pr: bool

    def apply(self, header: CommitHeader, operations: Iterable[Operation]) -> CommitResult:
        """Land the commit (checking everything again); its id, and its pull request.

        Raises:
            StaleParentError, InvalidRequestError, ...: see `CommitService.commit`.
        """
        return self._service.commit(
            self._identity,
            self._type,
            self._repo_id,
            self._revision,
            header,
            operations,
            create_pr=self._create_pr,
        )


class CommitService:
    """Preupload and commit."""

    def __init__(
        self,
        repos: RepoService,
        heads: HeadService,
        discussions: DiscussionService,
        git: GitObjectStore,
        objects: LfsObjects,
        lfs_index: LfsIndex,
        *,
        lfs_threshold: int,
        max_regular_file_bytes: int,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._discussions = discussions
        self._git = git
        self._objects = objects
        self._lfs_index = lfs_index
        self._lfs_threshold = lfs_threshold
        self._max_regular = max_regular_file_bytes

    def preupload(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        files: Sequence[PreuploadFile],
        *,
        git_ignore: str | None = None,
        create_pr: bool = False,
    ) -> list[UploadPlan]:
        """Decide, for each file, regular or LFS upload, and whether `.gitignore` drops it.

        LFS when `.gitattributes` at the revision says `filter=lfs`, when the file is at least the
        LFS threshold, or when its sample looks binary; regular otherwise (always for empty files).

        Raises:
            InvalidRequestError: a malformed path.
            RepoNotFoundError, RevisionNotFoundError, AuthorizationError: as for a commit.
        """
        repo, _ = self._locate(identity, type, repo_id, revision, create_pr)
        handle = RepoHandle(repo, revision, self._repos.resolve(repo, revision))
        key = handle.repo.storage_key
        ignore = self._ignore_spec(handle, git_ignore)
        plans = []
        for file in files:
            path = normalize_new_path(file.path)
            lfs = file.size > 0 and (
                file.size >= self._lfs_threshold
                or b"\0" in file.sample
                or self._git.attribute(key, handle.commit_id, path, "filter") == "lfs"
            )
            plans.append(
                UploadPlan(
                    path=file.path,
                    upload_mode="lfs" if lfs else "regular",
                    should_ignore=bool(path) and ignore is not None and ignore.match_file(path),
                    oid=self._current_oid(handle, path, lfs),
                )
            )
        return plans

    def _ignore_spec(
        self, handle: RepoHandle, git_ignore: str | None
    ) -> pathspec.GitIgnoreSpec | None:
        if git_ignore is None:
            entry = self._git.entry(handle.repo.storage_key, handle.commit_id, ".gitignore")
            if entry is None or entry.kind is not EntryKind.FILE:
                return None
            git_ignore = self._git.read_blob(handle.repo.storage_key, entry.oid).decode(
                "utf-8", errors="replace"
            )
        return pathspec.GitIgnoreSpec.from_lines(git_ignore.splitlines())

    def _current_oid(self, handle: RepoHandle, path: str, lfs: bool) -> str | None:
        entry = self._git.entry(handle.repo.storage_key, handle.commit_id, path) if path else None
        if entry is None or entry.kind is not EntryKind.FILE:
            return None
        (info,) = describe(self._git, handle.repo.storage_key, [entry])
        if lfs:
            return info.lfs.sha256 if info.lfs else None
        return None if info.lfs else info.oid

    def begin(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        *,
        create_pr: bool = False,
    ) -> PendingCommit:
        """A commit to `revision`, checked before its body is read: it could land.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, AuthorizationError: as `commit` does.
        """
        self._target(identity, type, repo_id, revision, create_pr)
        return PendingCommit(self, identity, type, repo_id, revision, create_pr)

    def _locate(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, create_pr: bool
    ) -> tuple[RepoRecord, int | None]:
        """The repo, if the caller may commit there; the pull request `revision` names."""
        if create_pr:
            return self._discussions.locate_for_new_thread(identity, type, repo_id), None
        num = pull_request_number(revision)
        if num is not None:
            return self._discussions.check_pr_commit(identity, type, repo_id, num), num
        return self._repos.locate(identity, type, repo_id, Action.WRITE), None

    def _target(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, create_pr: bool
    ) -> _Target:
        repo, num = self._locate(identity, type, repo_id, revision, create_pr)
        ref = revision if num is not None else _branch_ref(revision)
        if create_pr and not ref.startswith(_BRANCHES):
            raise _not_a_branch(revision, repo.repo_id)
        if self._git.resolve(repo.storage_key, ref) is None:
            raise _not_a_branch(revision, repo.repo_id)
        return _Target(repo, ref, num, create_pr)

    def commit(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        header: CommitHeader,
        operations: Iterable[Operation],
        *,
        create_pr: bool = False,
    ) -> CommitResult:
        """Apply `operations` in order on top of `revision` and return the new commit.

        `revision` is a branch, a conversion ref or a pull request's ref; with `create_pr`, the
        branch a new pull request holding the commit targets (see the module doc).
        `operations` may be a lazy iterator: file contents are written to git as they arrive.

        Raises:
            InvalidRequestError: an empty summary, a bad path or digest, a file too large to go
                inline, a file where a folder is; a merged or closed pull request.
            EntryNotFoundError: deleting a path that does not exist.
            StaleParentError: the branch is no longer at `header.parent_commit`.
            LocalStorageError: the disk is full (the branch has not moved).
            RevisionNotFoundError: no such branch or pull request, a `parent_commit` to open a
                pull request from that the repo does not have.
            AuthorizationError: see `RepoService.locate`; for a pull request's ref, neither its
                author nor a writer; for `create_pr`, discussions are disabled.
            RepoNotFoundError, AuthenticationError, ...: see `RepoService.locate`.
        """
        target = self._target(identity, type, repo_id, revision, create_pr)
        repo, ref = target.repo, target.ref
        if not header.summary.strip():
            raise errors.InvalidRequestError("The commit summary must not be empty")
        parent = header.parent_commit.lower() if header.parent_commit is not None else None
        if parent is not None and not _PARENT.fullmatch(parent):
            raise errors.InvalidRequestError(f"Invalid parentCommit {header.parent_commit!r}")
        with errors.out_of_space(f"writing the files of a commit to {repo.repo_id}"):
            edits = self._edits(repo, operations)
        message = header.summary.strip()
        if header.description.strip():
            message += "\n\n" + header.description.strip()
        if target.create_pr:
            return self._open_pull_request(identity, target, parent, header, edits, message)
        author = author_of(identity)
        num = target.pull_request
        for attempt in range(_MAX_ATTEMPTS):
            # The first attempt writes its commit outside the lock; once it lost a race, the
            # next reads the head and writes under the publish lock, which every ref writer
            # holds, so a commit to a busy branch lands then instead of losing again and again
            # (many clients, several server processes).
            if attempt == 0:
                head = self._branch_head(repo, ref, revision, parent)
                commit_id = self._write(repo, head, edits, author, message)
                with self._heads.publish_lock(repo):
                    landed = self._land(identity, repo, ref, head, commit_id, num, parent)
            else:
                with self._heads.publish_lock(repo):
                    head = self._branch_head(repo, ref, revision, parent)
                    commit_id = self._write(repo, head, edits, author, message)
                    landed = self._land(identity, repo, ref, head, commit_id, num, parent)
            if landed:
                return CommitResult(commit_id, num)
        raise errors.ConflictError(f"Too many concurrent commits to {revision!r}; please retry")

    def _branch_head(self, repo: RepoRecord, ref: str, revision: str, parent: str | None) -> str:
        head = self._git.resolve(repo.storage_key, ref)
        if head is None:
            # Deleted while this commit was being prepared: never recreate it from nothing.
            raise _not_a_branch(revision, repo.repo_id)
        if parent is not None and not head.startswith(parent):
            raise errors.StaleParentError(STALE_PARENT_MESSAGE)
        return head

    def _land(
        self,
        identity: Identity,
        repo: RepoRecord,
        ref: str,
        head: str,
        commit_id: str,
        num: int | None,
        parent: str | None,
    ) -> bool:
        """Move `ref` from `head` to `commit_id` and record it, under the publish lock.

        The ref move and the repo row update happen under one lock, so the row of the last
        commit to land is written last and never overwritten by an older one; a merge marks its
        pull request merged under it too. False when the ref moved meanwhile.
        """
        if num is not None:
            self._discussions.check_accepts_commits(repo, num)
        try:
            with errors.out_of_space(f"moving {ref} of {repo.repo_id}"):
                self._git.update_ref(repo.storage_key, ref, commit_id, head)
        except RefConflictError as exc:
            if parent is not None:
                raise errors.StaleParentError(STALE_PARENT_MESSAGE) from exc
            return False
        if num is not None:
            self._discussions.record_commits(identity, repo, num, [commit_id])
        update = RefUpdate(ref, head, commit_id)
        self._heads.record_push(repo, [update], identity.account_id)
        return True

    def _open_pull_request(
        self,
        identity: Identity,
        target: _Target,
        parent: str | None,
        header: CommitHeader,
        edits: list[TreeEdit],
        message: str,
    ) -> CommitResult:
        """Write the commit on the branch's head (or `parent`) and open a pull request with it."""
        repo = target.repo
        if parent is not None:
            base: str | None = self._repos.resolve(repo, parent)
        else:
            base = self._git.resolve(repo.storage_key, target.ref)
        if base is None:
            raise _not_a_branch(target.ref, repo.repo_id)  # deleted meanwhile
        commit_id = self._write(repo, base, edits, author_of(identity), message)
        discussion = self._discussions.open_with_commit(
            identity,
            repo,
            target.ref.removeprefix(_BRANCHES),
            commit_id,
            header.summary,
            header.description.strip(),
        )
        return CommitResult(commit_id, discussion.num)

    def _write(
        self, repo: RepoRecord, head: str, edits: list[TreeEdit], author: Author, message: str
    ) -> str:
        """The commit object of `edits` on `head` (no ref moves)."""
        try:
            with errors.out_of_space(f"writing a commit to {repo.repo_id}"):
                return self._git.write_commit(repo.storage_key, head, edits, author, message)
        except PathNotFoundError as exc:
            raise errors.EntryNotFoundError(
                f"A file with this name doesn't exist: {exc.path!r}"
            ) from exc
        except PathConflictError as exc:
            raise errors.InvalidRequestError(
                f"Cannot add {exc.path!r}: a file and a folder would share a path"
            ) from exc

    def _edits(self, repo: RepoRecord, operations: Iterable[Operation]) -> list[TreeEdit]:
        """The tree edits of `operations`, their blobs written to git in batches.

        One batch per `_BATCH_BYTES` of content: many small files go into git together (one
        pack rather than a file each), while the content held in memory stays bounded.
        """
        edits: list[TreeEdit] = []
        pending: list[tuple[int, bytes]] = []  # (position in edits, content)

        def flush() -> None:
            ids = self._git.write_blobs(repo.storage_key, [content for _, content in pending])
            for (position, _), blob_id in zip(pending, ids, strict=True):
                edits[position] = TreeEdit(edits[position].path, blob_id)
            pending.clear()

        pending_bytes = 0
        for op in operations:
            path, content = self._edit(repo, op)
            if content is not None:
                pending.append((len(edits), content))
                pending_bytes += len(content)
            edits.append(TreeEdit(path, None))
            if pending_bytes >= _BATCH_BYTES:
                flush()
                pending_bytes = 0
        flush()
        return edits

    def _edit(self, repo: RepoRecord, op: Operation) -> tuple[str, bytes | None]:
        """The path `op` changes and the blob content it puts there (None: a deletion)."""
        path = normalize_new_path(op.path)
        if not path:
            raise errors.InvalidRequestError("An operation has an empty path")
        if isinstance(op, DeleteFile | DeleteFolder):
            return path, None
        if op.path.endswith("/"):
            raise errors.InvalidRequestError(f"Invalid path {op.path!r}: it names a folder")
        if isinstance(op, AddFile):
            if len(op.content) > self._max_regular:
                raise errors.InvalidRequestError(
                    f"{path!r} is {len(op.content)} bytes, more than the "
                    f"{self._max_regular} allowed inline: upload it through LFS"
                )
            # Content that is an LFS pointer makes the path an LFS file (as for a git push):
            # refuse it unless the object is stored, or the path would resolve to nothing.
            pointer = parse_lfs_pointer(op.content)
            if pointer is not None:
                self._stored_size(repo, path, *pointer)
            return path, op.content
        if not _SHA256.fullmatch(op.sha256):
            raise errors.InvalidRequestError(f"Invalid LFS oid {op.sha256!r} for {path!r}")
        size = self._stored_size(repo, path, op.sha256, op.size)
        return path, format_lfs_pointer(op.sha256, size)

    def _stored_size(self, repo: RepoRecord, path: str, sha256: str, size: int | None) -> int:
        # Only objects uploaded (or verified) for this repo count: a digest alone grants nothing.
        stored = self._lfs_index.linked_size(repo.id, sha256)
        if stored is None or self._objects.size(sha256) != stored:
            raise errors.InvalidRequestError(
                f"LFS object {sha256} for {path!r} has not been uploaded to {repo.repo_id}"
            )
        if size is not None and size != stored:
            raise errors.InvalidRequestError(
                f"LFS object {sha256} for {path!r} is {stored} bytes, not {size}"
            )
        return stored


def _branch_ref(revision: str) -> str:
    if SPECIAL_REF.match(revision):
        return revision
    return f"{_BRANCHES}{revision.removeprefix(_BRANCHES) or DEFAULT_BRANCH}"


def _not_a_branch(revision: str, repo_id: str) -> errors.RevisionNotFoundError:
    return errors.RevisionNotFoundError(
        f"Invalid rev id: {revision!r} is not a branch of {repo_id}"
    )
