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
    # No read deadline of its own (httpx's default is 5 s): a loaded machine is slow, not wrong,
    # and pytest-timeout bounds every test.
    with httpx.Client(
        base_url=live_server.url,
        headers={"authorization": f"Bearer {user.token}"},
        timeout=httpx.Timeout(None),
    ) as client:
        yield client
