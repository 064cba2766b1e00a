"""Where test hubs run Space apps: a shared place for environments, apps of their own.

Every test hub runs gradio and streamlit Spaces with the real local runner. Environments are
built from the wheelhouse `scripts/test-wheelhouse` downloads, with no package index, into one
directory per machine (`ENV_DIR`), shared by the test processes and runs as a hub's server
processes share theirs: the runner's locks keep concurrent builds apart, so each environment
is built once. Each hub gets a runner directory and a range of user ids of its own, since a
start ends whatever its Space's user still runs. `space_hub` is the hub of a test module that
runs Spaces.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from tests.helpers.live_server import ThreadedServer

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / ".cache" / "wheelhouse"
ENV_DIR = Path("/tmp/hubstead-test-spaces")
_HUBS_DIR = ENV_DIR / "hubs"
BUILDER_UID = 1_500_000_000
"""The builder of every test runner's environments: they share `ENV_DIR` and its cache."""
_UID_BASE = 1_600_000_000
_UIDS_PER_HUB = 1000
_HUBS_PER_PROCESS = 500
_hubs = itertools.count()


@contextlib.contextmanager
def space_hub(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str | None,
    name: str,
    *,
    run_jobs: bool = False,
    **options: object,
) -> Iterator[ThreadedServer]:
    """A hub of a test module's own that runs Space apps, its data dir a new one named `name`.

    `database_url` is the suite's database choice: with one, the hub gets a PostgreSQL database
    of its own (no other hub runs its builds). With `run_jobs` it runs its jobs and its outbox
    thread every second, as `hubstead serve` does; without, none: a test builds a Space when it
    wants it built (`space_apps.build`). `options` go to `start_server` (a clock, settings).
    """
    from tests.helpers.databases import postgres_database
    from tests.helpers.live_server import start_server  # which imports this module

    require_wheelhouse()
    if run_jobs:
        options = {"job_poll_seconds": 1, **options}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if database_url is not None else None
        directory = tmp_path_factory.mktemp(name)
        server = start_server(directory, url, run_jobs=run_jobs, **options)  # type: ignore[arg-type]
        stack.callback(server.stop)
        yield server


def require_wheelhouse() -> Path:
    """The wheelhouse, failing the test with what to run when it is missing."""
    import pytest

    if not (WHEELHOUSE / ".complete").is_file():
        pytest.fail(f"No test wheelhouse at {WHEELHOUSE}: run scripts/test-wheelhouse first")
    return reachable_wheelhouse()


@functools.cache
def reachable_wheelhouse() -> Path:
    """The wheelhouse where the runner's builder user can read it (copied when it cannot)."""
    if all(parent.stat().st_mode & 0o001 for parent in WHEELHOUSE.parents):
        return WHEELHOUSE
    # A checkout under a private directory (such as /root): a copy the builder can reach,
    # made once for every test process (the stamp names the wheelhouse's versions).
    copy = ENV_DIR / "wheelhouse"
    stamp = WHEELHOUSE / ".complete"
    if not stamp.is_file() or _stamp(copy) == stamp.read_text():
        return copy
    ENV_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    scratch = ENV_DIR / f".wheelhouse-{os.getpid()}"
    shutil.copytree(WHEELHOUSE, scratch, dirs_exist_ok=True)
    if copy.exists():  # of other versions: out of the way, at once
        stale = ENV_DIR / f".wheelhouse-stale-{os.getpid()}"
        with contextlib.suppress(OSError):
            copy.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        scratch.rename(copy)
    except OSError:  # another test process put its copy there first
        shutil.rmtree(scratch, ignore_errors=True)
    return copy


def _stamp(wheelhouse: Path) -> str | None:
    try:
        return (wheelhouse / ".complete").read_text()
    except FileNotFoundError:
        return None


def hub_space_settings() -> dict[str, object]:
    """The `spaces_*` settings of a new test hub."""
    hub = next(_hubs) % _HUBS_PER_PROCESS
    uid_base = _UID_BASE + ((os.getpid() % 4096) * _HUBS_PER_PROCESS + hub) * _UIDS_PER_HUB
    spaces_dir = _HUBS_DIR / f"{os.getpid()}-{hub}"
    return {
        "spaces_dir": spaces_dir,
        "spaces_env_dir": ENV_DIR,
        "spaces_find_links": (str(reachable_wheelhouse()),),
        "spaces_no_index": True,
        "spaces_uid_base": uid_base,
        "spaces_uid_count": _UIDS_PER_HUB,
        "spaces_builder_uid": BUILDER_UID,
    }
