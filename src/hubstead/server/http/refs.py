"""Git history endpoints.

Serves: `GET /api/{T}/{repo}/refs`, `GET /api/{T}/{repo}/commits/{rev}`,
`POST|DELETE /api/{T}/{repo}/branch/{branch}`, `POST /api/{T}/{repo}/tag/{rev}`,
`DELETE /api/{T}/{repo}/tag/{tag}` and `POST /api/{T}/{repo}/super-squash/{branch}`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.git import Ref
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    call,
    decode_cursor,
    flag,
    identity,
    int_param,
    next_link,
    param,
    query_list,
    read_json_object,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO

_COMMITS_PAGE = 50
_MAX_COMMITS_PAGE = 1000


def _ref(ref: Ref, name: str) -> dict[str, str]:
    return {"name": name, "ref": ref.name, "targetCommit": ref.target}


async def get_refs(request: Request) -> Response:
    """Branches, tags, conversions and (with `include_prs`) pull request refs."""
    caller = await identity(request)
    listing = await call(services(request).refs.refs, caller, repo_type(request), repo_id(request))
    body: dict[str, Any] = {
        "branches": [_ref(r, r.name.removeprefix("refs/heads/")) for r in listing.branches],
        "tags": [_ref(r, r.name.removeprefix("refs/tags/")) for r in listing.tags],
        "converts": [_ref(r, r.name.removeprefix("refs/convert/")) for r in listing.converts],
    }
    if flag(request, "include_prs"):
        body["pullRequests"] = [_ref(r, r.name) for r in listing.pull_requests]
    return JSONResponse(body)


async def get_commits(request: Request) -> Response:
    """One page of the history of a revision, newest first."""
    formatted = "formatted" in query_list(request, "expand")
    limit = int_param(request, "limit", _COMMITS_PAGE, maximum=_MAX_COMMITS_PAGE)
    offset = decode_cursor(request)
    caller = await identity(request)
    page = await call(
        services(request).refs.commits,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "revision"),
        offset=offset,
        limit=limit,
    )
    items = [payloads.commit_entry(c, formatted=formatted) for c in page.items]
    return JSONResponse(items, headers=next_link(request, offset + limit) if page.more else {})


async def create_branch(request: Request) -> Response:
    """Create a branch from `startingPoint` (default: `main`)."""
    body = await read_json_object(request, allow_empty=True)
    start = body.get("startingPoint")
    if start is not None and not isinstance(start, str):
        raise errors.InvalidRequestError("'startingPoint' must be a string")
    exist_ok = body.get("exist_ok") is True or flag(request, "exist_ok")
    caller = await identity(request)
    await call(
        services(request).refs.create_branch,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "branch"),
        start,
        exist_ok=exist_ok,
    )
    return JSONResponse({})


async def delete_branch(request: Request) -> Response:
    """Delete a branch."""
    caller = await identity(request)
    await call(
        services(request).refs.delete_branch,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "branch"),
    )
    return JSONResponse({})


async def create_tag(request: Request) -> Response:
    """Tag a revision."""
    body = await read_json_object(request)
    tag, message = body.get("tag"), body.get("message")
    if not isinstance(tag, str) or not tag:
        raise errors.InvalidRequestError("'tag' must be a non-empty string")
    if message is not None and not isinstance(message, str):
        raise errors.InvalidRequestError("'message' must be a string")
    caller = await identity(request)
    await call(
        services(request).refs.create_tag,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "revision"),
        tag,
        message,
        exist_ok=flag(request, "exist_ok"),
    )
    return JSONResponse({})


async def delete_tag(request: Request) -> Response:
    """Delete a tag."""
    caller = await identity(request)
    await call(
        services(request).refs.delete_tag,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "revision"),
    )
    return JSONResponse({})


async def super_squash(request: Request) -> Response:
    """Squash a branch's history into one commit."""
    body = await read_json_object(request, allow_empty=True)
    message = body.get("message") or ""
    if not isinstance(message, str):
        raise errors.InvalidRequestError("'message' must be a string")
    caller = await identity(request)
    commit_id = await call(
        services(request).refs.super_squash,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "branch"),
        message,
    )
    return JSONResponse({"commitId": commit_id})


routes = [
    Route(API_REPO + "/refs", get_refs, methods=["GET"]),
    Route(API_REPO + "/commits/{revision:path}", get_commits, methods=["GET"]),
    Route(API_REPO + "/branch/{branch:path}", create_branch, methods=["POST"]),
    Route(API_REPO + "/branch/{branch:path}", delete_branch, methods=["DELETE"]),
    Route(API_REPO + "/tag/{revision:path}", create_tag, methods=["POST"]),
    Route(API_REPO + "/tag/{revision:path}", delete_tag, methods=["DELETE"]),
    Route(API_REPO + "/super-squash/{branch:path}", super_squash, methods=["POST"]),
]
