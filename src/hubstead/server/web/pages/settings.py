"""The signed-in user's settings: profile, password and access tokens.

Serves: `GET|POST /settings/profile` (the full name), `GET|POST /settings/password` (change it:
every session ends, this browser gets a new one), `GET /settings/tokens` (the list), `POST
/settings/tokens` (create one with a role; its secret is shown on the answering page only) and
`POST /settings/tokens/revoke`. The three pages share a side navigation
(`templates/settings/_nav.html`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.http.context import call, services
from hubstead.server.services.auth import NewToken
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in, start_session

_ROLES = {"read": Role.READ, "write": Role.WRITE}
_MAX_TOKEN_NAME = 100


async def get_profile(request: Request) -> Response:
    """The profile form."""
    caller = await signed_in(request)
    assert caller.identity.account is not None
    fullname = caller.identity.account.fullname
    return await render(request, "settings/profile.html", error=None, fullname=fullname)


async def post_profile(request: Request) -> Response:
    """Change the full name."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    fullname = form.get("fullname", "")
    try:
        await call(services(request).profiles.update_profile, caller.identity, fullname)
    except errors.InvalidRequestError as exc:
        return await render(
            request, "settings/profile.html", 400, error=exc.message, fullname=fullname
        )
    return RedirectResponse("/settings/profile?saved=1", status_code=303)


async def get_password(request: Request) -> Response:
    """The password form."""
    await signed_in(request)
    return await render(request, "settings/password.html", error=None, done=False)


async def post_password(request: Request) -> Response:
    """Change the password."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    if form.get("new_password", "") != form.get("confirm_password", ""):
        message = "The two new passwords differ"
        return await render(request, "settings/password.html", 400, error=message, done=False)
    try:
        new = await call(
            services(request).sessions.change_password,
            caller.identity,
            form.get("current_password", ""),
            form.get("new_password", ""),
            request.headers.get("user-agent", ""),
        )
    except (
        errors.AuthenticationError,
        errors.TooManyRequestsError,
        errors.InvalidRequestError,
    ) as exc:
        status = errors.status_of(exc)
        return await render(
            request, "settings/password.html", status, error=exc.message, done=False
        )
    response = RedirectResponse("/settings/password?changed=1", status_code=303)
    start_session(request, response, new)
    return response


async def _tokens_page(
    request: Request,
    caller: Visitor,
    created: NewToken | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    assert caller.identity.account is not None
    tokens = await call(services(request).auth.list_tokens, caller.identity.account.name)
    return await render(
        request, "settings/tokens.html", status, tokens=tokens, created=created, error=error
    )


async def get_tokens(request: Request) -> Response:
    """The user's tokens."""
    return await _tokens_page(request, await signed_in(request))


async def post_token(request: Request) -> Response:
    """Create a token; its secret is on this answer only."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    assert caller.identity.account is not None
    name = form.get("name", "").strip()
    role = _ROLES.get(form.get("role", ""))
    if not name or len(name) > _MAX_TOKEN_NAME or role is None:
        error = f"A token needs a name (up to {_MAX_TOKEN_NAME} characters) and a role"
        return await _tokens_page(request, caller, status=400, error=error)
    auth = services(request).auth
    created = await call(auth.create_token, caller.identity.account.name, role, name=name)
    return await _tokens_page(request, caller, created=created)


async def post_revoke_token(request: Request) -> Response:
    """Revoke the user's tokens of a name."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    assert caller.identity.account is not None
    auth = services(request).auth
    await call(auth.revoke_token, caller.identity.account.name, form.get("name", ""))
    return RedirectResponse("/settings/tokens", status_code=303)


routes = [
    Route("/settings/profile", get_profile, methods=["GET"]),
    Route("/settings/profile", post_profile, methods=["POST"]),
    Route("/settings/password", get_password, methods=["GET"]),
    Route("/settings/password", post_password, methods=["POST"]),
    Route("/settings/tokens", get_tokens, methods=["GET"]),
    Route("/settings/tokens", post_token, methods=["POST"]),
    Route("/settings/tokens/revoke", post_revoke_token, methods=["POST"]),
]
