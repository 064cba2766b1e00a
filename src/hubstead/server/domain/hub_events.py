"""Hub events: what changed on the hub, recorded for whoever subscribes later.

Every change worth notifying about (webhooks, the web UI) is written to one outbox, in the
transaction that makes the change, so an event exists exactly when its change does. Nothing is
delivered from here; readers walk the outbox by id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

TOPIC = "hub_events"
"""What a transaction that records an event announces (`Database.subscribe`)."""


class HubEventKind(enum.StrEnum):
    """What happened, as `<scope>.<action>` in the terms of the Hub's webhooks."""

    DISCUSSION_CREATE = "discussion.create"
    DISCUSSION_UPDATE = "discussion.update"
    COMMENT_CREATE = "discussion.comment.create"
    COMMENT_UPDATE = "discussion.comment.update"
    ACCESS_REQUEST_CREATE = "access-request.create"
    ACCESS_REQUEST_UPDATE = "access-request.update"


@dataclasses.dataclass(frozen=True)
class HubEventRecord:
    """One recorded event.

    `repo_id`, `discussion_num` and `actor_id` name their subjects as they were: they are kept
    when those are deleted, so an event outlives them, and so are the repo's type and
    `namespace/name` and the actor's name at the time (a deleted repo's or account's row id may
    be given again: the names say whose the event was). `payload` holds what changed. The
    names are None only for events recorded before hubstead kept them.
    """

    id: int
    kind: HubEventKind
    repo_id: int
    repo_type: str | None
    repo_name: str | None
    discussion_num: int | None
    actor_id: int | None
    actor_name: str | None
    payload: dict[str, object]
    created_at: dt.datetime
