"""A repo's LFS objects as its maintainers manage them: list, delete for good, copy to another repo.

The list is the LFS index's rows for the repo (objects uploaded for it), each with one path that
names it: at the tip of a ref when one does, else somewhere in history, else none (uploaded but
never committed).

Deletion removes the repo's links to the objects, then their bytes when no other repo links
them. By default (the client's `rewrite_history=True`) the history of every ref (branches,
tags, `refs/pr/*`, `refs/convert/*`) is rewritten first, so that no commit names the objects:
their pointer files vanish from every commit, which keep their metadata but get new ids from
the first affected one on; the refs move under the publish lock, and the move is recorded as
a push is (`repo.content.update` with the old and new ids). A commit racing the rewrite lands
before it and is rewritten too, or after it on the new tips (the commit API retries), or fails
with a conflict (a push or a `parent_commit` from before): none is lost. The old commits are
gone from every ref, so their ids no longer resolve (404), until gc prunes them for good.

Without the rewrite, commits keep their ids and old revisions keep pointer files whose
downloads then fail. So that no current file breaks, objects still named at the tip of any ref
are then refused: delete or replace those files with a commit (or delete the tag) first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Sequence

from hubstead.protocol import RepoType, parse_lfs_pointer
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import pointers
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.heads import HeadService
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.blobs import BlobStat, BlobStore
from hubstead.server.storage.errors import RefConflictError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_rewrite import GitRewriter
from hubstead.server.storage.lfs_index import LfsIndex

_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_DELETIONS = 1000  # the official client sends batches of at most 1000
MAX_DUPLICATES = 1000  # it sends duplications in batches of 500
_SHOWN_CONFLICTS = 5


@dataclasses.dataclass(frozen=True)
class LfsFile:
    """An LFS object of a repo, and one path that names it.

    `ref` is set when the path is at the tip of that ref; `filename` is None when no commit
    reachable from a ref names the object.
    """

    sha256: str
    size: int
    pushed_at: dt.datetime
    filename: str | None
    ref: str | None


@dataclasses.dataclass(frozen=True)
class DuplicateRequest:
    """An object to copy to another repo: its sha256, and its Xet hash when the client has it."""

    sha256: str
    xet_hash: str | None = None


@dataclasses.dataclass(frozen=True)
class DuplicateFailure:
    """An object that was not copied, and why."""

    sha256: str
    error: str


class LfsFileService:
    """Listing and permanent deletion of a repo's LFS objects."""

    def __init__(
        self,
        repos: RepoService,
        heads: HeadService,
        git: GitObjectStore,
        rewriter: GitRewriter,
        blobs: BlobStore,
        objects: LfsObjects,
        index: LfsIndex,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._git = git
        self._rewriter = rewriter
        self._blobs = blobs
        self._objects = objects
        self._index = index

    def list(
        self, identity: Identity, type: RepoType, repo_id: str, *, offset: int, limit: int
    ) -> Page[LfsFile]:
        """One page of the repo's LFS objects, most recently uploaded first.

        Raises:
            RepoNotFoundError, AuthorizationError: the caller may not write to the repo.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        # One record past the page tells whether another page follows.
        page = Page.of(self._index.list(repo.id, offset, limit + 1), limit)
        records = page.items
        if not records:
            return Page([], more=False)
        wanted = {record.sha256 for record in records}
        found: dict[str, pointers.Sighting] = {}
        # Tips come first, and the walk into history stops as soon as the page is named.
        for seen in pointers.sightings(self._git, repo.storage_key):
            if seen.sha256 in wanted and seen.sha256 not in found:
                found[seen.sha256] = seen
                if len(found) == len(wanted):
                    break
        files = [
            LfsFile(
                record.sha256,
                record.size,
                record.created_at,
                found[record.sha256].path if record.sha256 in found else None,
                found[record.sha256].ref if record.sha256 in found else None,
            )
            for record in records
        ]
        return Page(files, page.more)

    def delete(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        digests: Sequence[str],
        *,
        rewrite_history: bool,
    ) -> int:
        """Delete LFS objects from the repo; return how many it had.

        With `rewrite_history`, every ref's history is rewritten without their pointer files
        first (see the module doc); without, objects still named at a ref's tip are refused.
        Digests the repo does not have are ignored, so a retried request succeeds.

        Raises:
            InvalidRequestError: a digest is malformed, or there are too many.
            ConflictError: without `rewrite_history`, an object is still named at the tip of a
                ref (nothing is deleted); with it, a ref moved by a writer that ignored the
                publish lock.
            LocalStorageError: the disk filled up while writing the rewritten history.
            RepoNotFoundError, AuthorizationError, MirrorReadOnlyError: the caller may not
                write to the repo.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        if len(digests) > MAX_DELETIONS:
            raise errors.InvalidRequestError(f"At most {MAX_DELETIONS} objects per request")
        malformed = [d for d in digests if not _SHA256.fullmatch(d)]
        if malformed:
            raise errors.InvalidRequestError(
                f"Invalid LFS object id {malformed[0]!r}: expected a lowercase sha256"
            )
        owned = [
            d for d in dict.fromkeys(digests) if self._index.linked_size(repo.id, d) is not None
        ]
        if rewrite_history:
            self._rewrite(identity, repo, owned)
        else:
            self._refuse_in_use(repo, owned)
            self._index.unlink(repo.id, owned)
        for sha256 in owned:
            self._blobs.delete_unless(sha256, functools.partial(self._linked, sha256))
        return len(owned)

    def _rewrite(self, identity: Identity, repo: RepoRecord, digests: Sequence[str]) -> None:
        """Rewrite every ref's history without pointers to `digests`, then unlink them.

        The long part, rewriting the history as it stands, runs outside the publish lock; under
        it, the rewrite only has to catch up with commits that landed meanwhile, and the refs
        cannot move between that and their compare-and-swap. The links go under the lock too,
        with the refs' move: a commit checks its LFS objects are linked before it takes the lock,
        so one naming a doomed object may still land after this (as after a deletion without a
        rewrite); its file then names a deleted object, which fsck reports.
        """
        if not digests:  # nothing of the repo's to delete: no history to read
            return
        doomed = frozenset(digests)

        def drops(data: bytes) -> bool:
            pointer = parse_lfs_pointer(data)
            return pointer is not None and pointer[0] in doomed

        where = f"rewriting the history of {repo.repo_id}"
        rewrite = self._rewriter.rewrite(repo.storage_key, drops)
        with errors.out_of_space(where):
            rewrite.moves()
        with self._heads.publish_lock(repo):
            with errors.out_of_space(where):
                moves = rewrite.moves()
            try:
                self._rewriter.update_refs(repo.storage_key, moves)
            except RefConflictError as exc:
                raise errors.ConflictError(
                    f"The refs of {repo.repo_id} moved while rewriting its history; retry"
                ) from exc
            self._index.unlink(repo.id, digests)
            self._heads.record_push(repo, moves, identity.account_id)

    def _refuse_in_use(self, repo: RepoRecord, digests: Sequence[str]) -> None:
        """Refuse to delete objects a pointer at the tip of a ref still names."""
        in_use = [
            seen
            for seen in pointers.sightings(self._git, repo.storage_key, history=False)
            if seen.sha256 in digests
        ]
        if not in_use:
            return
        shown = ", ".join(f"{s.sha256} ({s.path!r} at {s.ref})" for s in in_use[:_SHOWN_CONFLICTS])
        more = (
            f" and {len(in_use) - _SHOWN_CONFLICTS} more" if len(in_use) > _SHOWN_CONFLICTS else ""
        )
        raise errors.ConflictError(
            f"Cannot delete LFS objects still used by current files: {shown}{more}. "
            "Delete or replace those files with a commit (or delete the tag) first"
        )

    def duplicate(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        target_type: RepoType,
        target_id: str,
        files: Sequence[DuplicateRequest],
    ) -> Sequence[DuplicateFailure]:
        """Let the target repo reference LFS objects of the source repo (a cross-repo copy).

        The caller must be allowed to read the source's files and to write to the target. No
        byte is copied: the target is linked to the objects, as if they had been uploaded to
        it. Each object must be one the source holds; a Xet hash, when given, must be the Xet
        file of that sha256. Objects that fail are reported, the others are linked.

        Raises:
            InvalidRequestError: too many files in one request.
            RepoNotFoundError, GatedRepoError, AuthorizationError, ...: see `RepoService.locate`.
        """
        if len(files) > MAX_DUPLICATES:
            raise errors.InvalidRequestError(f"At most {MAX_DUPLICATES} files per request")
        source = self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        target = self._repos.locate(identity, target_type, target_id, Action.WRITE)
        problems = {file.sha256: self._duplicate_problem(source.id, file) for file in files}
        for file in files:
            size = self._index.linked_size(source.id, file.sha256)
            if problems[file.sha256] is None and size is not None:
                self._index.link(target.id, file.sha256, size)
        return [DuplicateFailure(sha, problem) for sha, problem in problems.items() if problem]

    def _duplicate_problem(self, source_key: int, file: DuplicateRequest) -> str | None:
        if not _SHA256.fullmatch(file.sha256):
            return f"invalid sha256 {file.sha256[:80]!r}"
        size = self._index.linked_size(source_key, file.sha256)
        if size is None or self._objects.size(file.sha256) != size:
            return f"the source repo holds no LFS object {file.sha256}"
        if file.xet_hash is not None:
            held = self._objects.as_xet(file.sha256)
            if held is None or held.file.hash != file.xet_hash.lower():
                return f"{file.xet_hash[:80]!r} is not the Xet hash of {file.sha256}"
        return None

    def _linked(self, sha256: str, _stat: BlobStat) -> bool:
        return self._index.is_linked(sha256)
