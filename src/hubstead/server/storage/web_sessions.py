"""`WebSessionStore`: signed-in browsers of the web hub."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.accounts import Account
from hubstead.server.domain.web_sessions import WebSession


class WebSessionStore(Protocol):
    """Browser sessions, stored by the hash of their cookie's secret."""

    def add_session(
        self,
        account_id: int,
        token_hash: str,
        now: dt.datetime,
        expires_at: dt.datetime,
        user_agent: str,
    ) -> WebSession:
        """Store a new session."""

    def find_session(self, token_hash: str, now: dt.datetime) -> tuple[WebSession, Account] | None:
        """The unexpired session with this hash and its account, or None."""

    def touch_session(self, session_id: int, now: dt.datetime) -> None:
        """Record that the session was used at `now`."""

    def delete_session(self, token_hash: str) -> None:
        """End one session (nothing happens when there is none)."""

    def delete_account_sessions(self, account_id: int) -> int:
        """End every session of an account; how many there were."""

    def delete_expired_sessions(self, now: dt.datetime) -> int:
        """Forget every session that expired before `now`; how many there were."""
