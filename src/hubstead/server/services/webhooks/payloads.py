"""The body of a delivery: the Hub's webhook payload, version 3.

`{"event": {"action", "scope"}, "repo": {...}, "discussion"?, "comment"?, "updatedRefs"?,
"updatedConfig"?, "movedTo"?, "webhook": {"id", "version": 3}}`, with ids as 24 hex digits and
links under the hub's base URL. huggingface_hub's `WebhookPayload` parses it.
"""

from __future__ import annotations

import dataclasses

from hubstead.protocol import RepoType
from hubstead.server.domain.discussions import DiscussionRecord
from hubstead.server.domain.hub_events import HubEventRecord

VERSION = 3


def object_id(row_id: int) -> str:
    """A row id as the 24 hex digits the Hub's ids have."""
    return f"{row_id:024x}"


@dataclasses.dataclass(frozen=True)
class RepoFacts:
    """What a payload says of the repo: read from its row, or from the event once it is gone."""

    id: int
    type: str
    name: str
    private: bool
    owner_id: int | None
    head: str | None
    tags: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CommentFacts:
    """The comment a discussion event is about."""

    id: int
    author_id: int | None
    content: str | None
    hidden: bool


def build(
    event: HubEventRecord,
    webhook_id: str,
    base_url: str,
    repo: RepoFacts,
    *,
    discussion: DiscussionRecord | None = None,
    comment: CommentFacts | None = None,
    moved_owner_id: int | None = None,
) -> dict[str, object]:
    """The payload of one event for one webhook."""
    scope, _, action = event.kind.value.rpartition(".")
    web = f"{base_url}/{_prefix(repo.type)}{repo.name}"
    body: dict[str, object] = {
        "event": {"action": action, "scope": scope},
        "repo": {
            "type": repo.type,
            "name": repo.name,
            "id": object_id(repo.id),
            "private": repo.private,
            "url": {"web": web, "api": f"{base_url}/api/{repo.type}s/{repo.name}"},
            "owner": {"id": object_id(repo.owner_id or 0)},
            "headSha": repo.head,
            "tags": list(repo.tags),
        },
        "webhook": {"id": webhook_id, "version": VERSION},
    }
    payload = event.payload
    if "updatedRefs" in payload:
        body["updatedRefs"] = payload["updatedRefs"]
    if "updatedConfig" in payload:
        body["updatedConfig"] = payload["updatedConfig"]
    if "movedTo" in payload:
        body["movedTo"] = {
            "name": payload["movedTo"],
            "owner": {"id": object_id(moved_owner_id or 0)},
        }
    if discussion is not None:
        url = f"{web}/discussions/{discussion.num}"
        body["discussion"] = {
            "id": object_id(discussion.id),
            "num": discussion.num,
            "title": discussion.title,
            "status": discussion.status.value,
            "isPullRequest": discussion.is_pull_request,
            "author": {"id": object_id(discussion.author_id or 0)},
            "url": {
                "web": url,
                "api": f"{base_url}/api/{repo.type}s/{repo.name}/discussions/{discussion.num}",
            },
            **(
                {
                    "changes": {
                        "base": f"refs/heads/{discussion.target_branch}",
                        "mergeCommitId": discussion.merge_commit_id,
                    }
                }
                if discussion.is_pull_request and discussion.target_branch
                else {}
            ),
            "pinned": False,
        }
        if comment is not None:
            body["comment"] = {
                "id": object_id(comment.id),
                "author": {"id": object_id(comment.author_id or 0)},
                "hidden": comment.hidden,
                "url": {"web": f"{url}#{object_id(comment.id)}"},
                **({} if comment.content is None else {"content": comment.content}),
            }
    return body


def _prefix(type: str) -> str:
    known = {t.value: t for t in RepoType}
    return known[type].url_prefix if type in known else f"{type}s/"
