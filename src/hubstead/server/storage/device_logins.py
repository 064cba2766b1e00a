"""`DeviceLoginStore`: OAuth device logins (RFC 8628), by device code hash or user code."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.device_logins import DeviceLogin, DeviceLoginState


class DeviceLoginStore(Protocol):
    """OAuth device logins, found by the hash of their device code or by their user code."""

    def add_device_login(
        self,
        code_hash: str,
        user_code: str,
        client_id: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> DeviceLogin:
        """Store a pending device login (AlreadyExistsError when the user code is taken)."""

    def device_login_by_code(self, code_hash: str) -> DeviceLogin | None:
        """The device login with this device code hash, or None."""

    def device_login_by_user_code(self, user_code: str) -> DeviceLogin | None:
        """The device login with this user code, or None."""

    def record_poll(self, login_id: int, now: dt.datetime) -> None:
        """Record when the device last polled."""

    def decide_device_login(self, login_id: int, state: DeviceLoginState, account_id: int) -> bool:
        """Approve or deny a pending login; False when it was no longer pending."""

    def claim_device_login(self, login_id: int) -> bool:
        """Mark an approved login delivered; False when it was not approved (or already taken)."""

    def delete_expired_device_logins(self, now: dt.datetime) -> int:
        """Forget the device logins that expired before `now`; how many."""
