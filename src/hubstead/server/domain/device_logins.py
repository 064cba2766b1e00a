"""OAuth device logins (RFC 8628): a CLI gets a token that a person approved in a browser."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class DeviceLoginState(enum.StrEnum):
    """Where a device login is: waiting for a person, decided, or its token handed out."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    DELIVERED = "delivered"


@dataclasses.dataclass(frozen=True)
class DeviceLogin:
    """A device login as stored: the device code only as its hash."""

    id: int
    user_code: str
    client_id: str
    state: DeviceLoginState
    account_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    last_polled_at: dt.datetime | None


class DeviceGrantError(enum.StrEnum):
    """RFC 8628 §3.5's answers to a poll that gets no token yet (or never will)."""

    AUTHORIZATION_PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 (an RFC 8628 error code, not a secret)
    ACCESS_DENIED = "access_denied"
    INVALID_GRANT = "invalid_grant"


@dataclasses.dataclass(frozen=True)
class DeviceAuthorization:
    """A device login just started: what the device shows its user and polls with."""

    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclasses.dataclass(frozen=True)
class DeviceGrant:
    """The answer to one poll: a token (shown this once), or why there is none."""

    token: str | None = None
    error: DeviceGrantError | None = None
