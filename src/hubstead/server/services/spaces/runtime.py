"""`SpaceRuntimeService`: a Space's runtime as its readers see it and its owners change it.

Access (platform.md §7.3): the runtime of a Space is shown to whoever may see the Space (the
Hub shows it in `space_info`), without its volumes and error details to those who may not
write to it; logs, restarts, pauses, sleep time, hardware and volumes need write access (a
write token of an owner or writer). A Space the caller may not see is as missing as one that
does not exist.

A change that needs the app to move is a new generation of the Space's row
(`SpaceRuntimeStore.begin`) and, for a restart, a `space.build` job (`builds.py`); the build
job, the supervisor of the process running the app and the proxy (`record_request`) do the
rest. Rules of this hub:

- hardware: `cpu-basic` only (the machine the hub runs on); other Hub flavors are refused.
- sleep time: None (`-1` on the wire) never sleeps, the default; otherwise at least
  `MIN_SLEEP_SECONDS` of idle time, after which the app is stopped (SLEEPING) until the next
  request wakes it. A static Space never sleeps: it has no process.
- volumes: other repos the caller may read, at absolute, non-overlapping paths, for the
  runner to mount read-only; not for static Spaces. Checked here, then again at each build as
  the Space's namespace (`volumes.py`). Setting or deleting them restarts the app, as the Hub
  does, unless it is paused or asleep (its next start mounts them).
- dev mode is not offered (enabling it is a 400; disabling it changes nothing).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import posixpath
import threading
from collections.abc import Sequence

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import (
    FREE_HARDWARE,
    LogKind,
    LogLine,
    SpaceSdk,
    SpaceStage,
    SpaceState,
    SpaceVolume,
)
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.jobs import JobService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.spaces.builds import MIRRORED, initial_state, queue_build
from hubstead.server.services.spaces.logs import SpaceLogs
from hubstead.server.services.spaces.templates import TEMPLATES, SpaceTemplate
from hubstead.server.services.spaces.volumes import VOLUME_TYPES
from hubstead.server.storage.spaces import SpaceRuntimeStore, SpaceSettings

MIN_SLEEP_SECONDS = 60
MAX_SLEEP_SECONDS = 2**31 - 1
MAX_VOLUMES = 10
REQUEST_WRITE_SECONDS = 30
"""The proxy's requests to a Space are written down at most this often (`record_request`)."""

HUB_FLAVORS = frozenset(
    {
        "cpu-basic", "cpu-upgrade", "cpu-performance", "cpu-xl", "zero-a10g", "t4-small",
        "t4-medium", "l4x1", "l4x4", "l40sx1", "l40sx4", "l40sx8", "a10g-small", "a10g-large",
        "a10g-largex2", "a10g-largex4", "a100-large", "a100x4", "a100x8", "h100", "h100x8",
        "h200", "h200x2", "h200x4", "h200x8", "inf2x6",
    }
)  # fmt: skip
"""The Hub's hardware flavors: asked for here, they get a clear "not on this hub"."""


@dataclasses.dataclass(frozen=True)
class Hardware:
    """A hardware flavor the hub offers: its name, and the machine it stands for."""

    name: str
    pretty_name: str
    cpu_count: int
    ram_bytes: int | None


def this_machine() -> Hardware:
    """`cpu-basic`: the CPUs and memory of the machine the hub runs on."""
    try:
        ram: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system that says
        ram = None
    return Hardware(FREE_HARDWARE, "CPU basic (the hub's machine)", os.cpu_count() or 1, ram)


# Stages a commit does not end: a build is under way, the owners stopped the app (a restart
# builds what is there), or the Space is a mirror's.
_NOT_REBUILT = frozenset(
    {
        *(stage for stage in SpaceStage if stage.transitional),
        SpaceStage.PAUSED,
        SpaceStage.SLEEPING,
        SpaceStage.STOPPED,
    }
)


_KEPT_STOPPED = frozenset({SpaceStage.PAUSED, SpaceStage.SLEEPING, SpaceStage.STOPPED})
"""Stages a change of volumes does not start the app from (its next start mounts them)."""


class SpaceRuntimeService:
    """Runtime state, settings and logs of Spaces."""

    def __init__(
        self,
        repos: RepoService,
        store: SpaceRuntimeStore,
        logs: SpaceLogs,
        jobs: JobService,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._repos = repos
        self._store = store
        self._logs = logs
        self._jobs = jobs
        self._clock = clock
        self._lock = threading.Lock()
        self._last_written: dict[int, float] = {}

    # --- reading ------------------------------------------------------------------------------

    def runtime(self, identity: Identity, repo_id: str) -> SpaceState:
        """The Space's runtime, as `shown_to` the caller.

        Raises:
            RepoNotFoundError: no such Space, or invisible to the caller.
        """
        return self.shown_to(identity, self._space(identity, repo_id, Action.READ))

    def shown_to(self, identity: Identity, space: RepoRecord) -> SpaceState:
        """The runtime of a Space the caller may see (repo info, listings), as they may see it.

        Readers who may not write to the Space get neither its volumes (they may name private
        repos its owners can read) nor more than the first line of its error (an app's last
        lines may print what its secrets hold, as its logs may).
        """
        state = self.state_of(space)
        if access.may(identity, space, Action.WRITE):
            return state
        error = None if state.error is None else state.error.partition("\n")[0]
        return dataclasses.replace(state, volumes=(), error=error)

    def state_of(self, space: RepoRecord) -> SpaceState:
        """The runtime of a Space the caller already may see (repo info, the proxy).

        A Space without a row yet (made before this hub ran Spaces, or whose first build is
        not queued yet) gets one, BUILDING, and its build is queued; a mirrored one is
        STOPPED (mirrored apps do not run here). A Space whose main branch moved past what it
        last built is BUILDING from then on, its build queued: a commit's author who looks at
        once never sees the stage of the commit before (the build job may not have been
        queued by then).
        """
        state = self._store.get(space.id)
        if state is not None:
            if space.head is None or state.commit == space.head or state.stage in _NOT_REBUILT:
                return state
            stage = SpaceStage.RUNNING_BUILDING if state.stage.serving else SpaceStage.BUILDING
            state = _present(space, self._store.begin(space.id, stage, self._clock()))
            queue_build(self._jobs, space.id)
            return state
        upstream = self._repos.upstream_of(space)
        if upstream is not None:
            stopped = initial_state(space, self._clock(), stage=SpaceStage.STOPPED)
            message = MIRRORED.format(upstream=upstream)
            return _present(
                space, self._store.ensure(space.id, dataclasses.replace(stopped, error=message))
            )
        state = _present(space, self._store.ensure(space.id, initial_state(space, self._clock())))
        queue_build(self._jobs, space.id)
        return state

    def logs(
        self, identity: Identity, repo_id: str, kind: LogKind, after: int = -1, limit: int = 1000
    ) -> list[LogLine]:
        """Up to `limit` lines of one of the Space's logs, numbered above `after`.

        Logs need write access: an app may print what its secrets hold. A follower calls
        again with the last number it got, so access is checked at every poll.

        Raises:
            RepoNotFoundError: see `runtime`.
            AuthenticationError, AuthorizationError: the caller may not write to the Space.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        return self._logs.lines(space.id, kind, after, limit)

    @staticmethod
    def hardware() -> list[Hardware]:
        """The hardware this hub offers (anyone may ask)."""
        return [this_machine()]

    @staticmethod
    def templates() -> Sequence[SpaceTemplate]:
        """The templates a new Space may start from (anyone may ask)."""
        return TEMPLATES

    # --- owners' changes --------------------------------------------------------------------

    def restart(self, identity: Identity, repo_id: str, *, factory: bool = False) -> SpaceState:
        """Build the Space's default branch again and start it, paused or not.

        `factory` builds without any cache: the request is on the Space's row, so a build
        already queued or running does it. Several restarts in a row build once.

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        current = self.state_of(space)
        stage = SpaceStage.RUNNING_BUILDING if current.stage.serving else SpaceStage.BUILDING
        state = _present(space, self._store.begin(space.id, stage, self._clock(), fresh=factory))
        queue_build(self._jobs, space.id)
        return state

    def pause(self, identity: Identity, repo_id: str) -> SpaceState:
        """Stop the Space's app and keep it stopped (commits do not build it) until a restart.

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        self.state_of(space)
        return _present(space, self._store.begin(space.id, SpaceStage.PAUSED, self._clock()))

    def set_sleep_time(self, identity: Identity, repo_id: str, seconds: int | None) -> SpaceState:
        """Stop the app after `seconds` without requests (None or -1: never).

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
            InvalidRequestError: fewer than `MIN_SLEEP_SECONDS`, or more than 68 years.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        state = self.state_of(space)
        return self._configure(
            space, dataclasses.replace(_settings(state), sleep_seconds=_sleep_seconds(seconds))
        )

    def request_hardware(
        self, identity: Identity, repo_id: str, flavor: str, sleep_seconds: int | None = None
    ) -> SpaceState:
        """Ask for a hardware flavor (and a sleep time with it): `cpu-basic` is all there is.

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
            InvalidRequestError: another flavor, or a bad sleep time.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        check_hardware(flavor)
        state = self.state_of(space)
        sleep = state.sleep_seconds if sleep_seconds is None else _sleep_seconds(sleep_seconds)
        return self._configure(space, SpaceSettings(flavor, sleep, state.volumes))

    def set_dev_mode(self, identity: Identity, repo_id: str, enabled: bool) -> SpaceState:
        """Dev mode (editing a running Space in place) is not offered: enabling it is refused.

        Disabling it changes nothing and answers the runtime.

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
            InvalidRequestError: `enabled`, for a Space the caller may change.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        if enabled:
            raise errors.InvalidRequestError(
                "Dev mode is not available on this hub: change the Space with commits instead"
            )
        return self.state_of(space)

    def set_volumes(
        self, identity: Identity, repo_id: str, volumes: Sequence[SpaceVolume]
    ) -> SpaceState:
        """Replace the repos mounted into the Space's app (read-only).

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
            InvalidRequestError: a static Space, a bad type or path, overlapping mount paths,
                or a source repo or revision that does not exist or the caller may not read.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        state = self.state_of(space)
        if (state.sdk or space.sdk) == SpaceSdk.STATIC:
            raise errors.InvalidRequestError("A static Space has no app to mount volumes into")
        checked = self._check_volumes(identity, volumes)
        self._configure(space, dataclasses.replace(_settings(state), volumes=checked))
        return self._remount(space)

    def delete_volumes(self, identity: Identity, repo_id: str) -> SpaceState:
        """Unmount every volume.

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `logs`.
            InvalidRequestError: the Space has no volumes.
        """
        space = self._space(identity, repo_id, Action.WRITE)
        state = self.state_of(space)
        if not state.volumes:
            raise errors.InvalidRequestError("The Space has no volumes to delete")
        self._configure(space, dataclasses.replace(_settings(state), volumes=()))
        return self._remount(space)

    def check_initial(
        self,
        identity: Identity,
        hardware: str | None,
        sleep_seconds: int | None,
        volumes: Sequence[SpaceVolume],
        sdk: str | None,
    ) -> SpaceSettings:
        """The settings a new Space is created with (`create_repo`), checked before it exists.

        Raises:
            InvalidRequestError: see `request_hardware`, `set_sleep_time` and `set_volumes`.
        """
        if hardware is not None:
            check_hardware(hardware)
        if volumes and sdk == SpaceSdk.STATIC:
            raise errors.InvalidRequestError("A static Space has no app to mount volumes into")
        return SpaceSettings(
            hardware or FREE_HARDWARE,
            _sleep_seconds(sleep_seconds),
            self._check_volumes(identity, volumes),
        )

    def give_initial(self, space: RepoRecord, settings: SpaceSettings) -> SpaceState:
        """Store the settings (passed by `check_initial`) of a Space the caller just created."""
        self.state_of(space)
        return self._configure(space, settings)

    # --- the proxy ------------------------------------------------------------------------

    def record_request(self, space: RepoRecord) -> SpaceState:
        """Note a request the proxy forwards to the Space's app; wake it if it sleeps.

        Called for every request, written at most every `REQUEST_WRITE_SECONDS` per Space
        (the idle time is measured in minutes). The caller checked access.
        """
        state = self.state_of(space)
        now = self._clock()
        if state.stage is SpaceStage.SLEEPING:
            state = _present(space, self._store.begin(space.id, SpaceStage.BUILDING, now))
            queue_build(self._jobs, space.id)
        with self._lock:
            last = self._last_written.get(space.id)
            stamp = now.timestamp()
            if last is not None and stamp - last < REQUEST_WRITE_SECONDS:
                return state
            self._last_written[space.id] = stamp
        self._store.touch(space.id, now)
        return state

    # --- internals ------------------------------------------------------------------------

    def _space(self, identity: Identity, repo_id: str, action: Action) -> RepoRecord:
        return self._repos.locate(identity, RepoType.SPACE, repo_id, action)

    def _configure(self, space: RepoRecord, settings: SpaceSettings) -> SpaceState:
        return _present(space, self._store.configure(space.id, settings, self._clock()))

    def _remount(self, space: RepoRecord) -> SpaceState:
        """Build and start the app again, with the volumes just set.

        A build under way is replaced (it read the volumes before); a paused or sleeping
        Space stays so.
        """
        current = self.state_of(space)
        if current.stage in _KEPT_STOPPED:
            return current
        stage = SpaceStage.RUNNING_BUILDING if current.stage.serving else SpaceStage.BUILDING
        state = _present(space, self._store.begin(space.id, stage, self._clock()))
        queue_build(self._jobs, space.id)
        return state

    def _check_volumes(
        self, identity: Identity, volumes: Sequence[SpaceVolume]
    ) -> tuple[SpaceVolume, ...]:
        if len(volumes) > MAX_VOLUMES:
            raise errors.InvalidRequestError(f"A Space may mount at most {MAX_VOLUMES} volumes")
        checked: list[SpaceVolume] = []
        for volume in volumes:
            type = VOLUME_TYPES.get(volume.kind)
            if type is None:
                raise errors.InvalidRequestError(
                    f"Volumes of type {volume.kind!r} are not available on this hub: "
                    "mount a model, dataset or space"
                )
            mount = volume.mount_path
            if not mount.startswith("/") or posixpath.normpath(mount) in ("/", "//"):
                raise errors.InvalidRequestError(
                    f"A mount path must be an absolute path below /, not {mount!r}"
                )
            if volume.path is not None and (
                volume.path.startswith("/") or ".." in volume.path.split("/")
            ):
                raise errors.InvalidRequestError(
                    f"A volume's path must be a folder inside its repo, not {volume.path!r}"
                )
            try:
                self._repos.open(identity, type, volume.source, Action.READ_FILES, volume.revision)
            except errors.RevisionNotFoundError:
                raise errors.InvalidRequestError(
                    f"The {volume.kind} {volume.source!r} has no revision {volume.revision!r}"
                ) from None
            except (errors.NotFoundError, errors.AuthenticationError, errors.AuthorizationError):
                raise errors.InvalidRequestError(
                    f"No {volume.kind} {volume.source!r} that you can read: a Space may only "
                    "mount repos its owner can read"
                ) from None
            checked.append(dataclasses.replace(volume, mount_path=posixpath.normpath(mount)))
        paths = sorted(v.mount_path for v in checked)
        for first, second in itertools.pairwise(paths):
            if second == first or second.startswith(first.rstrip("/") + "/"):
                raise errors.InvalidRequestError(
                    f"The mount paths {first!r} and {second!r} overlap"
                )
        return tuple(checked)


def check_hardware(flavor: str) -> None:
    """Refuse any flavor but `cpu-basic`, saying what this hub offers.

    Raises:
        InvalidRequestError: another flavor of the Hub, or an unknown one.
    """
    if flavor == FREE_HARDWARE:
        return
    if flavor in HUB_FLAVORS:
        raise errors.InvalidRequestError(
            f"This hub offers {FREE_HARDWARE} only (Spaces run on the hub's machine): "
            f"{flavor!r} is not available"
        )
    raise errors.InvalidRequestError(
        f"Unknown hardware flavor {flavor!r}: this hub offers {FREE_HARDWARE}"
    )


def _sleep_seconds(seconds: int | None) -> int | None:
    if seconds is None or seconds == -1:
        return None
    if not MIN_SLEEP_SECONDS <= seconds <= MAX_SLEEP_SECONDS:
        raise errors.InvalidRequestError(
            f"A sleep time is -1 (never sleep) or at least {MIN_SLEEP_SECONDS} seconds, "
            f"not {seconds}"
        )
    return seconds


def _settings(state: SpaceState) -> SpaceSettings:
    return SpaceSettings(state.requested_hardware, state.sleep_seconds, state.volumes)


def _present(space: RepoRecord, state: SpaceState | None) -> SpaceState:
    """The row of a Space that was there a moment ago; deleted meanwhile, it is not found.

    Raises:
        RepoNotFoundError: the Space was deleted since it was located.
    """
    if state is None:
        raise errors.RepoNotFoundError(
            f"Repository not found: space {space.repo_id}", anonymous=False
        )
    return state
