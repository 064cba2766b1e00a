"""Webhooks: HTTP endpoints told of hub events on the accounts and repos they watch.

A webhook belongs to a user. It watches users, organizations (every repo in their namespace)
and single repos, in one or both domains (`repo`: content, settings, creation, deletion and
moves; `discussion`: threads, pull requests and comments). Each event it matches becomes one
delivery: the payload built once, then POSTed until the endpoint takes it or the attempts run
out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class WatchKind(enum.StrEnum):
    """What a watched entry names: an account, or a repo of one type."""

    USER = "user"
    ORG = "org"
    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"

    @property
    def is_account(self) -> bool:
        """Whether the entry names an account (its namespace's repos are watched)."""
        return self in (WatchKind.USER, WatchKind.ORG)


class Domain(enum.StrEnum):
    """The families of events a webhook asks for."""

    REPO = "repo"
    DISCUSSION = "discussion"


@dataclasses.dataclass(frozen=True)
class Watch:
    """One watched account or repo; `name` is an account name or `namespace/name`."""

    kind: WatchKind
    name: str


@dataclasses.dataclass(frozen=True)
class WebhookRecord:
    """A webhook as stored.

    `object_id` is its public id (24 hex digits). `after_event` is the last hub event recorded
    before it was created: it is told of later ones only. `secret` is sent with each delivery
    and never shown again after creation.
    """

    id: int
    object_id: str
    owner_id: int
    url: str
    secret: str | None
    domains: tuple[Domain, ...]
    watched: tuple[Watch, ...]
    disabled: bool
    after_event: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class NewWebhook:
    """A webhook to add."""

    object_id: str
    owner_id: int
    url: str
    secret: str | None
    domains: tuple[Domain, ...]
    watched: tuple[Watch, ...]
    created_at: dt.datetime


class DeliveryState(enum.StrEnum):
    """Where a delivery is: waiting for an attempt (first or again), or done one way or another.

    `cancelled`: the webhook was disabled before the delivery went out.
    """

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclasses.dataclass(frozen=True)
class DeliveryRecord:
    """One event sent (or to be sent) to one webhook, and how its last attempt went.

    `status_code` and `latency_ms` are those of the last attempt that got an answer; `error`
    says why the last attempt failed (None once one succeeded).
    """

    id: int
    object_id: str
    webhook_id: int
    event_id: int
    event: str
    payload: dict[str, object]
    state: DeliveryState
    attempts: int
    status_code: int | None
    latency_ms: int | None
    error: str | None
    created_at: dt.datetime
    attempted_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class NewDelivery:
    """A delivery to add (pending, never attempted)."""

    object_id: str
    webhook_id: int
    event_id: int
    event: str
    payload: dict[str, object]
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Attempt:
    """How one attempt went: an answer (`status_code`, `latency_ms`) or none, and an error."""

    state: DeliveryState
    at: dt.datetime
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
