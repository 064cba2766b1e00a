"""The Docker runner: docker Spaces as containers of a Docker engine (Docker, or podman).

`build` sends the Space's files as the build context (its Dockerfile at the root) and tags
the image `<prefix>-space-<key>`, labelled with the hub and the Space; its progress is the build
log, and the engine's error the build's. Older images of the Space are removed once a build
succeeds, and once the container of an older one is replaced. `start` replaces any container
of that name with a new one: the image's command, the Space's variables and secrets (and
`PORT`, its `app_port`) as its environment, `app_port` published on an ephemeral port of
127.0.0.1 alone, every capability dropped, no new privileges, no mounts of the host, memory,
process and open-file limits from the settings. It returns once the app answers on that port.
A thread per app passes the container's output to the run log, another waits for its end.
See docs/security.md for what this isolates, and what not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hubstead.server.domain.spaces import AppAddress, SpaceSdk
from hubstead.server.services.spaces.runner import AppSpec, ExitListener, LogSink, SpaceRunError
from hubstead.server.settings import Settings
from hubstead.server.spaces.engine import DockerEngine, EngineError
from hubstead.server.spaces.processes import Limits, pump

LOOPBACK = "127.0.0.1"
HUB_LABEL = "hubstead.hub"
SPACE_LABEL = "hubstead.space"
REPO_LABEL = "hubstead.repo"
_POLL_SECONDS = 0.2
_PROBE_SECONDS = 0.2
_FLUSH_SECONDS = 2.0
_CHUNK_BYTES = 64 * 1024
_SPOOL_BYTES = 16 * 1024 * 1024
_LOG_MAX_SIZE = "10m"
"""What the engine keeps of a container's output (the hub keeps its own run log)."""


@dataclasses.dataclass
class _App:
    container: str
    reader: threading.Thread
    stopped: bool = False


class DockerRunner:
    """A `SpaceRunner` of docker Spaces, as containers of `engine`.

    `prefix` names this hub's images and containers (`<prefix>-space-<key>`) and is its
    `hubstead.hub` label: hubs sharing an engine give different ones.
    """

    def __init__(
        self,
        engine: DockerEngine,
        *,
        prefix: str,
        limits: Limits,
        start_timeout_seconds: float = 300.0,
        stop_grace_seconds: float = 10.0,
    ) -> None:
        self._engine = engine
        self._prefix = prefix
        self._limits = limits
        self._start_timeout = start_timeout_seconds
        self._grace = stop_grace_seconds
        self._apps: dict[str, _App] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connections to the engine (the containers keep running)."""
        self._engine.close()

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> None:
        """Build the image of `spec`'s app from its Dockerfile (see `SpaceRunner.build`)."""
        if spec.config.sdk is not SpaceSdk.DOCKER:
            raise SpaceRunError(f"The Docker runner does not run {spec.config.sdk} Spaces")
        if spec.volumes:
            raise SpaceRunError(
                "The Docker runner does not mount volumes yet: delete the Space's volumes "
                "(gradio and streamlit Spaces mount them)"
            )
        tag = self._name(spec.key)
        log(f"Building the image {tag} on the Docker engine")
        # A factory reboot builds every step again, on base images pulled again.
        options = {"rm": "1", "forcerm": "1", "nocache": "1" if fresh else "0"}
        if fresh:
            options["pull"] = "1"
        if self._limits.memory_bytes is not None:
            options["memory"] = str(self._limits.memory_bytes)
        image = None
        try:
            with (
                _context(spec.source_dir) as context,
                contextlib.closing(
                    self._engine.build(context, tag=tag, labels=self._labels(spec), options=options)
                ) as messages,
            ):
                for message in messages:
                    image = _progress(message, log) or image
        except EngineError as error:
            raise SpaceRunError(f"The Docker engine refused the build: {error}") from None
        if image is not None:
            self._remove_images(spec.key, keep=image)

    def start(self, spec: AppSpec, log: LogSink, on_exit: ExitListener) -> AppAddress:
        """Start `spec`'s container and wait until it answers (see `SpaceRunner.start`)."""
        self.stop(spec.key)
        name = self._name(spec.key)
        try:
            # What a hub process that ended left of this Space (its containers outlive it).
            self._engine.stop(name, grace_seconds=self._grace)
            container = self._engine.create(name, self._container(spec))
            self._engine.start(container)
        except EngineError as error:
            self._remove(name)
            raise SpaceRunError(f"The Docker engine did not start the app: {error}") from None
        reader = threading.Thread(
            target=self._follow, args=(container, log), name=f"space-{spec.key}-log", daemon=True
        )
        reader.start()
        app = _App(container, reader)
        port, image = self._wait_listening(app, spec.config.app_port)
        # The image the replaced container ran, if older, is no longer needed.
        self._remove_images(spec.key, keep=image)
        with self._lock:
            self._apps[spec.key] = app
        threading.Thread(
            target=self._watch,
            args=(spec.key, app, on_exit),
            name=f"space-{spec.key}-exit",
            daemon=True,
        ).start()
        return AppAddress(host=LOOPBACK, port=port)

    def stop(self, key: str) -> None:
        """Stop and remove the container this runner started for `key`."""
        with self._lock:
            app = self._apps.pop(key, None)
            if app is None:
                return
            app.stopped = True
        self._end(app)

    def running(self, key: str) -> bool:
        """Whether the container this runner started for `key` runs."""
        with self._lock:
            app = self._apps.get(key)
        if app is None:
            return False
        try:
            state = self._engine.inspect(app.container)
        except EngineError:
            return False
        return state is not None and bool(state["State"]["Running"])

    def _name(self, key: str) -> str:
        return f"{self._prefix}-space-{key}"

    def _labels(self, spec: AppSpec) -> dict[str, str]:
        return {
            HUB_LABEL: self._prefix,
            SPACE_LABEL: f"{self._prefix}/{spec.key}",
            REPO_LABEL: spec.repo_id,
        }

    def _container(self, spec: AppSpec) -> dict[str, Any]:
        """The container of `spec`'s app: its environment, its port, its limits."""
        port = f"{spec.config.app_port}/tcp"
        env = {**spec.env, "PORT": str(spec.config.app_port)}
        limits = self._limits
        host: dict[str, Any] = {
            "PortBindings": {port: [{"HostIp": LOOPBACK, "HostPort": ""}]},
            # An init as the container's first process: the app gets the stop's SIGTERM (a
            # first process has no default handlers) and its orphans are reaped.
            "Init": True,
            "Privileged": False,
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            "LogConfig": {"Type": "json-file", "Config": {"max-size": _LOG_MAX_SIZE}},
        }
        ulimits = []
        if limits.open_files is not None:
            ulimits.append({"Name": "nofile", "Soft": limits.open_files, "Hard": limits.open_files})
        if limits.processes is not None:
            ulimits.append({"Name": "nproc", "Soft": limits.processes, "Hard": limits.processes})
            host["PidsLimit"] = limits.processes
        if ulimits:
            host["Ulimits"] = ulimits
        if limits.memory_bytes is not None:
            host["Memory"] = host["MemorySwap"] = limits.memory_bytes
        return {
            "Image": self._name(spec.key),
            "Env": [f"{key}={value}" for key, value in env.items()],
            "ExposedPorts": {port: {}},
            "Labels": self._labels(spec),
            "HostConfig": host,
        }

    def _wait_listening(self, app: _App, app_port: int) -> tuple[int, str]:
        """Wait until the app answers on its published port, or ends, or time is up.

        Returns that port and the app's image.
        """
        deadline = time.monotonic() + self._start_timeout
        port: int | None = None
        while True:
            try:
                state = self._engine.inspect(app.container)
            except EngineError as error:
                self._end(app)
                raise SpaceRunError(f"The Docker engine lost the app: {error}") from None
            if state is None or not state["State"]["Running"]:
                app.reader.join(_FLUSH_SECONDS)
                status = None if state is None else state["State"]["ExitCode"]
                self._end(app)
                raise SpaceRunError(f"The app exited with status {status}")
            port = port or _published(state, app_port)
            if port is not None and _answers(port):
                return port, state["Image"]
            if time.monotonic() >= deadline:
                self._end(app)
                raise SpaceRunError(
                    f"The app did not listen on its port {app_port} within "
                    f"{self._start_timeout:g} s"
                )
            time.sleep(_POLL_SECONDS)

    def _follow(self, container: str, log: LogSink) -> None:
        """Pass the container's output to `log` until it ends.

        The stream is opened here, not by `start`: an engine may send nothing, not even its
        headers, before the app's first line.
        """
        with contextlib.suppress(EngineError):
            pump(self._engine.logs(container), log)

    def _watch(self, key: str, app: _App, on_exit: ExitListener) -> None:
        try:
            status = self._engine.wait(app.container)
        except EngineError:
            status = None
        # Its last lines reach the log before anyone hears of its end.
        app.reader.join(_FLUSH_SECONDS)
        with self._lock:
            if app.stopped:
                return
            if self._apps.get(key) is app:
                del self._apps[key]
        self._end(app)
        on_exit(-1 if status is None else status)

    def _end(self, app: _App) -> None:
        """Stop and remove `app`'s container; its output's reader ends with it."""
        self._remove(app.container)
        app.reader.join(_FLUSH_SECONDS)

    def _remove(self, container: str) -> None:
        with contextlib.suppress(EngineError):
            self._engine.stop(container, grace_seconds=self._grace)

    def _remove_images(self, key: str, *, keep: str) -> None:
        """Remove the Space's images but `keep` (one a container still runs stays, for now)."""
        with contextlib.suppress(EngineError):
            for image in self._engine.images(f"{SPACE_LABEL}={self._prefix}/{key}"):
                if image["Id"] != keep:
                    with contextlib.suppress(EngineError):
                        self._engine.remove_image(image["Id"])


def docker_runner(settings: Settings) -> DockerRunner | None:
    """The Docker runner the settings describe, or None when no engine is configured."""
    if settings.spaces_docker_socket is None:
        return None
    return DockerRunner(
        DockerEngine(settings.spaces_docker_socket),
        prefix=settings.spaces_docker_prefix,
        limits=Limits(
            memory_bytes=settings.spaces_memory_bytes,
            open_files=settings.spaces_open_files,
            processes=settings.spaces_processes,
            nice=settings.spaces_nice,
        ),
        start_timeout_seconds=settings.spaces_start_timeout_seconds,
    )


@contextlib.contextmanager
def _context(source: Path) -> Iterator[Iterator[bytes]]:
    """`source` as a tar stream (links kept as links, as `docker build` sends them)."""
    with tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as spool:
        with tarfile.open(fileobj=spool, mode="w") as tar:
            tar.add(source, arcname=".")
        spool.seek(0)
        yield iter(lambda: spool.read(_CHUNK_BYTES), b"")


def _progress(message: dict[str, Any], log: LogSink) -> str | None:
    """Pass one message of a build's progress to `log`: the image's id when it names it.

    Output (`stream`) goes line by line, the steps of pulling an image (`status`) one a line.

    Raises:
        SpaceRunError: the message is the build's error.
    """
    detail = message.get("errorDetail")
    error = message.get("error") or (detail.get("message") if isinstance(detail, dict) else None)
    if error:
        raise SpaceRunError(str(error).strip())
    for line in str(message.get("stream") or "").splitlines():
        log(line)
    status = message.get("status")
    # Docker's pulls: each layer's steps, not the progress of its download.
    if isinstance(status, str) and not message.get("progressDetail"):
        log(f"{message['id']}: {status}" if isinstance(message.get("id"), str) else status)
    aux = message.get("aux")
    if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
        return str(aux["ID"])
    return None


def _published(state: dict[str, Any], app_port: int) -> int | None:
    """The host port the engine published `app_port` on, once it has."""
    ports = (state.get("NetworkSettings") or {}).get("Ports") or {}
    for binding in ports.get(f"{app_port}/tcp") or ():
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def _answers(port: int) -> bool:
    """Whether something behind the loopback `port` holds a connection open.

    A connection refused, or one the engine's port proxy accepts and then closes (Docker's
    userland proxy does so until the app listens), is not yet the app.
    """
    try:
        probe = socket.create_connection((LOOPBACK, port), timeout=_PROBE_SECONDS)
    except OSError:
        return False
    with probe:
        try:
            return probe.recv(1) != b""
        except TimeoutError:
            return True
        except OSError:
            return False
