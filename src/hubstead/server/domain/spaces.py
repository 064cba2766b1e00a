"""Space runtimes: what a Space is configured to run, where its app is in its life, its logs.

A Space is a repo *and* an app. The app's configuration is read from the YAML front matter of
the `README.md` on the Space's default branch (`SpaceConfig`); each commit there builds it
again. Its state (`SpaceState`) is one row per Space, changed by the build job, the runner's
supervisor, and the owners' requests (pause, restart, sleep time). The stages are the Hub's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

_SPELLING = str.maketrans({"/": "-", "_": "-", ".": "-"})


def spelled_label(repo_id: str) -> str:
    """A Space id as the Hub spells its subdomain (`Ns/My_App` → `ns-my-app`)."""
    return repo_id.lower().translate(_SPELLING)


class SpaceStage(enum.StrEnum):
    """Where a Space's app is, in the Hub's terms (`runtime.stage`)."""

    NO_APP_FILE = "NO_APP_FILE"
    CONFIG_ERROR = "CONFIG_ERROR"
    BUILDING = "BUILDING"
    BUILD_ERROR = "BUILD_ERROR"
    APP_STARTING = "APP_STARTING"
    RUNNING = "RUNNING"
    RUNNING_BUILDING = "RUNNING_BUILDING"
    RUNNING_APP_STARTING = "RUNNING_APP_STARTING"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    PAUSED = "PAUSED"
    SLEEPING = "SLEEPING"
    STOPPED = "STOPPED"

    @property
    def transitional(self) -> bool:
        """Whether the stage changes by itself (the ones `wait_for_space` polls through)."""
        return self in _TRANSITIONAL

    @property
    def serving(self) -> bool:
        """Whether an app answers requests in this stage."""
        return self in _SERVING


_TRANSITIONAL = frozenset(
    {
        SpaceStage.BUILDING,
        SpaceStage.APP_STARTING,
        SpaceStage.RUNNING_BUILDING,
        SpaceStage.RUNNING_APP_STARTING,
    }
)
_SERVING = frozenset(
    {SpaceStage.RUNNING, SpaceStage.RUNNING_BUILDING, SpaceStage.RUNNING_APP_STARTING}
)


class SpaceSdk(enum.StrEnum):
    """How a Space's app is built and run (`sdk` in its README)."""

    GRADIO = "gradio"
    STREAMLIT = "streamlit"
    DOCKER = "docker"
    STATIC = "static"


class LogKind(enum.StrEnum):
    """A Space's two logs: its last build's, and its app's since it last started."""

    BUILD = "build"
    RUN = "run"


FREE_HARDWARE = "cpu-basic"
"""The one hardware flavor this hub offers: the machine it runs on."""


@dataclasses.dataclass(frozen=True)
class SpaceConfig:
    """A Space's app as its README describes it, checked.

    `app_file` is relative to the repo root (`app.py` for gradio and streamlit, `index.html`
    for static); `app_port` is where a docker app listens. The versions are as written, or
    None for the newest the package index offers.
    """

    sdk: SpaceSdk
    app_file: str
    app_port: int = 7860
    sdk_version: str | None = None
    python_version: str | None = None


@dataclasses.dataclass(frozen=True)
class SpaceVolume:
    """Another repo mounted read-only into the app (`set_space_volumes`).

    `kind` is `model`, `dataset` or `space`; `source` its `namespace/name`; `mount_path` an
    absolute path inside the app's view; `path` a folder of the repo (None: all of it).
    """

    kind: str
    source: str
    mount_path: str
    revision: str = "main"
    path: str | None = None


@dataclasses.dataclass(frozen=True)
class AppAddress:
    """Where a running app answers: `http://{host}:{port}{root_path}/...`.

    The hub's proxy sends a request for `<public prefix>/<rest>` to `{root_path}/<rest>`: an
    app that serves under a base path of its own (streamlit) has it here, one that serves at
    `/` and is told its public prefix otherwise (gradio) has "".
    """

    host: str
    port: int
    root_path: str = ""


@dataclasses.dataclass(frozen=True)
class SpaceState:
    """One Space's runtime row.

    `commit` is the commit the current (or last) build is of; `address` where its app answers
    while it runs (None otherwise); `owner` names the process that started the app (host name
    and pid), for stopping it from another process of the same machine. `sleep_seconds` is the
    idle time after which the app is stopped (None: never); `last_request_at` when the proxy
    last forwarded a request to it. `error` is what went wrong, for the error stages.
    `generation` goes up with each build, pause and restart: a build job writes its progress
    only while the generation it began is still the Space's last. `fresh_build` says that a
    factory restart asked for a build without caches, which no build has done yet.
    """

    repo_id: int
    stage: SpaceStage
    sdk: SpaceSdk | None
    requested_hardware: str
    sleep_seconds: int | None
    commit: str | None
    address: AppAddress | None
    owner: str | None
    error: str | None
    volumes: tuple[SpaceVolume, ...]
    updated_at: dt.datetime
    last_request_at: dt.datetime | None
    generation: int = 0
    fresh_build: bool = False


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One line of a Space's log: its number in that log (from 0), when, and what."""

    seq: int
    at: dt.datetime
    text: str
