"""Signing in and out.

Serves: `GET /login` (the form: username and password, or an access token), `POST /login`
and `POST /logout`. After signing in, the browser goes back to `next` when it is a path of
this hub, else to the front page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http.context import call, services
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import end_session, start_session, visitor


def _next(target: str | None) -> str:
    """Where to go after signing in: a local path only (never `//host` or a URL)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _client(request: Request) -> tuple[str, str]:
    address = request.client.host if request.client else "-"
    return address, request.headers.get("user-agent", "")


async def get_login(request: Request) -> Response:
    """The sign-in form."""
    caller = await visitor(request)
    target = _next(request.query_params.get("next"))
    if caller.session is not None:
        return RedirectResponse(target, status_code=303)
    return await render(request, "login.html", next=target, error=None, username="")


async def post_login(request: Request) -> Response:
    """Check a password (or a token) and start a session."""
    _, form = await csrf.read_form(request)
    target = _next(form.get("next"))
    sessions = services(request).sessions
    username = form.get("username", "")
    try:
        if form.get("token"):
            new = await call(sessions.sign_in_with_token, form["token"], *_client(request))
        else:
            new = await call(
                sessions.sign_in, username, form.get("password", ""), *_client(request)
            )
    except (errors.AuthenticationError, errors.TooManyRequestsError) as exc:
        status = errors.status_of(exc)
        return await render(
            request, "login.html", status, next=target, error=exc.message, username=username
        )
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, new)
    return response


async def post_logout(request: Request) -> Response:
    """End the session, on the server and in the browser."""
    caller, _ = await csrf.read_form(request)
    if caller.session is not None:
        await call(services(request).sessions.sign_out, caller.session)
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response


routes = [
    Route("/login", get_login, methods=["GET"]),
    Route("/login", post_login, methods=["POST"]),
    Route("/logout", post_logout, methods=["POST"]),
]
