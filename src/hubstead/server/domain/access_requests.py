"""Access requests: who asked to read a gated repo's files, and what its managers decided."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class AccessStatus(enum.StrEnum):
    """Where a request stands; only `accepted` opens a gated repo's files."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclasses.dataclass(frozen=True)
class AccessRequestRecord:
    """One user's request for one repo (at most one per pair).

    `granted` is true when a manager gave access without a request from the user (the Hub then
    shows no email); `fields` holds what the user filled in the gate's form.
    """

    id: int
    repo_id: int
    user_id: int
    user_name: str
    user_fullname: str
    user_email: str | None
    status: AccessStatus
    fields: dict[str, str]
    granted: bool
    rejection_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
