"""Fixtures of the HTTP tests: a raw HTTP client on the live server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


@pytest.fixture
def http(live_server: LiveServer, user: HubUser) -> Iterator[httpx.Client]:
    """An httpx client on the live server, with `user`'s token (modules may override it)."""
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {user.token}"}
    ) as client:
        yield client
