"""Identity endpoints.

Serves: `GET /api/whoami-v2`, and `GET /avatars/{name}.svg` (the `avatarUrl` it returns).
"""

from __future__ import annotations

import hashlib
import html

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http.context import avatar_url, call, identity, param, services


async def get_whoami(request: Request) -> Response:
    """The caller's account, orgs and token."""
    caller = await identity(request)
    if caller.account is None:
        raise errors.AuthenticationError("You must send a token to ask who you are")
    account = caller.account
    memberships = await call(services(request).auth.memberships, account)
    return JSONResponse(
        {
            "type": "user",
            "id": f"{account.id:024x}",
            "name": account.name,
            "fullname": account.fullname,
            "email": account.email,
            "emailVerified": account.email is not None,
            "isPro": False,
            "canPay": False,
            "avatarUrl": avatar_url(request, account.name),
            "isAdmin": account.is_admin,
            "orgs": [
                {
                    "type": "org",
                    "id": f"{m.org.id:024x}",
                    "name": m.org.name,
                    "fullname": m.org.fullname,
                    "roleInOrg": m.role.value,
                    "avatarUrl": avatar_url(request, m.org.name),
                }
                for m in memberships
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": caller.token_name,
                    "role": caller.token_role.value if caller.token_role else None,
                },
            },
        }
    )


async def get_avatar(request: Request) -> Response:
    """A generated avatar: the account's initial on a colour derived from its name."""
    name = param(request, "name")
    hue = int(hashlib.sha256(name.lower().encode()).hexdigest()[:4], 16) % 360
    initial = html.escape(name[:1].upper() or "?")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="hsl({hue},55%,45%)"/>'
        '<text x="32" y="43" font-family="sans-serif" font-size="30" text-anchor="middle" '
        f'fill="#fff">{initial}</text></svg>'
    )
    return Response(
        svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


routes = [
    Route("/api/whoami-v2", get_whoami, methods=["GET"]),
    Route("/avatars/{name}.svg", get_avatar, methods=["GET"]),
]
