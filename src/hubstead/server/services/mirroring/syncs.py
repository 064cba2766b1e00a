"""Mirror syncs: what upstream has, the objects a sync must fetch, and moving refs last.

A sync of a mirrored repo (`jobs/sync.py` runs one; pull-through runs its git part when it first
sees a repo) goes in three steps, each a method here:

1. `plan`: ask upstream about the repo (a repo upstream does not have stops the sync), list its
   refs, fetch the git objects of the tracked ones into the local repo (no local ref moves),
   and list the LFS files of the new tips that the include/exclude patterns select. Objects
   the repo already holds (linked to it) are skipped; the others are to be fetched, even when
   another repo stored the same digest: upstream's pointer is no proof that upstream has those
   bytes, and linking on its word would hand a local private object to the mirror's readers.
2. `fetch_object`, once per object to fetch (the job runs several at once): download it from
   upstream in parts that survive an interrupted sync (a later one fetches only the parts
   missing), two at a time, verified by sha256 before it is stored (hashed as the parts come,
   not read again). Wrong bytes are dropped, never stored.
3. `publish`: move the local refs to upstream's under the repo's publish lock and ref lock,
   each compared against what `plan` saw, then record the move (the repo row's refresh and one
   `repo.content.update` hub event, without an actor) and take upstream's visibility (its
   `repo.config.update` event, when it changed). Readers see the old state or the new one with
   every object in place, never a mix.

Upstream (its API, file bytes and git data) is reached through `upstreams.UpstreamService`,
which raises domain errors.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server import errors
from hubstead.server.domain.git import EntryKind, RefUpdate
from hubstead.server.domain.mirrors import MirrorRecord, Source, UpstreamRepo
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import files
from hubstead.server.services.heads import HeadService
from hubstead.server.services.mirroring.upstreams import (
    TRACKED,
    UpstreamService,
    WantedObject,
    store_verified,
    wrong_bytes,
)
from hubstead.server.storage.blobs import BlobStore, BlobWriter
from hubstead.server.storage.errors import (
    BlobMismatchError,
    BlobNotFoundError,
    RefConflictError,
)
from hubstead.server.storage.fetches import FetchArea
from hubstead.server.storage.git_fetch import GitFetcher
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.repos import RepoStore

OnBytes = Callable[[int], None]
# Parts of one object downloading at once (see `_each_at_once`).
PARTS_AT_ONCE = 2


@dataclasses.dataclass(frozen=True)
class SyncPlan:
    """What one sync does: its ref updates and the objects to fetch before they happen."""

    repo: RepoRecord
    source: Source
    facts: UpstreamRepo
    updates: tuple[RefUpdate, ...]
    objects: tuple[WantedObject, ...]
    linked: int
    """Objects of the new tips that the repo already held."""


class SyncService:
    """The steps of a mirror sync, on the hub's stores."""

    def __init__(
        self,
        heads: HeadService,
        repo_store: RepoStore,
        git: GitObjectStore,
        fetcher: GitFetcher,
        blobs: BlobStore,
        index: LfsIndex,
        area: FetchArea,
        upstreams: UpstreamService,
        *,
        chunk_size: int,
    ) -> None:
        self._heads = heads
        self._repo_store = repo_store
        self._git = git
        self._fetcher = fetcher
        self._blobs = blobs
        self._index = index
        self._area = area
        self._upstreams = upstreams
        self._chunk_size = chunk_size

    def lock(self, repo: RepoRecord) -> AbstractContextManager[None]:
        """Held for a whole sync, so that syncs of one repo (in any process) take turns."""
        return self._area.lock(f"sync-{repo.storage_key}")

    # --- step 1 -------------------------------------------------------------------------------

    def plan(self, mirror: MirrorRecord, repo: RepoRecord) -> SyncPlan:
        """Fetch upstream's git objects and decide what the sync changes (see the module doc).

        Raises:
            UpstreamNotFoundError: the repo, or a tracked revision, does not exist upstream.
            UpstreamDeniedError: upstream refused the token.
            UpstreamUnavailableError: upstream cannot be reached or failed.
            UpstreamError: upstream refused for another reason.
            NotSupportedError: git is not installed on this server.
        """
        source = self._upstreams.source(mirror)
        facts = self._upstreams.repo(source)
        remote = self._upstreams.fetch_refs(repo.storage_key, source, mirror.revisions)
        key = repo.storage_key
        local = {ref.name: self._git.ref_target(key, ref.name) for ref in self._git.refs(key)}
        updates = [
            RefUpdate(name, local.get(name), target)
            for name, target in sorted(remote.items())
            if local.get(name) != target
        ]
        if not mirror.revisions:  # following every branch and tag: drop those upstream dropped
            updates += [
                RefUpdate(name, old, None)
                for name, old in sorted(local.items())
                if name.startswith(TRACKED) and name not in remote
            ]
        objects: list[WantedObject] = []
        linked = 0
        if not mirror.on_demand:
            for wanted in self._lfs_objects(key, remote.values(), mirror):
                if self._holds(repo, wanted):
                    linked += 1
                else:
                    objects.append(wanted)
        return SyncPlan(repo, source, facts, tuple(updates), tuple(objects), linked)

    def _lfs_objects(
        self, key: str, targets: Iterable[str], mirror: MirrorRecord
    ) -> Iterator[WantedObject]:
        """The LFS files (one per object) of the commits `targets` lead to, as selected."""
        seen: set[str] = set()
        for commit_id in dict.fromkeys(self._git.commit(key, target).id for target in targets):
            entries = self._git.list_tree(key, commit_id, "", recursive=True)
            selected = [
                e for e in entries if e.kind is EntryKind.FILE and _selected(e.path, mirror)
            ]
            for info in files.describe(self._git, key, selected):
                if info.lfs is not None and info.lfs.sha256 not in seen:
                    seen.add(info.lfs.sha256)
                    yield WantedObject(info.lfs.sha256, info.lfs.size, commit_id, info.path)

    # --- step 2 -------------------------------------------------------------------------------

    def fetch_object(self, plan: SyncPlan, obj: WantedObject, on_bytes: OnBytes) -> None:
        """Download, verify, store and link one object; `on_bytes` hears of each chunk.

        Objects larger than one part are fetched in parts that are kept across attempts.

        Raises:
            UpstreamUnavailableError: upstream failed, or sent bytes that are not the object
                (nothing of them is stored).
            UpstreamNotFoundError, UpstreamDeniedError, UpstreamError: see
                `UpstreamService.download`.
            LocalStorageError: the blob store could not be written.
        """
        try:
            if self._holds(plan.repo, obj):  # fetched meanwhile, by a pull-through read
                on_bytes(obj.size)
            elif obj.size <= self._chunk_size:
                self._fetch_whole(plan, obj, on_bytes)
            else:
                self._fetch_parts(plan, obj, on_bytes)
        except OSError as exc:  # upstream failures arrive as UpstreamErrors: this is our disk
            raise errors.LocalStorageError(
                f"Cannot store {obj.path} ({obj.sha256}) of {plan.repo.repo_id}: {exc}"
            ) from exc

    def _holds(self, repo: RepoRecord, obj: WantedObject) -> bool:
        """Whether the object is stored and linked to the repo (verified for it)."""
        stored = self._blobs.size(obj.sha256)
        return self._index.linked_size(repo.id, obj.sha256) == obj.size == stored

    def _fetch_whole(self, plan: SyncPlan, obj: WantedObject, on_bytes: OnBytes) -> None:
        writer = self._blobs.writer(obj.sha256, obj.size)
        try:
            with self._upstreams.download(plan.source, obj.commit_id, obj.path) as chunks:
                for chunk in chunks:
                    _write(writer, chunk, obj)
                    on_bytes(len(chunk))
        except BaseException:
            writer.abort()
            raise
        store_verified(self._index, plan.repo, obj, writer.commit)

    def _fetch_parts(self, plan: SyncPlan, obj: WantedObject, on_bytes: OnBytes) -> None:
        # Per repo: parts another mirror fetched from its upstream prove nothing for this one.
        key = f"mirror:{plan.repo.id}:{obj.sha256}:{obj.size}:{self._chunk_size}".encode()
        upload_id = hashlib.sha256(key).hexdigest()[:32]
        count = math.ceil(obj.size / self._chunk_size)
        received = self._blobs.parts(upload_id)
        missing = []
        for number in range(1, count + 1):
            start = (number - 1) * self._chunk_size
            size = min(self._chunk_size, obj.size - start)
            if received.get(number) == size:
                on_bytes(size)  # kept from an earlier, interrupted sync
            else:
                missing.append(_Part(upload_id, number, start, size))
        _each_at_once(missing, lambda part: self._fetch_part(plan, obj, part, on_bytes))

        def assemble() -> str:
            try:
                self._blobs.complete_multipart(upload_id, obj.sha256, obj.size, count)
            except BlobMismatchError:
                self._blobs.abort_multipart(upload_id)  # wrong bytes: none of them is kept
                raise
            except BlobNotFoundError as exc:  # a concurrent gc took a part: start over
                raise errors.UpstreamUnavailableError(
                    f"{exc}; the sync will fetch it again"
                ) from exc
            return obj.sha256

        store_verified(self._index, plan.repo, obj, assemble)

    def _fetch_part(
        self, plan: SyncPlan, obj: WantedObject, part: _Part, on_bytes: OnBytes
    ) -> None:
        writer = self._blobs.part_writer(part.upload_id, part.number, part.start, part.size)
        try:
            end = part.start + part.size - 1
            with self._upstreams.download(
                plan.source, obj.commit_id, obj.path, part.start, end
            ) as chunks:
                for chunk in chunks:
                    _write(writer, chunk, obj)
                    on_bytes(len(chunk))
            writer.commit()
        except BlobMismatchError as exc:
            writer.abort()
            raise wrong_bytes(obj, exc) from exc
        except BaseException:
            writer.abort()
            raise

    # --- step 3 -------------------------------------------------------------------------------

    def publish(self, plan: SyncPlan) -> RepoRecord:
        """Move the refs as planned and refresh the repo row (see the module doc).

        Raises:
            ConflictError: a ref moved since `plan` (nothing moved).
        """
        repo = plan.repo
        with self._heads.publish_lock(repo):
            try:
                self._fetcher.update_refs(repo.storage_key, plan.updates)
            except RefConflictError as exc:
                raise errors.ConflictError(
                    f"The refs of {repo.repo_id} changed during the sync ({exc}); sync again"
                ) from exc
            repo = self._follow_visibility(repo, plan.facts)
            return self._heads.record_push(repo, plan.updates, None)

    def refresh_row(self, repo: RepoRecord, facts: UpstreamRepo) -> RepoRecord:
        """Describe a repo pull-through just created with its refs.

        It takes upstream's visibility, and its row describes its default branch, without a
        `repo.content.update` event: its `repo.create` is the news, not the refs it came with.
        """
        repo = self._follow_visibility(repo, facts)
        head = self._git.resolve(repo.storage_key, f"refs/heads/{DEFAULT_BRANCH}")
        return self._heads.refresh(repo, head) if head is not None else repo

    def _follow_visibility(self, repo: RepoRecord, facts: UpstreamRepo) -> RepoRecord:
        """Give the repo upstream's visibility and gating, with their event, if they differ."""
        if (repo.private, repo.gated) == (facts.private, facts.gated):
            return repo
        return self._repo_store.update_settings(
            repo.id, None, private=facts.private, gated=facts.gated
        )


@dataclasses.dataclass(frozen=True)
class _Part:
    """One part of an object fetched in parts: `size` bytes from `start`."""

    upload_id: str
    number: int
    start: int
    size: int


def _each_at_once(parts: list[_Part], fetch: Callable[[_Part], None]) -> None:
    """Fetch `PARTS_AT_ONCE` parts at a time; the first failure is raised.

    While one part's bytes are written and hashed (each whole part is hashed as it is committed,
    see `multipart_hashes_fs`), the next one's are downloading: a sync costs about the slower of
    the two, not their sum. After a failure no part starts, and those under way end: they are
    kept for the next sync.
    """
    with ThreadPoolExecutor(PARTS_AT_ONCE, thread_name_prefix="hubstead-parts") as pool:
        futures = [pool.submit(fetch, part) for part in parts]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _write(writer: BlobWriter, chunk: bytes, obj: WantedObject) -> None:
    try:
        writer.write(chunk)
    except BlobMismatchError as exc:
        raise wrong_bytes(obj, exc) from exc


def _selected(path: str, mirror: MirrorRecord) -> bool:
    """Whether the include/exclude patterns let a sync fetch the LFS file at `path`."""
    if mirror.include and not any(_matches(path, p) for p in mirror.include):
        return False
    return not any(_matches(path, p) for p in mirror.exclude)


def _matches(path: str, pattern: str) -> bool:
    # As huggingface_hub's allow_patterns: `*` crosses `/`, and `dir/` means everything in it.
    return fnmatch.fnmatchcase(path, pattern + "*" if pattern.endswith("/") else pattern)
