"""The device flow's machine side (RFC 8628) as a client sees it: errors, pacing, expiry."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hubstead.server.services.device_logins import USER_CODE_ALPHABET
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.clock import ManualClock
from tests.helpers.live_server import LiveServer, start_server

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def clocked_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[tuple[LiveServer, ManualClock]]:
    clock = ManualClock()
    server = start_server(
        tmp_path_factory.mktemp("device"),
        database_url,
        clock=clock,
        device_poll_seconds=5,
        device_code_seconds=600,
    )
    yield server, clock
    server.stop()


def start(client: httpx.Client, client_id: str = "hf-cli") -> dict[str, object]:
    answer = client.post("/oauth/device", data={"client_id": client_id})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    started: dict[str, object] = answer.json()
    return started


def poll(client: httpx.Client, device_code: object, client_id: str = "hf-cli") -> httpx.Response:
    return client.post(
        "/oauth/token",
        data={"grant_type": GRANT, "device_code": device_code, "client_id": client_id},
    )


def test_codes_pace_polls_and_hand_out_one_token_once(
    clocked_hub: tuple[LiveServer, ManualClock],
) -> None:
    server, clock = clocked_hub
    user = make_user(server, "device")
    identity = server.services.auth.authenticate(user.token)
    with httpx.Client(base_url=server.url) as client:
        started = start(client)
        code = str(started["user_code"])
        assert started["interval"] == 5 and started["expires_in"] == 600
        assert started["verification_uri"] == f"{server.url}/oauth/device"
        assert started["verification_uri_complete"] == f"{server.url}/oauth/device?user_code={code}"
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(USER_CODE_ALPHABET)

        pending = poll(client, started["device_code"])
        too_fast = poll(client, started["device_code"])
        clock.advance(5)
        server.services.device_logins.decide(identity, code.lower(), approve=True)
        granted = poll(client, started["device_code"])
        clock.advance(5)
        again = poll(client, started["device_code"])

    assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")
    assert too_fast.json()["error"] == "slow_down"
    assert granted.status_code == 200
    token = granted.json()["access_token"]
    assert granted.json()["token_type"] == "bearer"
    assert again.json()["error"] == "invalid_grant"
    me = httpx.get(f"{server.url}/api/whoami-v2", headers={"authorization": f"Bearer {token}"})
    assert me.json()["name"] == user.name
    assert me.json()["auth"]["accessToken"] == {
        "displayName": f"device-login-{code}",
        "role": "write",
    }


def test_expired_denied_unknown_and_foreign_codes_get_no_token(
    clocked_hub: tuple[LiveServer, ManualClock],
) -> None:
    server, clock = clocked_hub
    user: HubUser = make_user(server, "device")
    identity = server.services.auth.authenticate(user.token)
    with httpx.Client(base_url=server.url) as client:
        denied = start(client)
        server.services.device_logins.decide(identity, str(denied["user_code"]), approve=False)
        denied_poll = poll(client, denied["device_code"])
        foreign = poll(client, denied["device_code"], client_id="someone-else")
        unknown = poll(client, "not-a-device-code")
        wrong_grant = client.post(
            "/oauth/token", data={"grant_type": "password", "device_code": "x", "client_id": "y"}
        )
        no_client = client.post("/oauth/device", data={})
        late = start(client)
        clock.advance(601)
        expired = poll(client, late["device_code"])
        with pytest.raises(Exception, match="No device is waiting"):
            server.services.device_logins.decide(identity, str(late["user_code"]), approve=True)

    assert denied_poll.json()["error"] == "access_denied"
    assert foreign.json()["error"] == "invalid_grant"
    assert unknown.json()["error"] == "invalid_grant"
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    assert no_client.status_code == 400
    assert expired.json()["error"] == "expired_token"
