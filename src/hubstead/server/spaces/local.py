"""The local runner: Space apps as processes of this machine, each as a user of its own.

`build` makes the app's environment (`envs.py`). `start` copies the Space's files into a
working dir of its own (`apps/<key>-<run>`, fresh each start and removed when the app
ends, mode 0700, owned by the app's user)
and starts the SDK's server on a free loopback port, as the app's user (`spaces_uid_base`
+ 1 + the Space's id: no two Spaces share one, and none is the hub's), with the resource
limits of the settings and an environment made from nothing: PATH, HOME, LANG, TMPDIR, the
Space's variables and secrets, the SDK's settings. The Space's volumes are trees of files
under `volumes/` (`volumes.py`) that the launcher binds read-only at their mount paths, in
the app's own mount namespace, where the hub's data dir is hidden too. Two threads per app
pass its output to its log and wait for its end. See docs/security.md for what this
isolates, and what not.

When the hub lacks the capabilities this takes (root's, or those the packaged systemd unit
gives its user: `processes.CAPABILITIES`) it cannot switch users, and refuses to build or
start anything unless `spaces_allow_same_user` says apps may run as the hub's user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from hubstead.server.domain.spaces import AppAddress, SpaceSdk
from hubstead.server.services.spaces.runner import (
    AppSpec,
    ExitListener,
    LogSink,
    SpaceRunError,
    SpaceRunner,
)
from hubstead.server.settings import Settings
from hubstead.server.spaces.envs import SYSTEM_PATH, Environments, PackageIndex
from hubstead.server.spaces.processes import (
    MOUNT_CAPABILITIES,
    Identity,
    Limits,
    kill_user,
    make_directory,
    missing_capabilities,
    pump,
    spawn,
    stop_group,
)
from hubstead.server.spaces.volumes import VolumeTrees, mount_point

LOOPBACK = "127.0.0.1"
_POLL_SECONDS = 0.2
_TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_TCP_LISTEN = "0A"
_FLUSH_SECONDS = 2.0
_PYPI = PackageIndex()
_UNLIMITED = Limits(memory_bytes=None, open_files=None, processes=None, nice=0)


@dataclasses.dataclass(frozen=True)
class UserRange:
    """The user ids of builds and apps: one per Space id after `base`.

    The builder's is `builder_uid`, or `base` itself.
    """

    base: int
    count: int
    builder_uid: int | None = None

    def app(self, key: str) -> Identity:
        """The user of the app of the Space `key` (its id)."""
        if not key.isdecimal() or not 0 <= int(key) < self.count - 1:
            raise SpaceRunError(f"No user id for the Space {key!r} in the configured range")
        uid = self.base + 1 + int(key)
        return Identity(uid=uid, gid=uid)

    @property
    def builder(self) -> Identity:
        """The user environments are built as."""
        uid = self.base if self.builder_uid is None else self.builder_uid
        return Identity(uid=uid, gid=uid)


@dataclasses.dataclass
class _App:
    process: subprocess.Popen[bytes]
    identity: Identity
    workdir: Path
    reader: threading.Thread
    mounted: bool
    stopped: bool = False


class LocalProcessRunner:
    """A `SpaceRunner` of processes of this machine, its files under `root`.

    Environments and the package cache are under `env_root` (by default `root`), which runners
    of several hubs may share: `hold` must then hold locks they all see.

    `users` is None when the hub does not switch users (apps run as its own); `protected`
    lists directories no app may reach (the data dir), checked before every build and start.
    """

    def __init__(
        self,
        root: Path,
        *,
        hold: Callable[[str], AbstractContextManager[None]],
        users: UserRange | None,
        env_root: Path | None = None,
        protected: Sequence[Path] = (),
        index: PackageIndex = _PYPI,
        python: str | None = None,
        limits: Limits = _UNLIMITED,
        start_timeout_seconds: float = 300.0,
        stop_grace_seconds: float = 10.0,
    ) -> None:
        self._root = root
        self._apps_dir = root / "apps"
        self._volumes = VolumeTrees(root / "volumes", hold)
        self._reserved = (root, env_root or root, *protected)
        self._users = users
        self._protected = tuple(protected)
        self._limits = limits
        self._start_timeout = start_timeout_seconds
        self._grace = stop_grace_seconds
        # Without the capabilities nothing is built or started (`_check_isolation`), nor
        # chowned now.
        builder = Identity(uid=None)
        if users is not None and not missing_capabilities():
            builder = users.builder
        self.environments = Environments(
            env_root or root, hold=hold, index=index, python=python, builder=builder, limits=limits
        )
        self._apps: dict[str, _App] = {}
        self._lock = threading.Lock()

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> None:
        """Build the environment of `spec`'s app (see `SpaceRunner.build`)."""
        self._prepare()
        self._check_isolation()
        self.environments.build(spec, log, fresh=fresh)

    def start(self, spec: AppSpec, log: LogSink, on_exit: ExitListener) -> AppAddress:
        """Start `spec`'s app and wait until it listens (see `SpaceRunner.start`)."""
        self._prepare()
        self._check_isolation()
        self.stop(spec.key)
        env_dir = self.environments.path(spec)
        if not env_dir.is_dir():
            raise SpaceRunError("The app's environment is not built: build the Space first")
        identity = self._identity(spec.key)
        if identity.uid is not None:
            # What a hub process that ended left running of this Space (its apps outlive it).
            kill_user(identity.uid)
        workdir = self._workdir(spec, identity)
        try:
            mounts = self._mounts(spec, workdir.name)
        except Exception:
            self._volumes.remove(workdir.name)
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        port = _free_port()
        command, root_path = _command(spec, env_dir, port)
        env = _environment(spec, env_dir, workdir, port)
        process = spawn(
            command,
            identity=identity,
            limits=self._limits,
            env=env,
            cwd=workdir,
            umask=0o077,
            mounts=mounts,
            masks=self._masks(env_dir) if mounts else (),
        )
        assert process.stdout is not None
        reader = threading.Thread(
            target=pump, args=(process.stdout, log), name=f"space-{spec.key}-log", daemon=True
        )
        reader.start()
        app = _App(process, identity, workdir, reader, bool(mounts))
        self._wait_listening(app, port, os.geteuid() if identity.uid is None else identity.uid)
        with self._lock:
            self._apps[spec.key] = app
        threading.Thread(
            target=self._watch,
            args=(spec.key, app, on_exit),
            name=f"space-{spec.key}-exit",
            daemon=True,
        ).start()
        return AppAddress(host=LOOPBACK, port=port, root_path=root_path)

    def stop(self, key: str) -> None:
        """Stop the app of `key`, its process group and every process of its user."""
        with self._lock:
            app = self._apps.pop(key, None)
            if app is None:
                return
            app.stopped = True
        self._end(app)

    def running(self, key: str) -> bool:
        """Whether the app of `key` runs in this process's care."""
        with self._lock:
            app = self._apps.get(key)
        return app is not None and app.process.poll() is None

    def _prepare(self) -> None:
        """Make the runner's directories (and those above it), at the first build or start.

        Not before: a hub may never run a Space, and commands building the services run none.
        """
        self._root.mkdir(parents=True, exist_ok=True)
        self._root.chmod(0o711)
        make_directory(self._apps_dir, 0o711)

    def close(self) -> None:
        """Nothing to release: the runner holds nothing open but its apps."""

    def _identity(self, key: str) -> Identity:
        return self._users.app(key) if self._users is not None else Identity(uid=None)

    def _check_isolation(self) -> None:
        if self._users is None:
            return
        missing = missing_capabilities()
        if missing:
            raise SpaceRunError(
                f"The hub lacks the capabilities {', '.join(missing)}, so it cannot run Space "
                "apps as users of their own: run it as root or give it them (the packaged "
                "systemd unit's AmbientCapabilities, docs/operations.md), or set "
                "spaces_allow_same_user to run apps as the hub's user (they can then read "
                "everything the hub can: docs/security.md)"
            )
        for path in self._protected:
            mode = path.stat().st_mode
            if mode & 0o007:
                raise SpaceRunError(
                    f"{path} is open to other users (mode {mode & 0o777:o}), so Space apps "
                    f"could read the hub's files there: chmod o-rwx {path}"
                )
        for directory in self._root.parents:
            if not directory.stat().st_mode & 0o001:
                raise SpaceRunError(
                    f"Space apps cannot reach {self._root}: {directory} is not searchable by "
                    f"other users (chmod o+x it, or set spaces_dir elsewhere)"
                )

    def _workdir(self, spec: AppSpec, identity: Identity) -> Path:
        """A fresh copy of the Space's files, private to its user, for one run.

        Each run has a directory of its own, so the end of an earlier run (noticed by another
        hub process, say) never removes a later one's. Those of runs whose processes are gone
        (the caller has just ended them all) are removed.
        """
        for leftover in self._apps_dir.glob(f"{spec.key}-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for run in self._volumes.leftovers(f"{spec.key}-"):
            self._volumes.remove(run)
        workdir = Path(tempfile.mkdtemp(prefix=f"{spec.key}-", dir=self._apps_dir))
        # Links are copied as links: following them would copy what only the hub may read.
        shutil.copytree(spec.source_dir, workdir, symlinks=True, dirs_exist_ok=True)
        (workdir / ".tmp").mkdir(exist_ok=True)
        workdir.chmod(0o700)
        identity.own(workdir)
        return workdir

    def _mounts(self, spec: AppSpec, run: str) -> list[tuple[Path, Path]]:
        """The trees of the run's volumes, each with the folder it is mounted at.

        Raises:
            SpaceRunError: the hub cannot mount (it lacks `MOUNT_CAPABILITIES`), or a mount
                path it refuses (see `mount_point`).
        """
        if not spec.volumes:
            return []
        missing = missing_capabilities(MOUNT_CAPABILITIES)
        if missing:
            raise SpaceRunError(
                f"The hub lacks the capability {', '.join(missing)}, so it cannot mount volumes "
                "into apps: delete the Space's volumes, or give the hub that capability (see "
                "Space volumes in docs/operations.md)"
            )
        points = [mount_point(volume.mount_path, self._reserved) for volume in spec.volumes]
        return list(zip(self._volumes.make(run, spec.volumes), points, strict=True))

    def _masks(self, env_dir: Path) -> list[Path]:
        """The protected folders an app with volumes does not see at all (an empty one instead).

        Those holding what the app needs (the runner's folder, its environment) stay, closed
        by their modes alone.
        """
        needed = (self._root, env_dir)
        return [
            folder
            for folder in self._protected
            if not any(folder == path or folder in path.parents for path in needed)
        ]

    def _wait_listening(self, app: _App, port: int, uid: int) -> None:
        """Wait until a socket of `uid` listens on `port`, or the app ends, or time is up.

        A connection would not tell whose socket answers: another Space's app that took the
        port first would be given this one's visitors.
        """
        deadline = time.monotonic() + self._start_timeout
        while True:
            status = app.process.poll()
            if status is not None:
                app.reader.join(_FLUSH_SECONDS)
                self._end(app)
                raise SpaceRunError(f"The app exited with status {status}")
            listeners = _listeners(port)
            if listeners - {uid}:
                self._end(app)
                raise SpaceRunError(f"Another program took the app's port {port}: start it again")
            if uid in listeners:
                return
            if time.monotonic() >= deadline:
                self._end(app)
                raise SpaceRunError(
                    f"The app did not listen on its port within {self._start_timeout:g} s"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                app.process.wait(_POLL_SECONDS)

    def _watch(self, key: str, app: _App, on_exit: ExitListener) -> None:
        status = app.process.wait()
        # Its last lines reach the log before anyone hears of its end.
        app.reader.join(_FLUSH_SECONDS)
        with self._lock:
            if app.stopped:
                return
            if self._apps.get(key) is app:
                del self._apps[key]
        self._end(app)
        on_exit(status)

    def _end(self, app: _App) -> None:
        """Stop what is left of `app` (its group, anything else of its user); drop its files."""
        stop_group(app.process, grace_seconds=self._grace)
        if app.identity.uid is not None:
            kill_user(app.identity.uid)
        app.reader.join(_FLUSH_SECONDS)
        shutil.rmtree(app.workdir, ignore_errors=True)
        if app.mounted:
            self._volumes.remove(app.workdir.name)


def local_runner(
    settings: Settings, hold: Callable[[str], AbstractContextManager[None]]
) -> SpaceRunner:
    """The local runner the settings describe.

    `hold` holds a lock shared by every process using `spaces_env_dir` (its environments).
    """
    return LocalProcessRunner(
        settings.effective_spaces_dir,
        env_root=settings.effective_spaces_env_dir,
        hold=hold,
        users=(
            None
            if settings.spaces_allow_same_user and missing_capabilities()
            else UserRange(
                settings.spaces_uid_base, settings.spaces_uid_count, settings.spaces_builder_uid
            )
        ),
        protected=(settings.resolved_data_dir,),
        index=PackageIndex(
            url=settings.spaces_index_url,
            find_links=settings.spaces_find_links,
            no_index=settings.spaces_no_index,
        ),
        python=settings.spaces_python,
        limits=Limits(
            memory_bytes=settings.spaces_memory_bytes,
            open_files=settings.spaces_open_files,
            processes=settings.spaces_processes,
            nice=settings.spaces_nice,
        ),
        start_timeout_seconds=settings.spaces_start_timeout_seconds,
    )


def _command(spec: AppSpec, env_dir: Path, port: int) -> tuple[list[str], str]:
    """The app's command line, and the path it serves under (its `AppAddress.root_path`)."""
    python = str(env_dir / "bin" / "python")
    if spec.config.sdk is SpaceSdk.GRADIO:
        return [python, spec.config.app_file], ""
    if spec.config.sdk is SpaceSdk.STREAMLIT:
        base = spec.public_path.strip("/")
        command = [python, "-m", "streamlit", "run", spec.config.app_file]
        command += [
            f"--server.port={port}",
            f"--server.address={LOOPBACK}",
            f"--server.baseUrlPath={base}",
            "--server.headless=true",
            # The hub's proxy is the app's origin: requests and websockets come from the
            # hub's host, not the app's. Streamlit turns CORS back on unless XSRF is off.
            "--server.enableCORS=false",
            "--server.enableXsrfProtection=false",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ]
        return command, f"/{base}" if base else ""
    raise SpaceRunError(f"The local runner does not run {spec.config.sdk} Spaces")


def _environment(spec: AppSpec, env_dir: Path, workdir: Path, port: int) -> dict[str, str]:
    """The app's whole environment: nothing of the hub's, the runner's own settings last."""
    env = dict(spec.env)
    env.update(
        PATH=f"{env_dir / 'bin'}:{SYSTEM_PATH}",
        HOME=str(workdir),
        LANG="C.UTF-8",
        TMPDIR=str(workdir / ".tmp"),
        VIRTUAL_ENV=str(env_dir),
        PYTHONUNBUFFERED="1",
    )
    if spec.config.sdk is SpaceSdk.GRADIO:
        env.update(
            GRADIO_SERVER_NAME=LOOPBACK,
            GRADIO_SERVER_PORT=str(port),
            GRADIO_ROOT_PATH=spec.public_path.rstrip("/"),
            GRADIO_ANALYTICS_ENABLED="False",
        )
    return env


def _free_port() -> int:
    """A loopback port free now (the app binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _listeners(port: int) -> set[int]:
    """The users of the TCP sockets listening on `port` of any address of this machine."""
    uids = set()
    for table in _TCP_TABLES:
        with contextlib.suppress(FileNotFoundError):
            for row in table.read_text().splitlines()[1:]:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if fields[3] == _TCP_LISTEN and local_port == port:
                    uids.add(int(fields[7]))
    return uids
