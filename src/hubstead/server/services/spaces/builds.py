"""Building and running Spaces: which commits build, the `space.build` job's work, the supervisor.

**When.** `enqueue_pending` walks the hub-event outbox (its own cursor, `READER`): a Space's
creation, and each change that moves its default branch, queue a `space.build` job, unless the
Space is paused or asleep (a restart or the next request builds it then). A repo deleted,
renamed, made private or gated builds again the Spaces running with it as a volume (their
builds check it again: `volumes.py`). The job's dedupe key is the Space: a storm of commits
or restarts queues one build; one that comes while a build runs is caught by that build,
which checks the branch and its generation again when it ends.

A mirrored Space (`hubstead mirror`, pull-through) is never built: its code is upstream's, and
a pull-through fetch may be asked for by anyone. It is STOPPED, saying so.

**What.** `build` reads the configuration at the branch head (`config.py`): NO_APP_FILE and
CONFIG_ERROR end there; `static` is RUNNING without a process (the hub serves its files);
an SDK no runner here runs (docker without a Docker engine configured) is a CONFIG_ERROR
saying so. For the others, the Space's volumes are resolved (`volumes.py`: one its
namespace may no longer read is a CONFIG_ERROR naming it), the commit's files (large ones
from the object store) are written to a fresh folder under the data dir, then the runner
of the SDK builds (BUILDING, or RUNNING_BUILDING while an older app still serves) and
starts the app (APP_STARTING) with the volumes mounted, which
then is RUNNING at the address the runner returns. The build log is the job's and the
Space's (`LogKind.BUILD`); the app's output is the run log. An app that exits by itself is
RUNTIME_ERROR with its last lines.

**Who runs the app.** The runner is called from the job thread running the build, in the
process that claimed the job: that process owns the app (`SpaceState.owner`, `host:pid`) and
remembers it. Every process runs `supervise` from its outbox thread, about every
`job_poll_seconds`: for each app it started, if the Space's row no longer says that this
process serves it (paused, asleep, rebuilt elsewhere, deleted), it stops the app; if the Space
has a sleep time and no request came for that long (on the service clock), it puts it to sleep
and stops it. So a pause or a sleep asked in one process reaches the app in another through
the row, within one poll interval. An app whose owner process of this machine is gone (a
restarted hub) is built and started again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from hubstead.protocol import DEFAULT_BRANCH, RepoType, may_be_lfs_pointer, parse_lfs_pointer
from hubstead.server.domain.git import EntryKind
from hubstead.server.domain.hub_events import HubEventKind, HubEventRecord
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import (
    FREE_HARDWARE,
    LogKind,
    SpaceConfig,
    SpaceSdk,
    SpaceStage,
    SpaceState,
)
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.jobs import JobService
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.repos import RepoService
from hubstead.server.services.space_env import SpaceEnvService
from hubstead.server.services.spaces.config import SpaceConfigProblem, read_config
from hubstead.server.services.spaces.logs import LogWriter, SpaceLogs
from hubstead.server.services.spaces.runner import AppSpec, AppVolume, SdkRunners, SpaceRunError
from hubstead.server.services.spaces.volumes import VOLUME_TYPES, SpaceVolumes, VolumeProblem
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.hub_events import HubEventLog
from hubstead.server.storage.spaces import SpaceRuntimeStore, StageChange

logger = logging.getLogger("hubstead.spaces")

KIND = "space.build"
READER = "spaces"
"""The builder's cursor in the hub-event outbox."""
_BATCH = 200
_DEFAULT_REF = f"refs/heads/{DEFAULT_BRANCH}"
_ASLEEP = frozenset({SpaceStage.PAUSED, SpaceStage.SLEEPING})
_PASSING = frozenset(stage for stage in SpaceStage if stage.transitional)
NO_RUNNER = (
    "This hub has no runner for gradio and streamlit Spaces configured: ask its operator to "
    "configure one, or make the Space static"
)
MIRRORED = (
    "This Space is a mirror of {upstream}: this hub keeps its files but does not run mirrored "
    "apps (their code comes from upstream)"
)
NO_DOCKER = (
    "This hub has no Docker engine configured for docker Spaces: its operator can set "
    "spaces_docker_host to the socket of a Docker or podman engine (docs/operations.md), or "
    "the Space can use another SDK"
)


def queue_build(jobs: JobService, space_id: int) -> None:
    """Queue the Space's `space.build` job (one per Space at a time).

    What the build is to be (a factory restart's, without caches) is on the Space's row, not in
    the job: a restart merged into a job already queued or running is not lost.
    """
    # One attempt: a build that fails is the Space's stage, not something to retry.
    jobs.enqueue(KIND, {"space": space_id}, key=f"{KIND}:{space_id}", max_attempts=1)


def initial_state(
    space: RepoRecord, now: dt.datetime, *, stage: SpaceStage = SpaceStage.BUILDING
) -> SpaceState:
    """The row of a Space never built: BUILDING (its first build is queued with it)."""
    return SpaceState(
        repo_id=space.id,
        stage=stage,
        sdk=SpaceSdk(space.sdk) if space.sdk in set(SpaceSdk) else None,
        requested_hardware=FREE_HARDWARE,
        sleep_seconds=None,
        commit=None,
        address=None,
        owner=None,
        error=None,
        volumes=(),
        updated_at=now,
        last_request_at=None,
    )


def process_name() -> str:
    """This process, as a Space's `owner`: `host:pid`."""
    return f"{_host()}:{os.getpid()}"


def _host() -> str:
    return socket.gethostname()[:96]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class _Superseded(Exception):
    """The Space moved on (a newer build, a pause) while this build ran."""


class SpaceBuilder:
    """Queues builds for commits, runs them, and supervises the apps this process started."""

    def __init__(
        self,
        repos: RepoService,
        git: GitObjectStore,
        objects: LfsObjects,
        store: SpaceRuntimeStore,
        logs: SpaceLogs,
        env: SpaceEnvService,
        events: HubEventLog,
        jobs: JobService,
        runners: SdkRunners,
        volumes: SpaceVolumes,
        *,
        work_dir: Path,
        base_url: str,
        clock: Clock = utcnow,
    ) -> None:
        self._repos = repos
        self._git = git
        self._objects = objects
        self._store = store
        self._logs = logs
        self._env = env
        self._events = events
        self._jobs = jobs
        self._runners = runners
        self._volumes = volumes
        self._work_dir = work_dir
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._lock = threading.Lock()
        self._started: dict[int, int] = {}
        """The Spaces whose app this process started, with the generation that started it."""
        self._app_locks: dict[int, threading.Lock] = {}
        """Held while a Space's app is started, and while the supervisor decides about it."""

    # --- the outbox -----------------------------------------------------------------------

    def enqueue_pending(self) -> int:
        """Queue builds for the events after the cursor; how many were queued."""
        queued = 0
        with self._lock:
            cursor = self._events.cursor(READER)
            while events := self._events.list_events(cursor, _BATCH):
                for event in events:
                    queued += self._consider(event)
                    cursor = event.id
                self._events.advance(READER, cursor)
        return queued

    def _consider(self, event: HubEventRecord) -> int:
        if _may_close_volumes(event):
            return self._restart_mounting(event)
        if event.repo_type != RepoType.SPACE.value or not _builds(event):
            return 0
        space = self._repos.find(event.repo_id)
        if space is None or space.type != RepoType.SPACE.value or space.repo_id != event.repo_name:
            return 0
        if self._repos.upstream_of(space) is not None:
            return 0  # a mirror's app never runs here (`build` says so if asked)
        state = self._store.get(space.id)
        if state is not None and state.stage in _ASLEEP:
            return 0
        if state is None:
            self._store.ensure(space.id, initial_state(space, self._clock()))
        queue_build(self._jobs, space.id)
        return 1

    def _restart_mounting(self, event: HubEventRecord) -> int:
        """Build again the running (or building) Spaces that mount the event's repo.

        Their builds check the volume again: one their namespace may no longer read ends
        them in CONFIG_ERROR, and their apps stop.
        """
        queued = 0
        name = (event.repo_name or "").lower()
        for state in self._store.with_volumes():
            if not (state.stage.serving or state.stage.transitional) or not any(
                volume.source.lower() == name and _volume_type(volume.kind) == event.repo_type
                for volume in state.volumes
            ):
                continue
            stage = SpaceStage.RUNNING_BUILDING if state.stage.serving else SpaceStage.BUILDING
            if self._store.begin(state.repo_id, stage, self._clock()) is not None:
                queue_build(self._jobs, state.repo_id)
                queued += 1
        return queued

    # --- the job --------------------------------------------------------------------------

    def build(self, space_id: int, *, note: Callable[[str], None]) -> None:
        """Build the Space's default branch and start its app, until nothing newer is asked.

        `note` gets what the job's own log should say. A build that a newer one (or a pause)
        replaced while it ran gives way; when it ends, a commit or restart that came meanwhile
        is built next, in the same job. The runner builds without caches while a factory
        restart's request is on the row (`SpaceState.fresh_build`), until a build is done.
        """
        done: int | None = None
        while True:
            space = self._repos.find(space_id)
            if space is None or space.type != RepoType.SPACE.value:
                note("the Space was deleted")
                return
            state = self._store.get(space.id) or self._store.ensure(
                space.id, initial_state(space, self._clock())
            )
            if state is None:
                note("the Space was deleted")
                return
            head = self._git.resolve(space.storage_key, DEFAULT_BRANCH)
            upstream = self._repos.upstream_of(space)
            if upstream is not None:
                message = MIRRORED.format(upstream=upstream)
                stopped = self._store.begin(space.id, SpaceStage.STOPPED, self._clock())
                if stopped is not None:
                    change = StageChange(SpaceStage.STOPPED, state.sdk, head, error=message)
                    self._store.advance(space.id, stopped.generation, change, self._clock())
                note(message)
                return
            if state.stage in _ASLEEP:
                note(f"the Space is {state.stage.value.lower()}: not built")
                return
            if done is not None and state.generation == done and state.commit == head:
                return
            stage = SpaceStage.RUNNING_BUILDING if state.stage.serving else SpaceStage.BUILDING
            begun = self._store.begin(space.id, stage, self._clock())
            if begun is None:
                note("the Space was deleted")
                return
            state, done = begun, begun.generation
            fresh = " without caches" if state.fresh_build else ""
            note(f"building {space.repo_id} at {head}{fresh} (generation {done})")
            try:
                self._build_once(space, state, head)
            except _Superseded:
                note("a newer build or a pause replaced this one")
            except Exception as exc:  # the hub failed (disk, database): say so, then fail the job
                message = f"The build failed on the hub: {type(exc).__name__}: {exc}"
                change = StageChange(SpaceStage.BUILD_ERROR, state.sdk, head, error=message)
                self._store.advance(space.id, done, change, self._clock())
                raise

    def _build_once(self, space: RepoRecord, state: SpaceState, head: str | None) -> None:
        log = self._logs.start(space.id, LogKind.BUILD)
        try:
            self._build_steps(space, state, head, log)
        finally:
            log.close()

    def _build_steps(
        self, space: RepoRecord, state: SpaceState, head: str | None, log: LogWriter
    ) -> None:
        generation = state.generation
        serving = state.stage is SpaceStage.RUNNING_BUILDING
        # While an older app serves, its address and owner stay until the new one answers.
        address, owner = (state.address, state.owner) if serving else (None, None)

        def advance(change: StageChange) -> None:
            log.flush()  # what explains a stage is readable when the stage is
            if not self._store.advance(space.id, generation, change, self._clock()):
                raise _Superseded

        def fail(
            stage: SpaceStage, message: str, sdk: SpaceSdk | None, *, built: bool = False
        ) -> None:
            log(message)
            advance(StageChange(stage, sdk, head, error=message, built=built))

        if head is None:
            fail(SpaceStage.NO_APP_FILE, "The Space has no main branch", state.sdk)
            return
        log(f"Reading the configuration of {space.repo_id} at {head}")
        try:
            config = read_config(self._git, space, head)
        except SpaceConfigProblem as problem:
            fail(problem.stage, problem.message, state.sdk)
            return
        sdk = config.sdk
        if sdk is SpaceSdk.STATIC:
            log(f"Static Space: the hub serves {config.app_file} and the other files")
            advance(StageChange(SpaceStage.RUNNING, sdk, head))
            return
        if not self._runners.runs(sdk):
            fail(SpaceStage.CONFIG_ERROR, NO_DOCKER if sdk is SpaceSdk.DOCKER else NO_RUNNER, sdk)
            return
        try:
            volumes = self._volumes.resolve(space, state.volumes)
        except VolumeProblem as problem:
            fail(SpaceStage.CONFIG_ERROR, str(problem), sdk)
            return
        for volume in volumes:
            log(f"Mounting the {volume.name} at {volume.mount_path} (read-only)")
        building = SpaceStage.RUNNING_BUILDING if serving else SpaceStage.BUILDING
        advance(StageChange(building, sdk, head, address, owner))
        try:
            spec = self._spec(space, config, self._export(space, head, generation, log), volumes)
            self._runners.build(spec, log, fresh=state.fresh_build)
        except SpaceRunError as exc:
            fail(SpaceStage.BUILD_ERROR, str(exc), sdk, built=True)
            return
        starting = SpaceStage.RUNNING_APP_STARTING if serving else SpaceStage.APP_STARTING
        advance(StageChange(starting, sdk, head, address, owner, built=True))
        log("Build done; starting the app")
        self._start(space, spec, generation, head, sdk)

    def _start(
        self, space: RepoRecord, spec: AppSpec, generation: int, head: str, sdk: SpaceSdk
    ) -> None:
        run_log = self._logs.start(space.id, LogKind.RUN)

        def on_exit(status: int) -> None:
            run_log.close()
            self._forget(space.id, generation)
            lines = "\n".join(run_log.last_lines())
            message = f"The app exited with status {status}" + (
                f"\nIts last lines:\n{lines}" if lines else ""
            )
            self._store.advance(
                space.id,
                generation,
                StageChange(SpaceStage.RUNTIME_ERROR, sdk, head, error=message),
                self._clock(),
            )

        # The supervisor leaves a Space alone while its app is being started.
        with self._app_lock(space.id):
            try:
                address = self._runners.start(spec, run_log, on_exit)
            except SpaceRunError as exc:
                run_log.close()
                lines = "\n".join(run_log.last_lines())
                message = str(exc) + (f"\nIts last lines:\n{lines}" if lines else "")
                failed = StageChange(SpaceStage.RUNTIME_ERROR, sdk, head, error=message)
                if not self._store.advance(space.id, generation, failed, self._clock()):
                    raise _Superseded from None
                return
            with self._lock:
                self._started[space.id] = generation
            running = StageChange(
                SpaceStage.RUNNING, sdk, head, address=address, owner=process_name()
            )
            if not self._store.advance(space.id, generation, running, self._clock()):
                self._stop(space.id)
                raise _Superseded
        self._prune(space.id, spec.source_dir)

    def _spec(
        self,
        space: RepoRecord,
        config: SpaceConfig,
        source: Path,
        volumes: tuple[AppVolume, ...],
    ) -> AppSpec:
        public = f"/spaces/{space.repo_id}/app"
        host = urlsplit(self._base_url).netloc
        title = (space.card_data or {}).get("title")
        env = {
            **self._env.app_env(space),
            "SPACE_ID": space.repo_id,
            "SPACE_AUTHOR_NAME": space.namespace,
            "SPACE_REPO_NAME": space.name,
            "SPACE_TITLE": title if isinstance(title, str) else space.name,
            "SPACE_HOST": host,
            "SYSTEM": "spaces",
        }
        return AppSpec(
            key=str(space.id),
            repo_id=space.repo_id,
            config=config,
            source_dir=source,
            public_path=public,
            env=env,
            volumes=volumes,
        )

    def _export(self, space: RepoRecord, head: str, generation: int, log: LogWriter) -> Path:
        """Write the commit's files, large ones with their content, to a folder of their own.

        Raises:
            SpaceRunError: a large file whose content this hub does not hold.
        """
        target = self._work_dir / str(space.id) / f"source-{generation}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        count = 0
        for entry in self._git.list_tree(space.storage_key, head, "", recursive=True):
            if entry.kind is not EntryKind.FILE:
                continue
            path = target / entry.path
            if target not in path.resolve().parents:
                raise SpaceRunError(f"The file {entry.path!r} is outside the Space")
            path.parent.mkdir(parents=True, exist_ok=True)
            data = self._git.read_blob(space.storage_key, entry.oid)
            pointer = parse_lfs_pointer(data) if may_be_lfs_pointer(len(data)) else None
            with path.open("wb") as file:
                if pointer is None:
                    file.write(data)
                else:
                    self._write_object(file, entry.path, pointer[0])
            count += 1
        log(f"Wrote the {count} files of {head[:12]}")
        return target

    def _write_object(self, file: BinaryIO, path: str, sha256: str) -> None:
        held = self._objects.held(sha256)
        if held is None:
            raise SpaceRunError(f"The content of {path} ({sha256}) is missing from this hub")
        for piece in self._objects.content(held, sha256):
            file.write(piece)

    def _prune(self, space_id: int, keep: Path) -> None:
        """Remove the source folders of older builds."""
        for folder in (self._work_dir / str(space_id)).glob("source-*"):
            if folder != keep:
                shutil.rmtree(folder, ignore_errors=True)

    # --- the supervisor -------------------------------------------------------------------

    def supervise(self) -> None:
        """Stop the apps of this process that should not run; put idle ones to sleep.

        A Space whose app was started by a process of this machine that is gone (the hub was
        restarted, a worker died) is built and started again, and so is one left building with
        no live build job.
        """
        with self._lock:
            started = dict(self._started)
        me = process_name()
        now = self._clock()
        for space_id, generation in started.items():
            lock = self._app_lock(space_id)
            if not lock.acquire(blocking=False):  # being started: looked at next time
                continue
            try:
                self._supervise_one(space_id, generation, me, now)
            finally:
                lock.release()
        for state in self._store.owned_on(_host()):
            pid = (state.owner or "").rpartition(":")[2]
            if state.stage.serving and pid.isdigit() and not _alive(int(pid)):
                logger.info(
                    "the process running Space %s is gone: starting it again", state.repo_id
                )
                self._store.begin(state.repo_id, SpaceStage.BUILDING, now)
                queue_build(self._jobs, state.repo_id)
        # A build asked for while the Space's last build job was ending found that job still
        # running and was merged into it; a build job may also have died with its process.
        # Either leaves a Space in a passing stage with no live job: it is queued again (a
        # live job is returned instead, so this queues nothing twice).
        for space_id in self._store.in_stages(_PASSING):
            queue_build(self._jobs, space_id)

    def stop_apps(self) -> None:
        """Stop every app this process started (it is shutting down).

        Their rows still name this process: once it is gone, the supervisor of the next hub
        process on this machine builds and starts them again.
        """
        with self._lock:
            started = list(self._started)
        for space_id in started:
            self._stop(space_id)

    def _supervise_one(self, space_id: int, generation: int, me: str, now: dt.datetime) -> None:
        state = self._store.get(space_id)
        if state is None or state.owner != me or not state.stage.serving:
            self._stop(space_id)
        elif self._idle(state, now):
            asleep = self._store.begin(space_id, SpaceStage.SLEEPING, now)
            self._stop(space_id)
            if asleep is not None:
                change = StageChange(SpaceStage.SLEEPING, state.sdk, state.commit)
                self._store.advance(space_id, asleep.generation, change, now)
        elif state.generation != generation:
            with self._lock:
                self._started[space_id] = state.generation

    def _app_lock(self, space_id: int) -> threading.Lock:
        with self._lock:
            return self._app_locks.setdefault(space_id, threading.Lock())

    @staticmethod
    def _idle(state: SpaceState, now: dt.datetime) -> bool:
        if state.sleep_seconds is None:
            return False
        since = max(filter(None, (state.last_request_at, state.updated_at)))
        return (now - since).total_seconds() >= state.sleep_seconds

    def _stop(self, space_id: int) -> None:
        with self._lock:
            self._started.pop(space_id, None)
        self._runners.stop(str(space_id))

    def _forget(self, space_id: int, generation: int) -> None:
        with self._lock:
            if self._started.get(space_id) == generation:
                del self._started[space_id]


def _may_close_volumes(event: HubEventRecord) -> bool:
    """Whether the event may take a repo away from the Spaces mounting it.

    It was deleted, renamed, made private or gated.
    """
    if event.kind in (HubEventKind.REPO_DELETE, HubEventKind.REPO_MOVE):
        return True
    changed = event.payload.get("updatedConfig")
    return (
        event.kind is HubEventKind.REPO_CONFIG
        and isinstance(changed, dict)
        and (changed.get("private") is True or changed.get("gated") not in (None, False))
    )


def _volume_type(kind: str) -> str | None:
    type = VOLUME_TYPES.get(kind)
    return None if type is None else type.value


def _builds(event: HubEventRecord) -> bool:
    """Whether the event may change what a Space runs: its creation, or its main branch moved."""
    if event.kind is HubEventKind.REPO_CREATE:
        return True
    if event.kind is not HubEventKind.REPO_CONTENT:
        return False
    refs = event.payload.get("updatedRefs")
    return isinstance(refs, list) and any(
        isinstance(r, dict) and r.get("ref") == _DEFAULT_REF for r in refs
    )
