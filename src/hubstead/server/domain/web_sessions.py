"""Browser sessions of the web hub."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class WebSession:
    """A signed-in browser: the account at its keyboard, until the session expires."""

    id: int
    account_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str
