"""Mirrors: repos copied from an upstream hub, registered or pulled through, and read-only.

A mirrored repo is a local repo whose refs and LFS objects come only from its upstream (see
`syncs.py` for how a sync copies them, with the same commit ids):

- Operators register mirrors with `add` (`hubstead mirror add`); `sync` queues a `mirror.sync`
  job, deduplicated per repo, that `jobs/sync.py` runs. A mirror with a schedule gets its next
  sync queued when one ends (`finish_sync`); `ensure_schedules` re-queues lost ones.
- Pull-through: `pull` is called (through `RepoService.locate`) for a repo this hub does not
  have. When the policy allows it and upstream has it, the repo is created with upstream's
  branches and tags at once, and recorded as an on-demand mirror: its LFS files are fetched
  when first downloaded (`pull_through.py`), its refs refreshed by scheduled syncs.
- Local writers cannot change a mirror (`read_only_reason`): commits, branches and tags, git
  pushes and LFS uploads are refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
import threading
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from hubstead.protocol import RepoType, repo_id_problem
from hubstead.server import errors
from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.jobs import JobRecord
from hubstead.server.domain.mirrors import MirrorRecord, NewMirror
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.jobs import JobService
from hubstead.server.services.syncs import SyncService
from hubstead.server.services.upstreams import Source
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.fetches import FetchArea
from hubstead.server.storage.git_fetch import GitFetcher
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.mirrors import MirrorStore
from hubstead.server.storage.repos import RepoStore

SYNC_KIND = "mirror.sync"
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


@dataclasses.dataclass(frozen=True)
class MirrorConfig:
    """How a registered mirror follows its upstream.

    Empty `revisions` follows every branch and tag; `include`/`exclude` are glob patterns of the
    LFS files to fetch (pointer files are always copied, with the git history).
    """

    upstream: str
    token: str | None = dataclasses.field(default=None, repr=False)
    revisions: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    schedule_seconds: int | None = None


class MirrorService:
    """Mirror configurations, their sync jobs and schedules, and pull-through of unknown repos.

    Schedules and how long upstream's answers are remembered are measured on `clock`, the job
    service's: a sync due at `next_sync_at` is queued with its delay from the same now.
    """

    def __init__(
        self,
        accounts: AccountStore,
        repo_store: RepoStore,
        store: MirrorStore,
        git: GitObjectStore,
        fetcher: GitFetcher,
        syncs: SyncService,
        jobs: JobService,
        area: FetchArea,
        policy: PullThroughPolicy,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._accounts = accounts
        self._repo_store = repo_store
        self._store = store
        self._git = git
        self._fetcher = fetcher
        self._syncs = syncs
        self._jobs = jobs
        self._area = area
        self.policy = policy
        self._clock = clock
        self._missing = _Memory(_MISSING_SECONDS, clock)
        self._unreachable = _Memory(_UNREACHABLE_SECONDS, clock)

    # --- what RepoService asks (MirrorHooks) ------------------------------------------------

    def read_only_reason(self, repo: RepoRecord) -> str | None:
        """Why the repo cannot be written to locally: it is a mirror (None otherwise)."""
        mirror = self._store.get(repo.id)
        if mirror is None:
            return None
        return (
            f"{repo.repo_id} is a mirror of {mirror.upstream}: it changes only by syncing from "
            f"upstream (hubstead mirror sync {repo.repo_id})"
        )

    def pull(self, type: RepoType, repo_id: str) -> RepoRecord | None:
        """Mirror a repo this hub does not have from the pull-through upstream, git data first.

        Nothing is pulled when the policy does not allow the repo, or when its namespace is a
        local user or organization (a missing repo there is a local one). What upstream said
        is remembered for a while: a missing repo for a minute, an unreachable upstream for a
        few seconds (so a burst of requests does not wait on it one after another).

        Returns:
            The new repo, or None when upstream does not have it (or it is not pulled).

        Raises:
            UpstreamUnavailableError: upstream, which may have the repo, cannot be reached.
            UpstreamDeniedError: upstream refused the hub's upstream token.
        """
        upstream = self.policy.upstream
        namespace, _, name = repo_id.partition("/")
        missing_key = f"{type.value}/{repo_id.lower()}"
        if upstream is None or not self.policy.allows(type, repo_id):
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
                return self._create_pulled(Source(upstream, type, repo_id, self.policy.token))
            except errors.UpstreamNotFoundError:
                self._missing.put(missing_key, "missing")
                return None
            except errors.UpstreamUnavailableError as exc:
                self._unreachable.put(upstream, exc.message)
                raise

    def _create_pulled(self, source: Source) -> RepoRecord | None:
        """Create the repo with upstream's branches and tags, and record it as a mirror."""
        facts = self._syncs.upstream.repo(source)
        namespace, _, name = source.repo_id.partition("/")
        # The git data arrives before the repo row exists, so nobody sees the repo empty.
        key = uuid.uuid4().hex
        self._fetcher.init(key)
        try:
            refs = self._syncs.fetch_refs(key, source, ())
            self._fetcher.update_refs(key, [RefUpdate(n, None, t) for n, t in sorted(refs.items())])
            repo = self._repo_store.create_repo(
                source.type.value, namespace, name, key, facts.private
            )
        except BaseException as exc:
            self._git.delete(key)
            if isinstance(exc, AlreadyExistsError):  # created locally meanwhile
                return self._repo_store.get_repo(source.type.value, namespace, name)
            raise
        refresh = self.policy.refresh_seconds or None
        mirror = self._store.add(
            NewMirror(
                repo.id,
                source.endpoint,
                source.repo_id,
                None,  # the hub's upstream token, as it is when a sync runs
                schedule_seconds=refresh,
                on_demand=True,
                next_sync_at=self._clock() + dt.timedelta(seconds=refresh) if refresh else None,
            )
        )
        self._schedule(mirror)
        return self._syncs.refresh_row(repo, facts)

    # --- registered mirrors -------------------------------------------------------------------

    def add(self, type: RepoType, repo_id: str, config: MirrorConfig) -> MirrorRecord:
        """Register a mirror: an empty, private local repo that its first sync fills.

        The repo takes upstream's visibility at its first sync. A scheduled mirror gets its
        first sync queued now.

        Raises:
            InvalidRequestError: a bad repo id, upstream URL, revision, pattern or schedule.
            ConflictError: a repo with this id exists here already.
        """
        _check_config(repo_id, config)
        namespace, _, name = repo_id.partition("/")
        existing = self._repo_store.get_repo(type.value, namespace, name)
        if existing is not None:
            what = "a mirror" if self._store.get(existing.id) else "a local repo"
            raise errors.ConflictError(f"The {type.value} {repo_id} already exists here, as {what}")
        key = uuid.uuid4().hex
        self._fetcher.init(key)
        try:
            repo = self._repo_store.create_repo(type.value, namespace, name, key, True)
        except AlreadyExistsError:
            self._git.delete(key)
            raise errors.ConflictError(f"The {type.value} {repo_id} already exists here") from None
        schedule = config.schedule_seconds
        mirror = self._store.add(
            NewMirror(
                repo.id,
                config.upstream.rstrip("/"),
                repo_id,
                config.token,
                config.revisions,
                config.include,
                config.exclude,
                schedule,
                next_sync_at=self._clock() if schedule else None,
            )
        )
        self._schedule(mirror)
        return mirror

    def get(self, type: RepoType, repo_id: str) -> MirrorRecord:
        """The mirror of a repo.

        Raises:
            NotFoundError: the repo does not exist here, or is not a mirror.
        """
        namespace, _, name = repo_id.partition("/")
        repo = self._repo_store.get_repo(type.value, namespace, name)
        mirror = self._store.get(repo.id) if repo is not None else None
        if mirror is None:
            raise errors.NotFoundError(f"The {type.value} {repo_id} is not a mirror on this hub")
        return mirror

    def list(self) -> list[MirrorRecord]:
        """Every mirror, by repo type and id."""
        return self._store.list_all()

    def remove(self, type: RepoType, repo_id: str, *, delete_repo: bool = False) -> MirrorRecord:
        """Stop mirroring a repo: it stays as a local repo, or is deleted with `delete_repo`.

        Raises:
            NotFoundError: the repo is not a mirror.
        """
        mirror = self.get(type, repo_id)
        namespace, _, name = repo_id.partition("/")
        repo = self._repo_store.get_repo(type.value, namespace, name)
        self._store.remove(mirror.repo_id)
        if delete_repo and repo is not None:
            self._repo_store.delete_repo(repo.id)
            self._git.delete(repo.storage_key)
        return mirror

    # --- syncs --------------------------------------------------------------------------------

    def sync(self, type: RepoType, repo_id: str) -> JobRecord:
        """Queue a sync of the mirror; while one is queued or running, that one is returned.

        Raises:
            NotFoundError: the repo is not a mirror.
        """
        mirror = self.get(type, repo_id)
        return self._jobs.enqueue(SYNC_KIND, _payload(mirror), key=f"{SYNC_KIND}:{mirror.repo_id}")

    def for_sync(self, repo_row: int) -> tuple[MirrorRecord, RepoRecord]:
        """The mirror and repo a sync job names (by repo row id).

        Raises:
            NotFoundError: the repo was deleted or is no longer a mirror.
        """
        mirror = self._store.get(repo_row)
        repo = None
        if mirror is not None:
            namespace, _, name = mirror.local_id.partition("/")
            repo = self._repo_store.get_repo(mirror.repo_type, namespace, name)
        if mirror is None or repo is None:
            raise errors.NotFoundError(f"Repo {repo_row} is no longer a mirror: nothing to sync")
        return mirror, repo

    def finish_sync(self, mirror: MirrorRecord, error: str | None, *, schedule_next: bool) -> None:
        """Record how a sync ended, and queue the next scheduled one when asked."""
        now = self._clock()
        values: dict[str, object] = {"sync_error": error}
        if error is None:
            values["synced_at"] = now
        if schedule_next and mirror.schedule_seconds:
            values["next_sync_at"] = now + dt.timedelta(seconds=mirror.schedule_seconds)
        updated = self._store.update(mirror.repo_id, **values)
        if schedule_next and updated is not None:
            self._schedule(updated)

    def ensure_schedules(self) -> int:
        """Queue the next sync of every scheduled mirror that has none queued; how many."""
        return sum(self._schedule(mirror) for mirror in self._store.list_all())

    def _schedule(self, mirror: MirrorRecord) -> bool:
        """Queue the scheduled sync due at `next_sync_at` (deduplicated by that time)."""
        if not mirror.schedule_seconds or mirror.next_sync_at is None:
            return False
        due = mirror.next_sync_at
        delay = max(0.0, (due - self._clock()).total_seconds())
        key = f"{SYNC_KIND}:{mirror.repo_id}@{int(due.timestamp())}"
        payload = {**_payload(mirror), "scheduled": True}
        job = self._jobs.enqueue(SYNC_KIND, payload, key=key, delay=delay)
        return not job.state.finished


class _Memory:
    """Answers from upstream, remembered for `seconds` on `clock` (in this process)."""

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


def _payload(mirror: MirrorRecord) -> dict[str, object]:
    return {"repo": mirror.repo_id, "type": mirror.repo_type, "repo_id": mirror.local_id}


def _lock_name(purpose: str, type: RepoType, repo_id: str) -> str:
    digest = hashlib.sha256(f"{type.value}/{repo_id.lower()}".encode()).hexdigest()[:32]
    return f"{purpose}-{digest}"


def _check_config(repo_id: str, config: MirrorConfig) -> None:
    problem = repo_id_problem(repo_id)
    if problem is not None:
        raise errors.InvalidRequestError(f"Invalid repo id {repo_id!r}: {problem}")
    try:
        parts = urlsplit(config.upstream)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.InvalidRequestError(
            f"Invalid upstream {config.upstream!r}: an http(s) URL such as https://huggingface.co"
        )
    for pattern in (*config.revisions, *config.include, *config.exclude):
        if not pattern.strip():
            raise errors.InvalidRequestError("Revisions and patterns cannot be empty")
    if config.schedule_seconds is not None and config.schedule_seconds <= 0:
        raise errors.InvalidRequestError("A schedule must be a positive interval")
