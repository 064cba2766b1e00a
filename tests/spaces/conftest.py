"""The local Space runner on this machine: real environments, real app processes, loopback only.

Environments are built from the wheelhouse `scripts/test-wheelhouse` downloads, with no
package index. They are kept in one directory per machine (`/tmp/hubstead-test-spaces`),
shared by the test processes and runs like the runner's directory is by a hub's server
processes: the runner's locks keep concurrent builds apart, and each test process uses Space
ids of its own.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubstead.server.domain.spaces import SpaceConfig, SpaceSdk
from hubstead.server.services.spaces.runner import AppSpec
from hubstead.server.spaces.envs import PackageIndex
from hubstead.server.spaces.local import LocalProcessRunner, UserRange
from hubstead.server.spaces.processes import Limits
from hubstead.server.storage.mutexes_fs import FsMutexes
from tests.helpers.spaces import BUILDER_UID, ENV_DIR, require_wheelhouse

RUNNER_ROOT = ENV_DIR
USER_BASE = BUILDER_UID
LIMITS = Limits(memory_bytes=6 * 1024**3, open_files=1000, processes=300, nice=7)
GRADIO_VERSION = importlib.metadata.version("gradio")

# Space ids of this test process: a user id each, apart from other test processes' (their
# starts would end this one's apps).
_ids = itertools.count(1000 * (os.getpid() % 900) + 1)


class Log:
    """A log sink that keeps every line, for tests to read and wait on."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def text(self) -> str:
        """Every line so far, one per line."""
        with self._lock:
            return "\n".join(self.lines)


class Exits:
    """An `on_exit` listener: the statuses it was called with."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def __call__(self, status: int) -> None:
        self.statuses.append(status)


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """The test wheelhouse, where the runner's builder user can read it."""
    return require_wheelhouse()


@pytest.fixture(scope="session")
def streamlit_version(wheelhouse: Path) -> str:
    """The streamlit version of the wheelhouse."""
    wheel = next(wheelhouse.glob("streamlit-*.whl"))
    return wheel.name.split("-")[1]


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    """A hub's data dir (mode 0700) with a file no app may read."""
    directory = Path(tempfile.mkdtemp(prefix="hubstead-data-"))
    (directory / "secret.key").write_text("the hub's secret\n")
    (directory / "secret.key").chmod(0o644)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="session")
def make_runner(wheelhouse: Path, data_dir: Path) -> Callable[..., LocalProcessRunner]:
    """Runners on the shared directory, as a hub running as root builds them."""

    def make(**options: object) -> LocalProcessRunner:
        settings: dict[str, object] = {
            "hold": FsMutexes(RUNNER_ROOT / "locks").hold,
            "users": UserRange(USER_BASE, 1_000_000) if os.geteuid() == 0 else None,
            "protected": (data_dir,),
            "index": PackageIndex(find_links=(str(wheelhouse),), no_index=True),
            "limits": LIMITS,
            "start_timeout_seconds": 120.0,
            "stop_grace_seconds": 5.0,
        }
        settings.update(options)
        return LocalProcessRunner(RUNNER_ROOT, **settings)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def runner(make_runner: Callable[..., LocalProcessRunner]) -> LocalProcessRunner:
    """The runner most tests use."""
    return make_runner()


@pytest.fixture
def make_spec(tmp_path: Path, streamlit_version: str) -> Callable[..., AppSpec]:
    """A Space of a new id, its files written from `files` (name to text)."""

    def make(
        files: dict[str, str],
        *,
        sdk: SpaceSdk = SpaceSdk.GRADIO,
        env: dict[str, str] | None = None,
        python: str | None = None,
    ) -> AppSpec:
        key = str(next(_ids))
        source = tmp_path / f"space-{key}"
        source.mkdir()
        for name, text in files.items():
            (source / name).write_text(text)
        version = GRADIO_VERSION if sdk is SpaceSdk.GRADIO else streamlit_version
        return AppSpec(
            key=key,
            repo_id=f"alice/space-{key}",
            config=SpaceConfig(
                sdk=sdk, app_file="app.py", sdk_version=version, python_version=python
            ),
            source_dir=source,
            public_path=f"/spaces/alice/space-{key}/app",
            env=env or {},
        )

    return make
