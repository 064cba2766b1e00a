"""The runner interface: what builds a Space's app and runs it, wherever that is.

The services decide *when* (a commit to the default branch, a restart, a wake-up) and keep the
state; a runner decides *how*: the local one (`server/spaces/local.py`) builds a virtual
environment and starts the app as a separate, unprivileged process on this machine; the Docker
one (`server/spaces/docker.py`) builds a docker Space's image and runs it as a container of a
Docker engine. Another (Kubernetes) is another implementation of this Protocol, chosen by
configuration. `SdkRunners` holds a hub's runners by SDK. Static Spaces never reach a runner:
the hub serves their files itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from hubstead.server.domain.spaces import AppAddress, SpaceConfig, SpaceSdk

LogSink = Callable[[str], None]
"""Takes one line of a build's or an app's output (without its newline)."""

ExitListener = Callable[[int], None]
"""Called once, from a runner thread, with the exit status of an app that stopped by itself."""


@dataclasses.dataclass(frozen=True)
class AppSpec:
    """One app to build or start.

    `key` names the Space for the runner (stable across renames: its repo row id); `repo_id`
    is `namespace/name`, for logs and messages. `source_dir` holds the files of the commit
    being run (written by the build job, read-only to the runner); `public_path` is the URL
    path prefix the hub serves the app under (`/spaces/{ns}/{name}/app`). `env` is what the
    app's process gets on top of what the runner sets itself: the Space's variables and
    secrets and the Hub's `SPACE_*` variables. `volumes` are the repos to mount into the
    app's view, read-only, each resolved to a commit when the build began.
    """

    key: str
    repo_id: str
    config: SpaceConfig
    source_dir: Path
    public_path: str
    env: Mapping[str, str]
    volumes: tuple[AppVolume, ...] = ()


@dataclasses.dataclass(frozen=True)
class VolumeFile:
    """One file of a volume: its path inside the volume, the address of its content, its size.

    `address` names the content, not the file: `sha256-<hex>` for a large (LFS or Xet) file,
    `git-<blob id>` for another. Files of equal content, in any volume, have equal addresses.
    """

    path: str
    address: str
    size: int


@dataclasses.dataclass(frozen=True)
class AppVolume:
    """A repo's files at one commit (or those of one of its folders), for `mount_path`.

    `name` says which repo and commit, for messages (`model alice/weights at 0123abcd`);
    `read` gives a file's content, in pieces, from wherever the hub keeps it.
    """

    mount_path: str
    name: str
    files: tuple[VolumeFile, ...]
    read: Callable[[VolumeFile], Iterator[bytes]]


class SpaceRunError(Exception):
    """A build or a start failed; the message says why, for the Space's error stage."""


class SpaceRunner(Protocol):
    """Builds and runs Space apps. Every method is safe to call from any thread."""

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> None:
        """Make what `spec`'s app needs to start (its environment), writing output to `log`.

        `fresh` (a factory reboot) ignores every cache. Raises `SpaceRunError` when the build
        fails (a requirement that does not install, an SDK that is not available).
        """
        ...

    def start(self, spec: AppSpec, log: LogSink, on_exit: ExitListener) -> AppAddress:
        """Start the built app, stopping any app of the same `key` first.

        Returns once the app answers on its port. Its output goes to `log` from then on;
        `on_exit` is called if it stops without `stop` being called. Raises `SpaceRunError`
        if it exits or does not listen in time, with its last lines in `log`.
        """
        ...

    def stop(self, key: str) -> None:
        """Stop the app of `key` if it runs here (SIGTERM, then SIGKILL), without `on_exit`."""
        ...

    def running(self, key: str) -> bool:
        """Whether an app of `key` is running here."""
        ...

    def close(self) -> None:
        """Release what the runner holds open (connections), once its apps are stopped."""
        ...


class SdkRunners:
    """A hub's runners by the SDK they run, as one runner; an SDK missing has none here.

    Each call goes to the runner of the app's SDK. A start first stops the app of the same
    key in the other runners (a Space whose SDK changed), and `stop` asks them all.
    """

    def __init__(self, runners: Mapping[SpaceSdk, SpaceRunner]) -> None:
        self._runners = dict(runners)
        self._distinct = list({id(runner): runner for runner in runners.values()}.values())

    def runs(self, sdk: SpaceSdk) -> bool:
        """Whether a runner here runs `sdk` Spaces."""
        return sdk in self._runners

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> None:
        """Build with the runner of `spec`'s SDK (see `SpaceRunner.build`)."""
        self._runner(spec).build(spec, log, fresh=fresh)

    def start(self, spec: AppSpec, log: LogSink, on_exit: ExitListener) -> AppAddress:
        """Start with the runner of `spec`'s SDK, the others' app of its key stopped first."""
        runner = self._runner(spec)
        for other in self._distinct:
            if other is not runner:
                other.stop(spec.key)
        return runner.start(spec, log, on_exit)

    def stop(self, key: str) -> None:
        """Stop the app of `key`, whichever runner runs it."""
        for runner in self._distinct:
            runner.stop(key)

    def running(self, key: str) -> bool:
        """Whether an app of `key` runs in any of the runners."""
        return any(runner.running(key) for runner in self._distinct)

    def close(self) -> None:
        """Close every runner."""
        for runner in self._distinct:
            runner.close()

    def _runner(self, spec: AppSpec) -> SpaceRunner:
        runner = self._runners.get(spec.config.sdk)
        if runner is None:
            raise SpaceRunError(f"This hub runs no {spec.config.sdk.value} Spaces")
        return runner
