"""Discussion and pull request endpoints, for models, datasets and Spaces.

Serves, under `/api/{T}/{repo}/discussions`: `GET` (a page of threads: `p`, `type`, `status`,
`author`, `search`, `sort`), `POST` (open one), `GET /{num}` (`?diff=1` adds a pull request's
diff), and `POST /{num}/comment`, `/title`, `/status`, `/merge`, `/comment/{id}/edit` and
`/comment/{id}/hide`.

Event ids travel as 24 hex digits, as the Hub's object ids do (the client lower-cases the ids
it sends back); comments carry their markdown and its HTML rendering (`markdown.py`), which is
done in a worker thread: a thread's comments can hold megabytes of markdown.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.discussions import (
    Comment,
    CommitAdded,
    DiscussionEvent,
    DiscussionQuery,
    DiscussionRecord,
    DiscussionSort,
    DiscussionStatus,
    DiscussionType,
    StatusChange,
    TitleChange,
)
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    base_url,
    body_string,
    call,
    flag,
    identity,
    optional_body_string,
    param,
    read_json_object,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.markdown import render_markdown
from hubstead.server.http.paths import API_REPO
from hubstead.server.services.discussions import PAGE_SIZE, DiscussionDetails

_THREADS = API_REPO + "/discussions"
_THREAD = _THREADS + "/{num}"
_EVENT_ID = re.compile(r"[0-9a-f]{24}")
_NUM = re.compile(r"[1-9][0-9]{0,9}")
# The Hub's `status` filter: `open` also shows drafts.
_STATUS_FILTERS: dict[str, frozenset[DiscussionStatus] | None] = {
    "all": None,
    "open": frozenset({DiscussionStatus.OPEN, DiscussionStatus.DRAFT}),
    "closed": frozenset({DiscussionStatus.CLOSED, DiscussionStatus.MERGED}),
    "merged": frozenset({DiscussionStatus.MERGED}),
    "draft": frozenset({DiscussionStatus.DRAFT}),
}
_MAX_PAGE_INDEX = 1_000_000
_E = TypeVar("_E", DiscussionType, DiscussionSort)


def discussion_url(base: str, type: RepoType, repo_id: str, num: int) -> str:
    """The web address of a thread, as the client parses a pull request's number from it."""
    return f"{base}/{type.url_prefix}{repo_id}/discussions/{num}"


def event_id(event: DiscussionEvent) -> str:
    """An event's id on the wire: 24 hex digits."""
    return f"{event.id:024x}"


async def list_discussions(request: Request) -> Response:
    """A page of threads in the Hub's `{discussions, count, start}` envelope."""
    page_index = _page_index(request)
    hub = services(request)
    author = _text_param(request, "author")
    author_id = await call(hub.discussions.author_id, author) if author else None
    caller = await identity(request)
    type, target = repo_type(request), repo_id(request)
    if author and author_id is None:
        # Nobody by that name wrote anything: an empty page, once the repo is found readable.
        query = DiscussionQuery(author_id=-1, limit=0)
    else:
        query = DiscussionQuery(
            type=_choice(request, "type", DiscussionType, DiscussionType.ALL),
            statuses=_status_filter(request),
            author_id=author_id,
            search=_text_param(request, "search"),
            sort=_choice(request, "sort", DiscussionSort, DiscussionSort.RECENTLY_CREATED),
            offset=page_index * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    listing = await call(hub.discussions.listing, caller, type, target, query)
    repo = {"name": listing.repo.repo_id, "type": listing.repo.type}
    items = [dict(_summary(d), repo=repo) for d in listing.page.discussions]
    return JSONResponse({"discussions": items, "count": listing.page.total, "start": listing.start})


async def create_discussion(request: Request) -> Response:
    """Open a discussion, or a draft pull request (`pullRequest: true`)."""
    body = await read_json_object(request)
    title = body_string(body, "title")
    description = optional_body_string(body, "description") or ""
    pull_request = body.get("pullRequest", False)
    if not isinstance(pull_request, bool):
        raise errors.InvalidRequestError("'pullRequest' must be true or false")
    if not description.strip():
        description = f"{'Pull request' if pull_request else 'Discussion'} opened by its author"
    caller = await identity(request)
    type, target = repo_type(request), repo_id(request)
    discussion = await call(
        services(request).discussions.open,
        caller,
        type,
        target,
        title,
        description,
        pull_request=pull_request,
    )
    url = discussion_url(base_url(request), type, target, discussion.num)
    return JSONResponse({**_summary(discussion), "url": url}, status_code=201)


async def get_discussion(request: Request) -> Response:
    """A thread with its timeline; a pull request with its target, conflicts and diff."""
    caller = await identity(request)
    details = await call(
        services(request).discussions.details,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        diff=flag(request, "diff"),
    )
    # Rendering every comment's markdown is CPU work: off the event loop, as services run.
    return JSONResponse(await call(_details, details))


async def comment(request: Request) -> Response:
    """Add a comment."""
    body = await read_json_object(request)
    caller = await identity(request)
    event = await call(
        services(request).discussions.comment,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        body_string(body, "comment"),
    )
    return JSONResponse({"newMessage": await call(_event, event)})


async def rename(request: Request) -> Response:
    """Change a thread's title."""
    body = await read_json_object(request)
    caller = await identity(request)
    event = await call(
        services(request).discussions.rename,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        body_string(body, "title"),
    )
    return JSONResponse({"newTitle": await call(_event, event)})


async def change_status(request: Request) -> Response:
    """Close or reopen a thread, with an optional comment."""
    body = await read_json_object(request)
    status = body_string(body, "status")
    if status not in (DiscussionStatus.OPEN, DiscussionStatus.CLOSED):
        raise errors.InvalidRequestError(f"Invalid status {status!r}: 'open' or 'closed'")
    caller = await identity(request)
    event = await call(
        services(request).discussions.change_status,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        DiscussionStatus(status),
        optional_body_string(body, "comment"),
    )
    return JSONResponse({"newStatus": await call(_event, event)})


async def merge(request: Request) -> Response:
    """Merge a pull request into its target branch."""
    body = await read_json_object(request, allow_empty=True)
    caller = await identity(request)
    discussion = await call(
        services(request).discussions.merge,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        optional_body_string(body, "comment"),
    )
    return JSONResponse({**_summary(discussion), "mergeCommitId": discussion.merge_commit_id})


async def edit_comment(request: Request) -> Response:
    """Replace a comment's content."""
    body = await read_json_object(request)
    caller = await identity(request)
    event = await call(
        services(request).discussions.edit_comment,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        _event_id(request),
        body_string(body, "content"),
    )
    return JSONResponse({"updatedComment": await call(_event, event)})


async def hide_comment(request: Request) -> Response:
    """Hide a comment for good."""
    caller = await identity(request)
    event = await call(
        services(request).discussions.hide_comment,
        caller,
        repo_type(request),
        repo_id(request),
        _num(request),
        _event_id(request),
    )
    return JSONResponse({"updatedComment": await call(_event, event)})


# --- request parsing ---------------------------------------------------------------------------


def _page_index(request: Request) -> int:
    value = request.query_params.get("p", "0")
    if not value.isascii() or not value.isdigit() or len(value) > len(str(_MAX_PAGE_INDEX)):
        raise errors.InvalidRequestError("Query parameter 'p' must be a page index (0, 1, ...)")
    return min(int(value), _MAX_PAGE_INDEX)


def _choice(request: Request, name: str, kind: type[_E], default: _E) -> _E:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise errors.InvalidRequestError(f"Invalid {name} {value!r}: one of {allowed}") from None


def _text_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and "\0" in value:
        raise errors.InvalidRequestError(f"Query parameter {name!r} must not contain NUL")
    return value


def _status_filter(request: Request) -> frozenset[DiscussionStatus] | None:
    value = request.query_params.get("status") or "all"
    if value not in _STATUS_FILTERS:
        allowed = ", ".join(repr(name) for name in _STATUS_FILTERS)
        raise errors.InvalidRequestError(f"Invalid status {value!r}: one of {allowed}")
    return _STATUS_FILTERS[value]


# A number or comment id that cannot exist is looked up as 0, which no thread or event has: the
# service checks the repo first, so a private repo's outsiders learn nothing from the path.


def _num(request: Request) -> int:
    value = param(request, "num")
    return int(value) if _NUM.fullmatch(value) else 0


def _event_id(request: Request) -> int:
    value = param(request, "comment_id").lower()
    return int(value, 16) if _EVENT_ID.fullmatch(value) else 0


# --- rendering -----------------------------------------------------------------------------------


def _author(name: str | None) -> dict[str, Any]:
    # The Hub leaves `author` out for a deleted account: the client then shows "deleted".
    return {"author": {"name": name, "type": "user"}} if name is not None else {}


def _summary(discussion: DiscussionRecord) -> dict[str, Any]:
    return {
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status.value,
        "isPullRequest": discussion.is_pull_request,
        "createdAt": payloads.date(discussion.created_at),
        "updatedAt": payloads.date(discussion.updated_at),
        **_author(discussion.author_name),
    }


def _details(details: DiscussionDetails) -> dict[str, Any]:
    discussion = details.discussion
    body = {
        **_summary(discussion),
        "repo": {"name": details.repo.repo_id, "type": details.repo.type},
        "events": [_event(event) for event in details.events],
    }
    if discussion.is_pull_request:
        changes: dict[str, Any] = {"base": f"refs/heads/{discussion.target_branch}"}
        if discussion.merge_commit_id is not None:
            changes["mergeCommitId"] = discussion.merge_commit_id
        body["changes"] = changes
        body["filesWithConflicts"] = list(details.conflicts)
        if details.diff is not None:
            body["diff"] = details.diff
    return body


def _event(event: DiscussionEvent) -> dict[str, Any]:
    detail = event.detail
    data: dict[str, Any]
    if isinstance(detail, Comment):
        data = {
            "edited": detail.edits > 0,
            "hidden": detail.hidden,
            "latest": {
                "raw": detail.content,
                "html": render_markdown(detail.content),
                "updatedAt": payloads.date(detail.updated_at),
                **_author(event.author_name),
            },
            "numEdits": detail.edits,
            "history": [
                {"raw": edit.content, "updatedAt": payloads.date(edit.written_at)}
                for edit in detail.history
            ],
        }
    elif isinstance(detail, StatusChange):
        data = {"status": detail.status.value}
    elif isinstance(detail, TitleChange):
        data = {"from": detail.old, "to": detail.new}
    else:
        assert isinstance(detail, CommitAdded)
        data = {"subject": detail.summary, "oid": detail.commit_id}
    return {
        "id": event_id(event),
        "type": event.kind.value,
        "createdAt": payloads.date(event.created_at),
        **_author(event.author_name),
        "data": data,
    }


routes = [
    Route(_THREADS, list_discussions, methods=["GET"]),
    Route(_THREADS, create_discussion, methods=["POST"]),
    Route(_THREAD, get_discussion, methods=["GET"]),
    Route(_THREAD + "/comment", comment, methods=["POST"]),
    Route(_THREAD + "/title", rename, methods=["POST"]),
    Route(_THREAD + "/status", change_status, methods=["POST"]),
    Route(_THREAD + "/merge", merge, methods=["POST"]),
    Route(_THREAD + "/comment/{comment_id}/edit", edit_comment, methods=["POST"]),
    Route(_THREAD + "/comment/{comment_id}/hide", hide_comment, methods=["POST"]),
]
