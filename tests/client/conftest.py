"""Fixtures for the hubstead client: our `HfApi` bound to the live server as the test user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


@pytest.fixture
def client(live_server: LiveServer, user: HubUser) -> Iterator[HfApi]:
    """hubstead's `HfApi` acting as `user` (the environment is not read)."""
    with HfApi(endpoint=live_server.url, token=user.token, trust_env=False) as api:
        yield api
