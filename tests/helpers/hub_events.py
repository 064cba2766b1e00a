"""Reading a hub's outbox of hub events, as its subscribers will: by id, after the last one seen."""

from __future__ import annotations

from typing import Any

from hubstead.protocol import RepoType
from hubstead.server.domain.hub_events import HubEventRecord
from hubstead.server.services.access import Action
from tests.helpers.live_server import LiveServer


def last_event_id(server: LiveServer) -> int:
    """The id of the newest event (0 for none): what a test reads after."""
    log = server.services.hub_events
    after = 0
    while page := log.list_events(after, 100):
        after = page[-1].id
    return after


def repo_key(server: LiveServer, token: str, repo_id: str, repo_type: str = "model") -> int:
    """The row id of a repo the token may read: its events keep it across moves and deletion."""
    identity = server.services.auth.authenticate(token)
    return server.services.repos.locate(identity, RepoType(repo_type), repo_id, Action.READ).id


def events_of(server: LiveServer, key: int, after: int) -> list[HubEventRecord]:
    """The events recorded about the repo with row id `key` since event `after`, oldest first.

    Since `after`: on SQLite, a repo created after the newest one was deleted takes its row id,
    which the deleted repo's events still name.
    """
    return [e for e in server.services.hub_events.list_events(after, 1000) if e.repo_id == key]


def refs_payload(
    head: str | None, *moves: tuple[str, str | None, str | None], private: bool = False
) -> dict[str, Any]:
    """The payload of a `repo.content.update`: `main` at `head`, and each (ref, old, new)."""
    return {
        "private": private,
        "headSha": head,
        "updatedRefs": [{"ref": ref, "oldSha": old, "newSha": new} for ref, old, new in moves],
    }
