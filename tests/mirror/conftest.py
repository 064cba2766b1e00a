"""Two live hubs per module: an upstream, seeded through the official client, and a mirror."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import hub

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--database") == "postgresql")


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, postgres: bool) -> Iterator[LiveServer]:
    """The hub mirrors copy from."""
    with hub(tmp_path_factory.mktemp("upstream"), postgres) as server:
        yield server


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, postgres: bool) -> Iterator[LiveServer]:
    """The mirroring hub; LFS objects over 1 MiB are fetched in 1 MiB parts."""
    with hub(tmp_path_factory.mktemp("mirror"), postgres, lfs_chunk_bytes=MiB) as server:
        yield server


@pytest.fixture
def owner(upstream: LiveServer) -> HubUser:
    """A user of the upstream hub who owns the repos that get mirrored."""
    return make_user(upstream, "owner")


@pytest.fixture
def reader(mirror: LiveServer) -> HubUser:
    """A user of the mirror hub."""
    return make_user(mirror, "reader")
