"""User and organization profiles.

Serves: `GET /api/users/{user}/overview|followers|following`,
`GET /api/organizations/{org}/overview|members|followers`, `PUT /api/organizations/{org}/settings`
(hubstead's own: `privateByDefault`, for the org's admins), `POST|DELETE
/api/users/{user}/follow` and `/api/organizations/{org}/follow` (hubstead's own: the client has
no method for it), and the storage listings `GET /api/settings/repositories` (the caller's
namespace) and `GET /api/organizations/{org}/settings/repositories`. Listings are
Link-paginated (`limit`, then a `cursor` in the `next` URL).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind
from hubstead.server.domain.profiles import Profile, RepoStorage
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    avatar_url,
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    param,
    read_json_object,
    services,
)
from hubstead.server.services.pages import Page

_PAGE_SIZE = 500
_USERS = "/api/users/{user}"
_ORGS = "/api/organizations/{org}"


def _kind(request: Request) -> tuple[str, AccountKind]:
    """The account the path names, and whether the path is about a user or an organization."""
    if "user" in request.path_params:
        return param(request, "user"), AccountKind.USER
    return param(request, "org"), AccountKind.ORG


def _account(request: Request, account: Account) -> dict[str, Any]:
    """An item of a people listing: the Hub's user object (organizations as `type: org`)."""
    return {
        "user": account.name,
        "fullname": account.fullname,
        "avatarUrl": avatar_url(request, account.name),
        "type": "user" if account.kind is AccountKind.USER else "org",
        "isPro": False,
    }


def _org(request: Request, org: Account) -> dict[str, Any]:
    return {
        "name": org.name,
        "fullname": org.fullname,
        "avatarUrl": avatar_url(request, org.name),
        "type": "org",
    }


def _overview(request: Request, profile: Profile) -> dict[str, Any]:
    account = profile.account
    counts = {
        "numModels": profile.repos.models,
        "numDatasets": profile.repos.datasets,
        "numSpaces": profile.repos.spaces,
        "numFollowers": profile.followers,
        "numPapers": 0,
        "createdAt": payloads.date(account.created_at),
    }
    if profile.is_following is not None:
        counts["isFollowing"] = profile.is_following
    if account.kind is AccountKind.ORG:
        return {**_org(request, account), **counts, "numUsers": profile.members}
    return {
        **_account(request, account),
        **counts,
        "numFollowing": profile.following,
        "numDiscussions": profile.discussions,
        "numLikes": profile.likes,
        "numUpvotes": 0,
        "orgs": [_org(request, org) for org in profile.orgs],
    }


def _page(request: Request, page: Page[Any], offset: int, limit: int, render: Any) -> Response:
    headers = next_link(request, offset + limit) if page.more else {}
    return JSONResponse([render(request, item) for item in page.items], headers=headers)


def _window(request: Request) -> tuple[int, int]:
    return decode_cursor(request), int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)


async def get_overview(request: Request) -> Response:
    """A user's or organization's overview, with the counts the caller may see."""
    name, kind = _kind(request)
    caller = await identity(request)
    profile = await call(services(request).profiles.overview, caller, name, kind)
    return JSONResponse(_overview(request, profile))


async def list_members(request: Request) -> Response:
    """A page of an organization's members."""
    offset, limit = _window(request)
    page = await call(services(request).profiles.members, param(request, "org"), offset, limit)
    return _page(request, page, offset, limit, _account)


async def list_followers(request: Request) -> Response:
    """A page of the users following a user or an organization."""
    name, kind = _kind(request)
    offset, limit = _window(request)
    page = await call(services(request).profiles.followers, name, kind, offset, limit)
    return _page(request, page, offset, limit, _account)


async def list_following(request: Request) -> Response:
    """A page of the users and organizations a user follows."""
    offset, limit = _window(request)
    page = await call(services(request).profiles.following, param(request, "user"), offset, limit)
    return _page(request, page, offset, limit, _account)


async def follow(request: Request) -> Response:
    """Follow (POST) or stop following (DELETE) a user or an organization; idempotent."""
    name, kind = _kind(request)
    caller = await identity(request)
    profiles = services(request).profiles
    change = profiles.follow if request.method == "POST" else profiles.unfollow
    changed = await call(change, caller, name, kind)
    return JSONResponse({"changed": changed})


async def update_org_settings(request: Request) -> Response:
    """Change an organization's settings (`privateByDefault`); its admins only."""
    body = await read_json_object(request)
    private = body.get("privateByDefault")
    if not isinstance(private, bool):
        raise errors.InvalidRequestError("'privateByDefault' must be a boolean")
    caller = await identity(request)
    org = await call(
        services(request).profiles.update_org_settings, caller, param(request, "org"), private
    )
    return JSONResponse({"name": org.name, "privateByDefault": org.private_by_default})


def _repo_storage(request: Request, item: RepoStorage) -> dict[str, Any]:
    return {
        "id": item.repo_id,
        "type": item.type,
        "updatedAt": payloads.date(item.last_modified),
        "visibility": "private" if item.private else "public",
        "storage": item.used_bytes,
        "storagePercent": round(item.percent, 2),
    }


async def list_repo_storage(request: Request) -> Response:
    """A page of the repos of the caller's namespace, or of an organization, with their bytes."""
    org = param(request, "org") if "org" in request.path_params else None
    offset, limit = _window(request)
    caller = await identity(request)
    page = await call(services(request).profiles.repo_storage, caller, org, offset, limit)
    return _page(request, page, offset, limit, _repo_storage)


routes = [
    Route(_USERS + "/overview", get_overview, methods=["GET"]),
    Route(_USERS + "/followers", list_followers, methods=["GET"]),
    Route(_USERS + "/following", list_following, methods=["GET"]),
    Route(_USERS + "/follow", follow, methods=["POST", "DELETE"]),
    Route(_ORGS + "/overview", get_overview, methods=["GET"]),
    Route(_ORGS + "/members", list_members, methods=["GET"]),
    Route(_ORGS + "/followers", list_followers, methods=["GET"]),
    Route(_ORGS + "/follow", follow, methods=["POST", "DELETE"]),
    Route(_ORGS + "/settings", update_org_settings, methods=["PUT"]),
    Route("/api/settings/repositories", list_repo_storage, methods=["GET"]),
    Route(_ORGS + "/settings/repositories", list_repo_storage, methods=["GET"]),
]
