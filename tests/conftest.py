"""Shared fixtures: a live hub on loopback, test users, repos, and a clean environment.

The official client reads its environment once, at import: the variables it must see (no Xet,
no telemetry, no stored token, a private HF_HOME) are set here, before anything imports it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.update(
    HF_HUB_DISABLE_XET="1",
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
    HF_HUB_DISABLE_PROGRESS_BARS="1",
    HF_HOME=tempfile.mkdtemp(prefix="hubstead-tests-hf-home-"),
)
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_ENDPOINT", None)

import huggingface_hub.constants
import pytest
from huggingface_hub import HfApi

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clock import ManualClock
from tests.helpers.databases import postgres_database
from tests.helpers.docker import podman_engine
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.production_server import production_server
from tests.helpers.s3 import MotoS3


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="metadata database the live servers use",
    )
    parser.addoption(
        "--profile",
        choices=["embedded", "production"],
        default="embedded",
        help="what the session's live_server is: the hub in a thread of the test process "
        "(embedded), or `hubstead serve --workers 2` and a `hubstead worker` on PostgreSQL, "
        "S3 and Redis (production; only the tests using live_server run)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under the production profile, keep only the tests that run against `live_server`.

    The others start hubs of their own (or none), so they would only repeat the embedded run;
    tests marked `embedded_only` need what only the in-process hub has, as their marks say.
    """
    if config.getoption("--profile") != "production":
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        uses_hub = "live_server" in getattr(item, "fixturenames", ())
        wanted = uses_hub and item.get_closest_marker("embedded_only") is None
        (kept if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HUBSTEAD_* setting leaks in from the shell running the tests."""
    for key in list(os.environ):
        if key.startswith("HUBSTEAD_"):
            monkeypatch.delenv(key)


@pytest.fixture(autouse=True)
def own_xet_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test's hf_xet uploads keep their chunk and shard caches apart from other tests'.

    hf_xet reads `HF_XET_CACHE` at each upload and remembers the xorbs it uploaded or was
    told of, per hub. Shared across tests, it would name xorbs of another user's repo (often
    deleted by then), which this hub refuses to let a shard reference: as on separate machines,
    each test's user has a cache of its own.
    """
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "hf-xet-cache"))


@pytest.fixture
def xet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The official client as installed by default: hf_xet on (this suite turns it off).

    huggingface_hub reads `HF_HUB_DISABLE_XET` once, at import, into a constant that it checks
    at every transfer.
    """
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", False)


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite in the data dir, or the URL of a fresh PostgreSQL database."""
    if request.config.getoption("--database") == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield None


@pytest.fixture(scope="session")
def docker_socket() -> Iterator[Path]:
    """The socket of a Docker engine (podman's) for the session, removed when it ends."""
    # A short path: podman refuses a run root longer than 50 characters.
    with podman_engine(Path(tempfile.mkdtemp(prefix="hubstead-podman-"))) as socket:
        yield socket


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """One S3 API server (moto) for the session; each test makes buckets of its own."""
    server = MotoS3().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str | None,
) -> Iterator[LiveServer]:
    """One hub for the whole session (see `--profile`); tests isolate themselves by names."""
    if request.config.getoption("--profile") == "production":
        s3 = request.getfixturevalue("moto_s3")
        with production_server(tmp_path_factory.mktemp("hub"), s3) as production:
            yield production
    else:
        server = start_server(tmp_path_factory.mktemp("hub"), database_url)
        yield server
        server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    """A hub of its own, for tests that need an empty instance."""
    if database_url is not None:
        with postgres_database() as url:
            server = start_server(tmp_path / "hub", url)
            yield server
            server.stop()
    else:
        server = start_server(tmp_path / "hub")
        yield server
        server.stop()


@pytest.fixture
def user(live_server: LiveServer) -> HubUser:
    """A fresh user with a write token."""
    return make_user(live_server)


@pytest.fixture
def other_user(live_server: LiveServer) -> HubUser:
    """A second, unrelated user with a write token."""
    return make_user(live_server, "other")


@pytest.fixture
def anonymous(live_server: LiveServer) -> HfApi:
    """The official client without a token."""
    return HfApi(endpoint=live_server.url, token=False)


@pytest.fixture
def hf_api(user: HubUser) -> HfApi:
    """The official client acting as `user`."""
    return user.api


@pytest.fixture
def repo_factory(user: HubUser) -> Iterator[Callable[..., str]]:
    """Create repos owned by `user` (unique names); they are deleted after the test."""
    created: list[tuple[str, str]] = []

    def create(repo_type: str = "model", **kwargs: object) -> str:
        repo_id = f"{user.name}/{unique_name('repo')}"
        if repo_type == "space":
            kwargs.setdefault("space_sdk", "gradio")
        user.api.create_repo(repo_id, repo_type=repo_type, **kwargs)  # type: ignore[arg-type]
        created.append((repo_id, repo_type))
        return repo_id

    yield create
    for repo_id, repo_type in created:
        user.api.delete_repo(repo_id, repo_type=repo_type, missing_ok=True)


@pytest.fixture
def repo(repo_factory: Callable[..., str]) -> str:
    """A fresh model repo owned by `user`."""
    return repo_factory()


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand, for services built with `build_services(clock=clock)`."""
    return ManualClock()
