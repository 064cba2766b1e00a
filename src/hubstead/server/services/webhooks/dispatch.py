"""Dispatch: hub events become deliveries for the webhooks that watch them.

The dispatcher walks the hub-event outbox from its cursor. For each event it finds the enabled
webhooks of the event's domain that watch its repo or the repo's namespace (and, for a move,
the new ones) and were created before it, keeps those whose owner may be told — may see the
repo now, and for discussion events may read its files —, builds each payload once and adds
the deliveries; each new delivery queues its job. Dispatching is idempotent (a webhook has one
delivery per event), so two dispatchers racing over the same events deliver each once; the
cursor then moves past them. A failure stops the walk before the event that failed: the next
dispatch starts there again.

A repo that is gone is described from the event (its visibility then): owners outside its
namespace are told of a private repo's deletion only if they could see it — they are members.
"""

from __future__ import annotations

import logging
import secrets
import threading

from hubstead.server import errors
from hubstead.server.domain.discussions import Comment, DiscussionRecord
from hubstead.server.domain.hub_events import HubEventKind, HubEventRecord
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.webhooks import Domain, NewDelivery, Watch, WatchKind, WebhookRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.repos import RepoService
from hubstead.server.services.webhooks import payloads
from hubstead.server.services.webhooks.deliveries import DeliveryQueue
from hubstead.server.storage.discussions import DiscussionStore
from hubstead.server.storage.hub_events import HubEventLog
from hubstead.server.storage.webhooks import WebhookStore

logger = logging.getLogger("hubstead.webhooks")

READER = "webhooks"
"""The dispatcher's cursor in the outbox."""
_BATCH = 200


class WebhookDispatcher:
    """Turns recorded hub events into webhook deliveries."""

    def __init__(
        self,
        events: HubEventLog,
        store: WebhookStore,
        repos: RepoService,
        auth: AuthService,
        discussions: DiscussionStore,
        queue: DeliveryQueue,
        *,
        base_url: str,
        clock: Clock = utcnow,
    ) -> None:
        self._events = events
        self._store = store
        self._repos = repos
        self._auth = auth
        self._discussions = discussions
        self._queue = queue
        self._base_url = base_url
        self._clock = clock
        self._lock = threading.Lock()

    def dispatch_pending(self) -> int:
        """Dispatch every event after the cursor; how many deliveries were added."""
        added = 0
        with self._lock:  # one walk per process at a time; other processes are told apart above
            cursor = self._events.cursor(READER)
            while events := self._events.list_events(cursor, _BATCH):
                for event in events:
                    added += self._dispatch(event)
                    cursor = event.id
                self._events.advance(READER, cursor)
        return added

    def _dispatch(self, event: HubEventRecord) -> int:
        domain = _domain(event.kind)
        if domain is None or event.repo_type is None or event.repo_name is None:
            return 0
        hooks = self._store.watching(_watches(event), domain, event.id)
        if not hooks:
            return 0
        repo = self._live_repo(event)
        new: list[NewDelivery] = []
        for hook in hooks:
            body = self._payload(event, domain, hook, repo)
            if body is not None:
                new.append(
                    NewDelivery(
                        object_id=secrets.token_hex(12),
                        webhook_id=hook.id,
                        event_id=event.id,
                        event=event.kind.value,
                        payload=body,
                        created_at=self._clock(),
                    )
                )
        added = self._store.add_deliveries(new)
        for delivery in added:
            self._queue.send(delivery)
        return len(added)

    def _live_repo(self, event: HubEventRecord) -> RepoRecord | None:
        """The event's repo if it still exists under the event's name (or a move's new name).

        A row id of a deleted repo may be given again (SQLite): the name tells them apart.
        """
        repo = self._repos.find(event.repo_id)
        names = {str(n).lower() for n in (event.repo_name, event.payload.get("movedTo")) if n}
        if repo is None or repo.type != event.repo_type or repo.repo_id.lower() not in names:
            return None
        return repo

    def _payload(
        self, event: HubEventRecord, domain: Domain, hook: WebhookRecord, repo: RepoRecord | None
    ) -> dict[str, object] | None:
        """The payload for one webhook, or None when its owner may not be told of the event."""
        owner = self._auth.reader(hook.owner_id)
        if owner is None:
            return None
        facts = self._facts(event, owner, domain, repo)
        if facts is None:
            return None
        moved = event.payload.get("movedTo")
        if domain is Domain.REPO:
            return payloads.build(
                event,
                hook.object_id,
                self._base_url,
                facts,
                moved_owner_id=self._owner_id(str(moved)) if moved else None,
            )
        if repo is None or event.discussion_num is None:
            return None
        discussion = self._discussions.get(repo.id, event.discussion_num)
        if discussion is None:
            return None
        return payloads.build(
            event,
            hook.object_id,
            self._base_url,
            facts,
            discussion=discussion,
            comment=self._comment(event, discussion),
        )

    def _facts(
        self, event: HubEventRecord, owner: Identity, domain: Domain, repo: RepoRecord | None
    ) -> payloads.RepoFacts | None:
        assert event.repo_name is not None and event.repo_type is not None
        if repo is not None:
            action = Action.READ if domain is Domain.REPO else Action.READ_FILES
            if not access.may(owner, repo, action):
                return None
            # Named as at the event (a move's old name, as on the Hub), its head as the event
            # saw it when it says, otherwise described as it is now.
            head = event.payload.get("headSha", repo.head)
            return payloads.RepoFacts(
                repo.id,
                repo.type,
                event.repo_name,
                repo.private,
                self._owner_id(event.repo_name),
                head if isinstance(head, str) else None,
                repo.tags,
            )
        private = bool(event.payload.get("private", True))
        namespace = event.repo_name.partition("/")[0]
        if private and access.namespace_role(owner, namespace) is None:
            return None
        head = event.payload.get("headSha")
        return payloads.RepoFacts(
            event.repo_id,
            event.repo_type,
            event.repo_name,
            private,
            self._owner_id(event.repo_name),
            head if isinstance(head, str) else None,
            (),
        )

    def _owner_id(self, repo_id: str) -> int | None:
        try:
            return self._auth.get_account(repo_id.partition("/")[0]).id
        except errors.AccountNotFoundError:
            return None

    def _comment(
        self, event: HubEventRecord, discussion: DiscussionRecord
    ) -> payloads.CommentFacts | None:
        event_id = event.payload.get("event_id")
        if event.kind not in _COMMENT_KINDS or not isinstance(event_id, int):
            return None
        timeline = self._discussions.events(discussion.repo_id, discussion.num) or []
        found = next((e for e in timeline if e.id == event_id), None)
        if found is None or not isinstance(found.detail, Comment):
            return None
        detail = found.detail
        return payloads.CommentFacts(
            found.id, found.author_id, None if detail.hidden else detail.content, detail.hidden
        )


_COMMENT_KINDS = frozenset(
    {HubEventKind.DISCUSSION_CREATE, HubEventKind.COMMENT_CREATE, HubEventKind.COMMENT_UPDATE}
)


def _domain(kind: HubEventKind) -> Domain | None:
    scope = kind.value.split(".", 1)[0]
    return {"repo": Domain.REPO, "discussion": Domain.DISCUSSION}.get(scope)


def _watches(event: HubEventRecord) -> list[Watch]:
    """The watched entries that match the event: its repo, its namespace, and a move's target."""
    assert event.repo_name is not None and event.repo_type is not None
    names = [event.repo_name]
    moved = event.payload.get("movedTo")
    if isinstance(moved, str):
        names.append(moved)
    found: list[Watch] = []
    for name in names:
        namespace = name.partition("/")[0]
        found += [Watch(WatchKind.USER, namespace), Watch(WatchKind.ORG, namespace)]
        if event.repo_type in set(WatchKind):  # kernels are watched through their namespace
            found.append(Watch(WatchKind(event.repo_type), name))
    return found
