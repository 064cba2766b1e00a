"""Pull-through: repos this hub does not have, and their LFS files, fetched from upstream on demand.

**Repos.** `pull` is called (through the `pull` callable `RepoService` is built with) when a
reader asks for a repo this hub does not have. When the policy allows it and upstream has it, the
repo is created with upstream's branches and tags at once (the git data arrives before the repo
row exists, so nobody sees it empty), and recorded as an on-demand mirror, whose scheduled syncs
refresh its refs. What upstream said is remembered for a while: a missing repo for a minute, an
unreachable upstream for a few seconds (so a burst of requests does not wait on it one after
another).

**LFS files.** The first download of an object that an on-demand mirror does not hold yet (not
linked to it, even if another repo stored the same digest) starts one fetch from upstream, in a
background thread that holds the lock of that repo's fetch of that object (`FetchArea`: shared by
every process on the data dir). The fetch writes the bytes to a spool file as they arrive, and to
a blob writer that keeps them only once their sha256 is verified. Every reader of the object, the
one that started the fetch as well as any other in any process, follows the spool file, so one
upstream transfer serves them all. The last byte is held back until the object is verified and
stored: a client never receives the whole of wrong bytes. A reader whose fetch failed reports
why; a reader that followed someone else's failed fetch tries once itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.mirrors import Source
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.mirroring.mirrors import MirrorService
from hubstead.server.services.mirroring.syncs import SyncService
from hubstead.server.services.mirroring.upstreams import (
    UpstreamService,
    WantedObject,
    store_verified,
    wrong_bytes,
)
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.blobs import BlobStore
from hubstead.server.storage.errors import AlreadyExistsError, BlobMismatchError
from hubstead.server.storage.fetches import FetchArea, HeldLock
from hubstead.server.storage.git_fetch import GitFetcher
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.mirrors import MirrorStore
from hubstead.server.storage.repos import RepoStore

logger = logging.getLogger("hubstead.mirror")

_PIECE = 1024 * 1024
_POLL_SECONDS = 0.02
_STALL_SECONDS = 120.0
# How long pull-through believes upstream that a repo is missing, or that it is unreachable.
_MISSING_SECONDS = 60.0
_UNREACHABLE_SECONDS = 5.0
_MEMORY_MAX = 10_000


@dataclasses.dataclass(frozen=True)
class PullThroughPolicy:
    """Which unknown repos are mirrored on demand, from where, and how often they refresh.

    Patterns are globs matched (ignoring case) against the repo id, with `datasets/` or
    `spaces/` in front for those types; deny wins over allow, and no allow pattern allows all.
    """

    upstream: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    refresh_seconds: int = 0

    def allows(self, type: RepoType, repo_id: str) -> bool:
        """Whether pull-through is on and may mirror this repo."""
        if self.upstream is None:
            return False
        name = f"{type.url_prefix}{repo_id}".lower()

        def matches(patterns: Sequence[str]) -> bool:
            return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in patterns)

        return not matches(self.deny) and (not self.allow or matches(self.allow))


class PullThroughService:
    """Mirrors unknown repos on demand, and serves on-demand mirrors' LFS files as they arrive.

    How long upstream's answers are remembered is measured on `clock`.
    """

    def __init__(
        self,
        accounts: AccountStore,
        repo_store: RepoStore,
        store: MirrorStore,
        git: GitObjectStore,
        fetcher: GitFetcher,
        blobs: BlobStore,
        index: LfsIndex,
        area: FetchArea,
        upstreams: UpstreamService,
        syncs: SyncService,
        mirrors: MirrorService,
        policy: PullThroughPolicy,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._accounts = accounts
        self._repo_store = repo_store
        self._store = store
        self._git = git
        self._fetcher = fetcher
        self._blobs = blobs
        self._index = index
        self._area = area
        self._upstreams = upstreams
        self._syncs = syncs
        self._mirrors = mirrors
        self._policy = policy
        self._missing = _Memory(_MISSING_SECONDS, clock)
        self._unreachable = _Memory(_UNREACHABLE_SECONDS, clock)

    # --- repos ----------------------------------------------------------------------------------

    def pull(self, type: RepoType, repo_id: str) -> RepoRecord | None:
        """Mirror a repo this hub does not have from the pull-through upstream, git data first.

        Nothing is pulled when the policy does not allow the repo, or when its namespace is a
        local user or organization (a missing repo there is a local one).

        Returns:
            The new repo, or None when upstream does not have it (or it is not pulled).

        Raises:
            UpstreamUnavailableError: upstream, which may have the repo, cannot be reached.
            UpstreamDeniedError: upstream refused the hub's upstream token.
            UpstreamError: upstream refused for another reason.
        """
        upstream = self._policy.upstream
        namespace, _, name = repo_id.partition("/")
        missing_key = f"{type.value}/{repo_id.lower()}"
        if upstream is None or not self._policy.allows(type, repo_id):
            return None
        if self._missing.get(missing_key) or self._accounts.get_account(namespace) is not None:
            return None
        down = self._unreachable.get(upstream)
        if down is not None:
            raise errors.UpstreamUnavailableError(down)
        with self._area.lock(_lock_name("pull", type, repo_id)):
            existing = self._repo_store.get_repo(type.value, namespace, name)
            if existing is not None:  # pulled by another request meanwhile
                return existing
            try:
                return self._create(Source(upstream, type, repo_id, self._policy.token))
            except errors.UpstreamNotFoundError:
                self._missing.put(missing_key, "missing")
                return None
            except errors.UpstreamUnavailableError as exc:
                self._unreachable.put(upstream, exc.message)
                raise

    def _create(self, source: Source) -> RepoRecord | None:
        """Create the repo with upstream's branches and tags, and record it as a mirror."""
        facts = self._upstreams.repo(source)
        namespace, _, name = source.repo_id.partition("/")
        # The git data arrives before the repo row exists, so nobody sees the repo empty.
        key = uuid.uuid4().hex
        self._fetcher.init(key)
        try:
            refs = self._upstreams.fetch_refs(key, source, ())
            self._fetcher.update_refs(key, [RefUpdate(n, None, t) for n, t in sorted(refs.items())])
            repo = self._repo_store.create_repo(
                source.type.value, namespace, name, key, facts.private
            )
        except BaseException as exc:
            self._git.delete(key)
            if isinstance(exc, AlreadyExistsError):  # created locally meanwhile
                return self._repo_store.get_repo(source.type.value, namespace, name)
            raise
        self._mirrors.add_pulled(repo, source, self._policy.refresh_seconds)
        return self._syncs.refresh_row(repo, facts)

    # --- LFS files ------------------------------------------------------------------------------

    def pending(self, repo: RepoRecord, path: str, sha256: str, size: int) -> bool:
        """Whether the object must be fetched from upstream before it can be served.

        True for an on-demand mirror that does not hold it yet. Holding means the object is
        linked to the repo: bytes another repo stored under that digest do not count, since a
        pointer (which upstream writes) is no proof of having them; they are fetched and
        verified, then linked.

        Raises:
            NotFoundError: a registered mirror that does not hold it (its include/exclude
                patterns leave the file out, or no sync fetched it yet).
        """
        if self._holds(repo, sha256, size):
            return False
        mirror = self._store.get(repo.id)
        if mirror is None:
            return False
        if not mirror.on_demand:
            raise errors.NotFoundError(
                f"{path} ({size} bytes) of {repo.repo_id} is not on this mirror: its "
                "include/exclude patterns leave it out, or no sync has fetched it yet"
            )
        return True

    def stream(
        self,
        repo: RepoRecord,
        commit_id: str,
        path: str,
        sha256: str,
        size: int,
        start: int,
        end: int,
    ) -> Iterator[bytes]:
        """Bytes `start` to `end` (inclusive) of an object `pending` said to fetch.

        Nothing runs until the first item is asked for; failures before the first bytes are
        raised then, so the caller can still answer with an error status.

        Raises:
            UpstreamUnavailableError: upstream cannot be reached, stalled, or sent wrong bytes.
            UpstreamNotFoundError, UpstreamDeniedError, UpstreamError: see
                `UpstreamService.download`.
            LocalStorageError: the blob store could not be written.
            NotFoundError: the repo is no longer a mirror.
        """
        mirror = self._store.get(repo.id)
        if mirror is None:
            raise errors.NotFoundError(f"{repo.repo_id} is no longer a mirror")
        source = self._upstreams.source(mirror)
        return self._follow(repo, source, WantedObject(sha256, size, commit_id, path), start, end)

    def _follow(
        self, repo: RepoRecord, source: Source, obj: WantedObject, start: int, end: int
    ) -> Iterator[bytes]:
        # Per repo and object: another repo's fetch of the same digest (from another upstream)
        # is no proof that this repo's upstream has those bytes, so it is not followed.
        lock = _fetch_name(repo, obj)
        position = start
        fetch: Future[None] | None = None
        progress_at = time.monotonic()
        while position <= end:
            if self._holds(repo, obj.sha256, obj.size):
                yield from self._stored(obj.sha256, position, end)
                return
            # The last byte of the object waits for it to be verified and stored.
            limit = min(end, obj.size - 2) + 1 - position
            data = self._area.read_spool(lock, position, min(limit, _PIECE)) if limit else b""
            if data:
                position += len(data)
                progress_at = time.monotonic()
                yield data
                continue
            if fetch is not None and fetch.done():
                if not self._holds(repo, obj.sha256, obj.size):
                    raise _failure(fetch, obj)
                continue
            if fetch is None and not self._area.locked(lock):
                held = self._area.try_lock(lock)
                if held is not None:
                    fetch = self._start(held, repo, source, obj)
                    progress_at = time.monotonic()
                continue
            if time.monotonic() - progress_at > _STALL_SECONDS:
                raise errors.UpstreamUnavailableError(
                    f"The download of {obj.path} from {source.endpoint} stalled"
                )
            time.sleep(_POLL_SECONDS)

    def _holds(self, repo: RepoRecord, sha256: str, size: int) -> bool:
        """Whether the object is stored and linked to the repo (verified for it)."""
        return self._index.linked_size(repo.id, sha256) == size == self._blobs.size(sha256)

    def _stored(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        with self._blobs.open(sha256) as file:
            file.seek(start)
            remaining = end + 1 - start
            while remaining > 0 and (chunk := file.read(min(_PIECE, remaining))):
                remaining -= len(chunk)
                yield chunk

    def _start(
        self, held: HeldLock, repo: RepoRecord, source: Source, obj: WantedObject
    ) -> Future[None]:
        """Fetch the object in a thread of its own, so it completes if its readers leave."""
        future: Future[None] = Future()

        def run() -> None:
            try:
                if not self._holds(repo, obj.sha256, obj.size):  # fetched while we took the lock
                    self._fetch(repo, source, obj)
                future.set_result(None)
            except BaseException as exc:
                logger.warning("pull-through of %s (%s) failed: %s", obj.path, obj.sha256, exc)
                future.set_exception(exc)
            finally:
                self._area.drop_spool(_fetch_name(repo, obj))
                held.release()

        threading.Thread(target=run, name=f"hubstead-pull-{obj.sha256[:12]}", daemon=True).start()
        return future

    def _fetch(self, repo: RepoRecord, source: Source, obj: WantedObject) -> None:
        try:
            writer = self._blobs.writer(obj.sha256, obj.size)
            try:
                with (
                    self._area.spool(_fetch_name(repo, obj)) as spool,
                    self._upstreams.download(source, obj.commit_id, obj.path) as chunks,
                ):
                    for chunk in chunks:
                        try:
                            writer.write(chunk)
                        except BlobMismatchError as exc:
                            raise wrong_bytes(obj, exc) from exc
                        spool.write(chunk)
            except BaseException:
                writer.abort()
                raise
            store_verified(self._index, repo, obj, writer.commit)
        except OSError as exc:  # upstream failures arrive as UpstreamErrors: this is our disk
            raise errors.LocalStorageError(
                f"Cannot store {obj.path} ({obj.sha256}): {exc}"
            ) from exc


def _fetch_name(repo: RepoRecord, obj: WantedObject) -> str:
    """The name of the lock and spool of one repo's fetch of one object."""
    return f"object-{repo.id}-{obj.sha256}"


def _failure(fetch: Future[None], obj: WantedObject) -> errors.HubError:
    exc = fetch.exception()
    if isinstance(exc, errors.HubError):
        return exc
    return errors.UpstreamUnavailableError(
        f"The download of {obj.path} from upstream failed: {exc}"
    )


class _Memory:
    """Answers from upstream, remembered for `seconds` on `clock` (in this process).

    Per process by design (`serve --workers`): an answer is allowed to be `seconds` old, and
    each process asking upstream once per window costs N requests, not wrong answers.
    """

    def __init__(self, seconds: float, clock: Clock) -> None:
        self._duration = dt.timedelta(seconds=seconds)
        self._clock = clock
        self._entries: dict[str, tuple[dt.datetime, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    def put(self, key: str, value: str) -> None:
        with self._lock:
            if len(self._entries) >= _MEMORY_MAX:
                self._entries.clear()
            self._entries[key] = (self._clock() + self._duration, value)


def _lock_name(purpose: str, type: RepoType, repo_id: str) -> str:
    digest = hashlib.sha256(f"{type.value}/{repo_id.lower()}".encode()).hexdigest()[:32]
    return f"{purpose}-{digest}"
