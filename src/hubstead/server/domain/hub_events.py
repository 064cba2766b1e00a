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
    """What happened, as `<scope>.<action>` in the terms of the Hub's webhooks.

    A repo event's payload uses the Hub's webhook names, which its subscribers read as they
    are; `private` is the repo's visibility once the change is made.
    """

    DISCUSSION_CREATE = "discussion.create"
    DISCUSSION_UPDATE = "discussion.update"
    COMMENT_CREATE = "discussion.comment.create"
    COMMENT_UPDATE = "discussion.comment.update"
    ACCESS_REQUEST_CREATE = "access-request.create"
    ACCESS_REQUEST_UPDATE = "access-request.update"
    REPO_CREATE = "repo.create"
    """`{"private"}`."""
    REPO_DELETE = "repo.delete"
    """`{"private", "headSha"}`: `main`'s last commit (None for a mirror never synced)."""
    REPO_MOVE = "repo.move"
    """`{"private", "movedTo"}`; the event names the repo by its old id."""
    REPO_CONFIG = "repo.config.update"
    """`{"private", "updatedConfig"}`: the settings that changed, by their Hub names
    (`private`, `gated`, `discussionsDisabled`), with their new values."""
    REPO_CONTENT = "repo.content.update"
    """`{"private", "headSha", "updatedRefs"}`: one event per change that moved refs (a commit,
    a push, a merge, a sync, ...), `headSha` being `main`'s commit after it and each of
    `updatedRefs` `{"ref", "oldSha", "newSha"}` (None for a ref created or deleted)."""


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
