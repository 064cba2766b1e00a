"""Users and organizations: profiles, follows, members, and organization settings.

Serves: `GET /{name}` (a user's or organization's profile: avatar, full name, the repos the
visitor may see by type, likes, followers and following with the follow button, an
organization's members, collections), `GET /{name}/followers`, `GET /{name}/following` and
`GET /{name}/likes` (users), `POST /{name}/follow` and `POST /{name}/unfollow`,
`GET /organizations/{org}/members` (anyone; `/organizations/{org}` redirects to `/{org}`), and
for an organization's admins (and site admins) `GET|POST /organizations/{org}/settings` (new
repos private by default) and `GET /organizations/{org}/settings/members` with
`POST .../members` (add a user with a role, or change a member's role) and
`POST .../members/remove`.

`/{name}` never shadows another page: its segment is never a reserved name (the hub's own first
segments, `services/auth.RESERVED_NAMES`, plus `admin`), and these routes come before the repo
pages' `/{namespace}/{name}`. A model named `followers`, `following` or `likes` is shadowed by
these sub-pages on the web (not in the API).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import quote

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind, Role
from hubstead.server.http.context import call, param, services
from hubstead.server.services import access
from hubstead.server.services.auth import RESERVED_NAMES
from hubstead.server.services.explore import SHOWN_TYPES
from hubstead.server.services.pages import Page
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import signed_in, visitor
from hubstead.server.web.urls import page_index

PEOPLE_PAGE = 50
People = Page[Account]
PROFILE_COLLECTIONS = 20
PROFILE_REPOS = 12
"""The repos of each type a profile lists, most recently modified first; the rest by "see all"."""
_ROLES = {role.value: role for role in Role}


class AccountNameConvertor(StringConvertor):
    """A profile's segment: any name but the reserved ones, the hub's own first segments.

    Matched in any case. The admin pages live under `/-/`, which no account name can start
    with, so the bootstrap `admin` user keeps its profile at `/admin`.
    """

    regex = "(?!(?i:" + "|".join(sorted(map(re.escape, RESERVED_NAMES))) + ")(?:/|$))[^/]+"


register_url_convertor("account_name", AccountNameConvertor())


def account_param(name: str) -> str:
    """A path parameter `name` holding an account's name (never a reserved segment)."""
    return "{" + name + ":account_name}"


async def get_profile(request: Request) -> Response:
    """A user's or organization's profile."""
    caller = await visitor(request)
    hub = services(request)
    view = await call(hub.profiles.view, caller.identity, param(request, "name"))
    name = view.profile.account.name
    collections = await call(
        hub.collections.list,
        caller.identity,
        owners=[name],
        item=None,
        offset=0,
        limit=PROFILE_COLLECTIONS,
    )
    by_type = {
        type: [repo for repo in view.repos if repo.type == type.value] for type in SHOWN_TYPES
    }
    return await render(
        request,
        "people/profile.html",
        view=view,
        owner=view.profile.account,
        is_org=view.profile.account.kind is AccountKind.ORG,
        by_type=by_type,
        collections=collections,
        shown_repos=PROFILE_REPOS,
        may_admin=access.namespace_role(caller.identity, name) is Role.ADMIN,
    )


async def _people_page(
    request: Request, name: str, what: str, heading: str, listing: Callable[[int, int], People]
) -> Response:
    """A page of people: `listing(offset, limit)`."""
    await visitor(request)
    page_number = page_index(request)
    found = await call(listing, page_number * PEOPLE_PAGE, PEOPLE_PAGE)
    return await render(
        request,
        "people/people.html",
        name=name,
        what=what,
        heading=heading,
        people=found,
        page_number=page_number + 1,
    )


async def get_followers(request: Request) -> Response:
    """The users following a user or an organization."""
    name = param(request, "name")
    listing = functools.partial(services(request).profiles.followers, name, None)
    return await _people_page(request, name, "followers", f"Followers of {name}", listing)


async def get_following(request: Request) -> Response:
    """The users and organizations a user follows."""
    name = param(request, "name")
    listing = functools.partial(services(request).profiles.following, name)
    return await _people_page(request, name, "following", f"Followed by {name}", listing)


async def get_members(request: Request) -> Response:
    """An organization's members."""
    org = param(request, "org")
    listing = functools.partial(services(request).profiles.members, org)
    return await _people_page(request, org, "members", f"Members of {org}", listing)


async def get_likes(request: Request) -> Response:
    """The repos a user likes that the visitor may see, most recent first."""
    caller = await visitor(request)
    name = param(request, "name")
    page_number = page_index(request)
    found = await call(
        services(request).likes.liked_repos,
        caller.identity,
        name,
        page_number * PEOPLE_PAGE,
        PEOPLE_PAGE,
    )
    return await render(
        request,
        "people/likes.html",
        name=name,
        repos=[liked.repo for liked in found.items],
        more=found.more,
        page_number=page_number + 1,
    )


async def post_follow(request: Request) -> Response:
    """Follow (`/follow`) or stop following (`/unfollow`) a user or an organization."""
    await signed_in(request)
    caller, _ = await csrf.read_form(request)
    name = param(request, "name")
    profiles = services(request).profiles
    change = profiles.unfollow if request.url.path.endswith("/unfollow") else profiles.follow
    await call(change, caller.identity, name, None)
    return RedirectResponse("/" + quote(name, safe=""), status_code=303)


async def get_org(request: Request) -> Response:
    """`/organizations/{org}`: the organization's profile is at `/{org}`."""
    return RedirectResponse("/" + quote(param(request, "org"), safe=""), status_code=301)


async def get_org_settings(request: Request) -> Response:
    """An organization's settings, for its admins."""
    caller = await signed_in(request)
    found = await call(
        services(request).profiles.org_members, caller.identity, param(request, "org")
    )
    return await render(request, "people/org_settings.html", org=found.org, tab="settings")


async def post_org_settings(request: Request) -> Response:
    """Change whether the organization's new repos are private by default."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    org = await call(
        services(request).profiles.update_org_settings,
        caller.identity,
        param(request, "org"),
        form.get("private_by_default") == "on",
    )
    return RedirectResponse(f"/organizations/{org.name}/settings?saved=1", status_code=303)


async def get_org_members(request: Request) -> Response:
    """An organization's members with their roles, for its admins to manage."""
    await signed_in(request)
    return await _members_page(request, param(request, "org"))


async def post_org_member(request: Request) -> Response:
    """Add a user to the organization with a role, or change a member's role."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    org = param(request, "org")
    role = _ROLES.get(form.get("role", ""))
    user = form.get("user", "").strip()
    if role is None or not user:
        message = "Name a user and a role (read, write or admin)"
        return await _members_page(request, org, 400, message)
    profiles = services(request).profiles
    try:
        await call(profiles.set_member_role, caller.identity, org, user, role)
    except (errors.AccountNotFoundError, errors.ConflictError) as exc:
        return await _members_page(request, org, errors.status_of(exc), exc.message)
    return RedirectResponse(f"/organizations/{org}/settings/members", status_code=303)


async def post_remove_org_member(request: Request) -> Response:
    """Remove a member from the organization."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    org = param(request, "org")
    profiles = services(request).profiles
    try:
        await call(profiles.remove_member, caller.identity, org, form.get("user", ""))
    except (errors.AccountNotFoundError, errors.ConflictError) as exc:
        return await _members_page(request, org, errors.status_of(exc), exc.message)
    return RedirectResponse(f"/organizations/{org}/settings/members", status_code=303)


async def _members_page(
    request: Request, org: str, status: int = 200, error: str | None = None
) -> Response:
    caller = await visitor(request)
    found = await call(services(request).profiles.org_members, caller.identity, org)
    return await render(
        request,
        "people/org_members.html",
        status,
        org=found.org,
        members=found.members,
        roles=list(_ROLES),
        tab="members",
        error=error,
    )


_ORG = "/organizations/" + account_param("org")
_PROFILE = "/" + account_param("name")

routes = [
    Route(_ORG, get_org, methods=["GET"]),
    Route(_ORG + "/members", get_members, methods=["GET"]),
    Route(_ORG + "/settings", get_org_settings, methods=["GET"]),
    Route(_ORG + "/settings", post_org_settings, methods=["POST"]),
    Route(_ORG + "/settings/members", get_org_members, methods=["GET"]),
    Route(_ORG + "/settings/members", post_org_member, methods=["POST"]),
    Route(_ORG + "/settings/members/remove", post_remove_org_member, methods=["POST"]),
    Route(_PROFILE, get_profile, methods=["GET"]),
    Route(_PROFILE + "/followers", get_followers, methods=["GET"]),
    Route(_PROFILE + "/following", get_following, methods=["GET"]),
    Route(_PROFILE + "/likes", get_likes, methods=["GET"]),
    Route(_PROFILE + "/follow", post_follow, methods=["POST"]),
    Route(_PROFILE + "/unfollow", post_follow, methods=["POST"]),
]
