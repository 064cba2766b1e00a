"""Mirror configurations: registering, listing and removing mirrors, and scheduling their syncs.

A mirrored repo is a local repo whose refs and LFS objects come only from its upstream (see
`syncs.py` for how a sync copies them, with the same commit ids). Operators register mirrors
with `add` (`hubstead mirror add`); `sync` queues a `mirror.sync` job, deduplicated per repo,
that `jobs/sync.py` runs. A mirror with a schedule gets its next sync queued when one ends
(`finish_sync`); `ensure_schedules` re-queues lost ones. Repos that pull-through creates are
recorded here too, as on-demand mirrors (`add_pulled`). Local writers cannot change a mirror:
`RepoService` refuses every write to a repo with a mirror row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from urllib.parse import urlsplit

from hubstead.protocol import RepoType, repo_id_problem
from hubstead.server import errors
from hubstead.server.domain.jobs import JobRecord
from hubstead.server.domain.mirrors import MirrorRecord, NewMirror, Source
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.jobs import JobService
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.git_fetch import GitFetcher
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.mirrors import MirrorStore
from hubstead.server.storage.repos import RepoStore

SYNC_KIND = "mirror.sync"


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
    """Mirror configurations, their sync jobs and schedules.

    Schedules are measured on `clock`, the job service's: a sync due at `next_sync_at` is queued
    with its delay from the same now.
    """

    def __init__(
        self,
        repo_store: RepoStore,
        store: MirrorStore,
        git: GitObjectStore,
        fetcher: GitFetcher,
        jobs: JobService,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._repo_store = repo_store
        self._store = store
        self._git = git
        self._fetcher = fetcher
        self._jobs = jobs
        self._clock = clock

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
        except AlreadyExistsError as exc:
            self._git.delete(key)
            raise errors.ConflictError(f"The {type.value} {repo_id} already exists here") from exc
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

    def add_pulled(self, repo: RepoRecord, source: Source, refresh_seconds: int) -> MirrorRecord:
        """Record a repo pull-through created as an on-demand mirror of `source`.

        Its LFS files are fetched when first downloaded, not by its syncs; with a positive
        `refresh_seconds`, a sync refreshes its branches and tags that often, the first one
        queued now (due then).
        """
        refresh = refresh_seconds or None
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


def _payload(mirror: MirrorRecord) -> dict[str, object]:
    return {"repo": mirror.repo_id, "type": mirror.repo_type, "repo_id": mirror.local_id}


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
