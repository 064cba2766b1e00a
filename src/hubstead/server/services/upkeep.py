"""Storage upkeep: fsck (is every object whole, is every pointer backed?), gc, per-repo usage.

An LFS object is *referenced* when the LFS index links it to a repo, or when a pointer file
reachable from any ref of any repo (branches, tags, `refs/pr/*`, `refs/convert/*`, and their
history) names it. gc deletes only stored objects that are neither, and that were written before
the grace period began: an upload whose commit has not landed yet is linked, and recent anyway.
Both run while the server serves requests (see `BlobStore.delete_unless` for the race it closes).

An upload stores the object, then links it (never the other way round: a link is what lets a
repo reach an object). What a crash leaves, and what gc does with it:

- during the transfer, or before the bytes verify: a temporary file in the blob store's
  `.tmp/`, or a multipart upload folder; gc removes them once older than the grace period;
- after the object was stored, before it was linked: a stored object no repo references; gc
  removes it once older than the grace period (its age counts from when it was stored);
- older versions linked first, so a crash could leave a link whose object is not stored, or is
  stored with another size (another object's bytes, named by a forged upload): fsck reports
  these links, and gc deletes them once older than the grace period.

The git repos are checked and collected too: quarantines of pushes that never finished, git
temporary files and loose objects no ref reaches (aborted commits, squashed history, deleted
branches) are listed by fsck and removed by gc once older than the grace period, and gc then
prunes and repacks each repo (`GitUpkeep.collect`).

An LFS object may be held as a Xet file instead of a blob (`LfsObjects`): its links and pointers
are then backed, not missing. Xorbs and Xet files are checked and collected by `XetUpkeep`
(`services/xet/upkeep.py`, which says what it keeps and for how long).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator, Sequence

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import RepoQuery, RepoRecord
from hubstead.server.domain.upkeep import Leftover, LeftoverKind, OnProgress, notify
from hubstead.server.services import pointers
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.xet.upkeep import XetCheck, XetCollection, XetUpkeep
from hubstead.server.storage.blobs import BlobStat, BlobStore
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_upkeep import GitUpkeep
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.repos import RepoStore

_REPO_PAGE = 1000


@dataclasses.dataclass(frozen=True)
class CorruptObject:
    """A stored object whose bytes do not hash to its name."""

    sha256: str
    actual_sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class BadPointer:
    """A pointer file whose object is not stored, or is stored with another size.

    `stored_size` is None when the object is missing. `ref` is set when the pointer is at the
    tip of that ref, None when only history holds it.
    """

    repo_type: str
    repo_id: str
    path: str
    commit_id: str
    ref: str | None
    sha256: str
    size: int
    stored_size: int | None


@dataclasses.dataclass(frozen=True)
class BadLink:
    """An LFS index row whose object is not stored (`stored_size` None) or has another size."""

    repo_type: str
    repo_id: str
    sha256: str
    size: int
    stored_size: int | None


@dataclasses.dataclass(frozen=True)
class UnreadableRepo:
    """A repo whose git data could not be read, with the error met."""

    repo_type: str
    repo_id: str
    error: str


@dataclasses.dataclass(frozen=True)
class FsckReport:
    """What fsck found. `purged` pointers are not damage: see `UpkeepService.fsck`."""

    objects: int
    bytes: int
    repos: int
    corrupt: list[CorruptObject]
    dangling: list[BadPointer]
    purged: list[BadPointer]
    bad_links: list[BadLink]
    unreadable: list[UnreadableRepo]
    leftovers: list[Leftover]
    # Push quarantines, git temp files and loose objects no ref reaches: not damage either.
    git_leftovers: list[Leftover] = dataclasses.field(default_factory=list)
    xet: XetCheck = dataclasses.field(default_factory=XetCheck)

    @property
    def damaged(self) -> bool:
        """Whether anything is corrupt, dangling, missing or unreadable."""
        return bool(
            self.corrupt or self.dangling or self.bad_links or self.unreadable or self.xet.damaged
        )


@dataclasses.dataclass(frozen=True)
class CollectedObject:
    """An object gc removed (or, in a dry run, would remove)."""

    sha256: str
    size: int
    modified_at: float


@dataclasses.dataclass(frozen=True)
class GcReport:
    """What gc removed (or would remove), and what it kept.

    When a repo could not be read (`unreadable`), what it references is unknown: no object is
    removed then, only leftovers. `links` are the index rows removed because their object is not
    stored with their size (see the module doc).
    """

    dry_run: bool
    grace_seconds: float
    objects: list[CollectedObject]
    leftovers: list[Leftover]
    referenced: int
    recent: int
    unreadable: list[UnreadableRepo]
    links: list[BadLink] = dataclasses.field(default_factory=list)
    # What the git repos shed (quarantines, temp files, unreachable objects), and how many
    # repos were pruned and repacked.
    git_leftovers: list[Leftover] = dataclasses.field(default_factory=list)
    repacked: int = 0
    xet: XetCollection = dataclasses.field(default_factory=XetCollection)

    @property
    def freed_bytes(self) -> int:
        """The bytes the removed objects, xorbs and leftovers held (before repacking)."""
        leftovers = [*self.leftovers, *self.git_leftovers]
        freed = sum(o.size for o in self.objects) + sum(o.size for o in leftovers)
        return freed + self.xet.freed_bytes


@dataclasses.dataclass(frozen=True)
class RepoUsage:
    """A repo and the bytes it uses: its linked LFS objects and its git data on disk."""

    type: str
    repo_id: str
    private: bool
    lfs_bytes: int
    git_bytes: int

    @property
    def used_bytes(self) -> int:
        """Everything the repo uses."""
        return self.lfs_bytes + self.git_bytes


@dataclasses.dataclass(frozen=True)
class StorageReport:
    """What the hub stores: objects, xorbs, git data, repos per type and the largest repos.

    `lfs_linked_bytes` sums every repo's links (an object two repos link counts twice);
    `blob_bytes` is what the blob store holds on disk (each object once).
    """

    blob_count: int
    blob_bytes: int
    xorb_count: int
    xorb_bytes: int
    lfs_linked_bytes: int
    git_bytes: int
    repos_by_type: dict[str, int]
    largest: list[RepoUsage]


class UpkeepService:
    """Checks and collects the blob and xorb stores against the repos and the indexes.

    `clock` gives the time (in seconds since the epoch) that grace periods end at.
    """

    def __init__(
        self,
        repo_store: RepoStore,
        git: GitObjectStore,
        git_upkeep: GitUpkeep,
        blobs: BlobStore,
        index: LfsIndex,
        objects: LfsObjects,
        xet: XetUpkeep,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo_store = repo_store
        self._git = git
        self._git_upkeep = git_upkeep
        self._blobs = blobs
        self._index = index
        self._objects = objects
        self._xet = xet
        self._clock = clock

    def usage(self, repos: Sequence[RepoRecord]) -> dict[int, int]:
        """The bytes each repo uses, by repo row id: its LFS objects plus its git data on disk.

        The LFS bytes of all the repos are summed by one query.
        """
        lfs = self._index.usage([repo.id for repo in repos])
        return {
            repo.id: lfs[repo.id] + self._git_upkeep.disk_usage(repo.storage_key) for repo in repos
        }

    def storage_report(self, top: int) -> StorageReport:
        """The hub's storage now, with the `top` repos using the most bytes.

        Walks every repo, stored object and xorb once (a stat each): an operator's question,
        not a page to answer on every request.
        """
        repos = list(self._all_repos())
        lfs = self._index.usage([repo.id for repo in repos])
        usages = [
            RepoUsage(
                repo.type,
                repo.repo_id,
                repo.private,
                lfs.get(repo.id, 0),
                self._git_upkeep.disk_usage(repo.storage_key),
            )
            for repo in repos
        ]
        by_type = {type.value: 0 for type in RepoType}
        for repo in repos:
            by_type[repo.type] = by_type.get(repo.type, 0) + 1
        blob_count = blob_bytes = 0
        for sha256 in self._blobs.digests():
            stat = self._blobs.stat(sha256)
            if stat is not None:
                blob_count, blob_bytes = blob_count + 1, blob_bytes + stat.size
        xorb_count, xorb_bytes = self._xet.stored_bytes()
        return StorageReport(
            blob_count=blob_count,
            blob_bytes=blob_bytes,
            xorb_count=xorb_count,
            xorb_bytes=xorb_bytes,
            lfs_linked_bytes=sum(u.lfs_bytes for u in usages),
            git_bytes=sum(u.git_bytes for u in usages),
            repos_by_type=by_type,
            largest=sorted(usages, key=lambda u: (-u.used_bytes, u.type, u.repo_id))[:top],
        )

    # --- fsck ---------------------------------------------------------------------------------

    def fsck(self, on_progress: OnProgress | None = None) -> FsckReport:
        """Re-hash every object and xorb, then check every repo's pointers and every index row.

        A pointer whose object is missing (or has another size) is damage when it is at the tip
        of a ref, or when the repo still links the object. A pointer only in history whose
        object the repo no longer links was deleted on purpose (an `lfs-files` deletion without
        a history rewrite): it is reported as `purged`, not as damage. Objects stored or linked
        while fsck runs are looked up again rather than reported missing.
        """
        digests = sorted(self._blobs.digests())
        sizes: dict[str, int] = {}
        corrupt = []
        hashed = 0
        for done, sha256 in enumerate(digests, 1):
            stat = self._blobs.stat(sha256)
            try:
                actual = self._blobs.rehash(sha256)
            except BlobNotFoundError:  # collected meanwhile
                stat = None
            if stat is not None:
                sizes[sha256] = stat.size
                hashed += stat.size
                if actual != sha256:
                    corrupt.append(CorruptObject(sha256, actual, stat.size))
            notify(on_progress, "objects", done, len(digests), hashed)
        xet = self._xet.check(on_progress)
        stored = {**self._xet.held_sizes(), **sizes}
        git_leftovers = self._git_leftovers(self._clock(), on_progress)
        repos: dict[int, RepoRecord] = {}
        dangling: list[BadPointer] = []
        purged: list[BadPointer] = []
        unreadable: list[UnreadableRepo] = []
        for repo, found in self._pointers(on_progress):
            repos[repo.id] = repo
            if isinstance(found, UnreadableRepo):
                unreadable.append(found)
                continue
            for bad in self._bad_pointers(repo, found, stored):
                damage = (
                    bad.ref is not None
                    or bad.stored_size is not None
                    or self._index.linked_size(repo.id, bad.sha256) is not None
                )
                (dangling if damage else purged).append(bad)
        return FsckReport(
            objects=len(sizes),
            bytes=sum(sizes.values()),
            repos=len(repos),
            corrupt=corrupt,
            dangling=dangling,
            purged=purged,
            bad_links=self._bad_links(repos, stored),
            unreadable=unreadable,
            leftovers=list(self._blobs.leftovers()),
            git_leftovers=git_leftovers,
            xet=xet,
        )

    def _stored_size(self, sizes: dict[str, int], sha256: str) -> int | None:
        """The object's size as a blob or a Xet file: from `sizes`, or looked up (stored since)."""
        return sizes[sha256] if sha256 in sizes else self._objects.size(sha256)

    def _bad_pointers(
        self, repo: RepoRecord, found: list[pointers.Sighting], sizes: dict[str, int]
    ) -> Iterator[BadPointer]:
        for seen in found:
            stored = self._stored_size(sizes, seen.sha256)
            if stored != seen.size:
                yield BadPointer(
                    repo.type,
                    repo.repo_id,
                    seen.path,
                    seen.commit_id,
                    seen.ref,
                    seen.sha256,
                    seen.size,
                    stored,
                )

    def _bad_links(self, repos: dict[int, RepoRecord], sizes: dict[str, int]) -> list[BadLink]:
        bad = []
        for record in self._index.records():
            stored = self._stored_size(sizes, record.sha256)
            if stored != record.size:
                repo = repos.get(record.repo_id)
                # A repo created after the listing above: name it by its row id.
                label = (repo.type, repo.repo_id) if repo else ("?", f"#{record.repo_id}")
                bad.append(BadLink(*label, record.sha256, record.size, stored))
        return bad

    # --- gc -----------------------------------------------------------------------------------

    def gc(
        self, *, grace: dt.timedelta, dry_run: bool, on_progress: OnProgress | None = None
    ) -> GcReport:
        """Delete bad links, unreferenced objects, stale multipart uploads and temporary files.

        Only what was last written before `grace` ago goes. Each object is checked again once
        moved out of reach (still unlinked, still old), so an upload of the same bytes racing
        with gc keeps its copy. Bad links go first, so the objects only they kept are collected
        in the same run. Xet files and xorbs are collected by `XetUpkeep.collect`.
        """
        now = self._clock()
        written_before = now - grace.total_seconds()
        links = self._bad_old_links(written_before, dry_run)
        referenced: set[str] = set()
        at_tips: set[str] = set()
        unreadable: list[UnreadableRepo] = []
        for _repo, found in self._pointers(on_progress):
            if isinstance(found, UnreadableRepo):
                unreadable.append(found)
            else:
                referenced.update(s.sha256 for s in found)
                at_tips.update(s.sha256 for s in found if s.ref is not None)
        linked = self._index.linked_digests()
        referenced |= linked
        digests = [] if unreadable else sorted(self._blobs.digests())
        collected: list[CollectedObject] = []
        kept = recent = 0
        for done, sha256 in enumerate(digests, 1):
            notify(on_progress, "objects", done, len(digests))
            if sha256 in referenced:
                kept += 1
                continue
            stat = self._blobs.stat(sha256)
            if stat is None:  # deleted meanwhile
                continue
            if stat.modified_at >= written_before:
                recent += 1
            elif dry_run or self._blobs.delete_unless(
                sha256, functools.partial(self._keep, sha256, written_before)
            ):
                collected.append(CollectedObject(sha256, stat.size, stat.modified_at))
            else:
                kept += 1
        leftovers = [
            leftover
            for leftover in self._blobs.leftovers()
            if leftover.modified_at < written_before
            and (dry_run or self._blobs.remove_leftover(leftover, written_before))
        ]
        # Only history naming a Xet-held object does not keep it: see `XetUpkeep`.
        xet = self._xet.collect(
            None if unreadable else linked | at_tips,
            now=now,
            grace=grace,
            dry_run=dry_run,
            on_progress=on_progress,
        )
        git_leftovers = self._git_leftovers(written_before, on_progress)
        repacked = 0
        if not dry_run:
            git_leftovers, repacked = self._collect_git(git_leftovers, written_before, on_progress)
        return GcReport(
            dry_run,
            grace.total_seconds(),
            collected,
            leftovers,
            kept,
            recent,
            unreadable,
            links=links,
            git_leftovers=git_leftovers,
            repacked=repacked,
            xet=xet,
        )

    def _bad_old_links(self, written_before: float, dry_run: bool) -> list[BadLink]:
        """Delete old links whose object is not held with their size; those (to be) deleted.

        An object is held as a blob or as a Xet file. Only links made before `written_before`
        go; none with `dry_run`.
        """
        removed = []
        for record in self._index.records():
            if record.created_at.timestamp() >= written_before:
                continue
            stored = self._objects.size(record.sha256)
            if stored == record.size:
                continue
            if dry_run or self._index.unlink_if(record.repo_id, record.sha256, record.size):
                repo = self._repo_store.get_repo_by_key(record.repo_id)
                label = (repo.type, repo.repo_id) if repo else ("?", f"#{record.repo_id}")
                removed.append(BadLink(*label, record.sha256, record.size, stored))
        return removed

    # --- git data -------------------------------------------------------------------------------

    def _git_leftovers(
        self, written_before: float, on_progress: OnProgress | None
    ) -> list[Leftover]:
        """Push quarantines and git temp files, then each repo's unreachable loose objects.

        Only what was last written before `written_before` counts, so that a push or a commit
        in progress is never reported (nor collected).
        """
        found = [
            leftover
            for leftover in self._git_upkeep.leftovers()
            if leftover.modified_at < written_before
        ]
        repos = list(self._all_repos())
        for done, repo in enumerate(repos, 1):
            with contextlib.suppress(Exception):  # unreadable repos are reported by fsck
                garbage = self._git_upkeep.unreachable(repo.storage_key, written_before)
                if garbage is not None:
                    found.append(garbage)
            notify(on_progress, "git garbage", done, len(repos))
        return found

    def _collect_git(
        self, found: list[Leftover], written_before: float, on_progress: OnProgress | None
    ) -> tuple[list[Leftover], int]:
        """Remove the leftovers found, then prune and repack every repo.

        Returns:
            What was removed, and how many repos were repacked.
        """
        removed = [
            leftover
            for leftover in found
            if leftover.kind is LeftoverKind.GIT_UNREACHABLE
            or self._git_upkeep.remove_leftover(leftover, written_before)
        ]
        repos = list(self._all_repos())
        repacked = 0
        for done, repo in enumerate(repos, 1):
            # A repo deleted meanwhile, or damaged (which fsck reports), is skipped.
            with contextlib.suppress(Exception):
                self._git_upkeep.collect(repo.storage_key, written_before)
                repacked += 1
            notify(on_progress, "git repack", done, len(repos))
        return removed, repacked

    def _keep(self, sha256: str, written_before: float, stat: BlobStat) -> bool:
        return stat.modified_at >= written_before or self._index.is_linked(sha256)

    # --- repos --------------------------------------------------------------------------------

    def _pointers(
        self, on_progress: OnProgress | None
    ) -> Iterator[tuple[RepoRecord, list[pointers.Sighting] | UnreadableRepo]]:
        """Every repo with the pointers its refs reach, or what made its git data unreadable.

        A repo deleted while the run goes on is skipped.
        """
        repos = list(self._all_repos())
        for done, repo in enumerate(repos, 1):
            try:
                found = list(pointers.sightings(self._git, repo.storage_key))
            except Exception as exc:
                # Whatever the git store raises for damaged (or vanished) git data: one broken
                # repo is reported, and does not stop the check of the others.
                if self._repo_store.get_repo(repo.type, repo.namespace, repo.name) is not None:
                    error = f"{type(exc).__name__}: {exc}"
                    yield repo, UnreadableRepo(repo.type, repo.repo_id, error)
            else:
                yield repo, found
            notify(on_progress, "repos", done, len(repos))

    def _all_repos(self) -> Iterator[RepoRecord]:
        """Every repo of every type, oldest first (each once, even if repos change meanwhile)."""
        seen: set[int] = set()
        for type in RepoType:
            offset = 0
            while True:
                query = RepoQuery(
                    type=type.value,
                    sort="created_at",
                    descending=False,
                    offset=offset,
                    limit=_REPO_PAGE,
                )
                page = self._repo_store.list_repos(query)
                for repo in page:
                    if repo.id not in seen:
                        seen.add(repo.id)
                        yield repo
                if len(page) < _REPO_PAGE:
                    break
                offset += _REPO_PAGE
