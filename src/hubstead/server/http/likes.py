"""Like endpoints.

Serves: `POST /api/{T}/{repo}/like` (like), `DELETE /api/{T}/{repo}/like` (unlike),
`GET /api/{T}/{repo}/likers` and `GET /api/users/{username}/likes`, both Link-paginated
(`limit` sets the page size).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server.http import payloads
from hubstead.server.http.context import (
    avatar_url,
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    param,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO

_PAGE_SIZE = 100


async def like(request: Request) -> Response:
    """Like a repo."""
    caller = await identity(request)
    await call(services(request).likes.like, caller, repo_type(request), repo_id(request))
    return JSONResponse({})


async def unlike(request: Request) -> Response:
    """Take back a like."""
    caller = await identity(request)
    await call(services(request).likes.unlike, caller, repo_type(request), repo_id(request))
    return JSONResponse({})


async def list_repo_likers(request: Request) -> Response:
    """A page of the users who like a repo."""
    offset, limit = (
        decode_cursor(request),
        int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE),
    )
    caller = await identity(request)
    page = await call(
        services(request).likes.likers,
        caller,
        repo_type(request),
        repo_id(request),
        offset,
        limit,
    )
    items = [
        {"user": u.name, "fullname": u.fullname, "avatarUrl": avatar_url(request, u.name)}
        for u in page
    ]
    return JSONResponse(items, headers=next_link(request, offset + limit) if page.more else {})


async def list_liked_repos(request: Request) -> Response:
    """A page of the repos a user likes that the caller can see."""
    offset, limit = (
        decode_cursor(request),
        int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE),
    )
    caller = await identity(request)
    page = await call(
        services(request).likes.liked_repos, caller, param(request, "username"), offset, limit
    )
    items = [
        {
            "createdAt": payloads.date(liked.liked_at),
            "repo": {"name": liked.repo.repo_id, "type": liked.repo.type},
        }
        for liked in page
    ]
    return JSONResponse(items, headers=next_link(request, offset + limit) if page.more else {})


routes = [
    Route(API_REPO + "/like", like, methods=["POST"]),
    Route(API_REPO + "/like", unlike, methods=["DELETE"]),
    Route(API_REPO + "/likers", list_repo_likers, methods=["GET"]),
    Route("/api/users/{username}/likes", list_liked_repos, methods=["GET"]),
]
