"""Who is at the browser: a signed-in session, else a bearer token, else nobody.

The session cookie (`hubstead_session`) holds a random secret; the server keeps only its hash
(`services/sessions.py`), so signing out or changing a password ends the session everywhere.
The cookie is HttpOnly and SameSite=Lax, and Secure when the hub is reached over HTTPS (the
request's scheme, or a `public_url` that is https). A request without a session may carry
`Authorization: Bearer <token>`, as API calls do. Either way the page sees the same `Identity`
the API would, so every access rule is the API's.
"""

from __future__ import annotations

import dataclasses
import secrets

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from hubstead.server import errors
from hubstead.server.http.context import bearer_token, call, services
from hubstead.server.services.auth import Identity
from hubstead.server.services.sessions import NewSession

SESSION_COOKIE = "hubstead_session"
# Anonymous browsers get a random seed for their forms' CSRF tokens (`csrf.py`).
SEED_COOKIE = "hubstead_csrf"


@dataclasses.dataclass(frozen=True)
class Visitor:
    """The identity behind a web request, and what its forms' CSRF tokens derive from.

    `session` is the session cookie's secret when one is signed in. `seed` is the secret the
    CSRF token is derived from: the session's, or the anonymous seed cookie's; `new_seed`
    says the seed was just drawn and must be set as a cookie with the response.
    """

    identity: Identity
    session: str | None
    seed: str
    new_seed: bool = False
    stale_session: bool = False

    @property
    def signed_in(self) -> bool:
        """Whether someone is signed in (by session or token)."""
        return self.identity.account is not None


async def visitor(request: HTTPConnection) -> Visitor:
    """The visitor of this request (or websocket), computed once per request.

    Raises:
        AuthenticationError: a bearer token this hub does not know.
    """
    known: Visitor | None = getattr(request.state, "visitor", None)
    if known is not None:
        return known
    hub = services(request)
    secret = request.cookies.get(SESSION_COOKIE)
    identity = await call(hub.sessions.identity, secret) if secret else None
    if identity is not None and secret is not None:
        found = Visitor(identity, secret, secret)
    else:
        token = bearer_token(request)
        identity = (
            await call(hub.auth.authenticate, token) if token else hub.auth.authenticate(None)
        )
        seed = request.cookies.get(SEED_COOKIE)
        found = Visitor(
            identity,
            None,
            seed or secrets.token_urlsafe(24),
            new_seed=not seed,
            stale_session=secret is not None,
        )
    request.state.visitor = found
    return found


async def signed_in(request: Request) -> Visitor:
    """The visitor, who must be signed in (a page sends others to `/login`).

    Raises:
        AuthenticationError: nobody is signed in.
    """
    found = await visitor(request)
    if not found.signed_in:
        raise errors.AuthenticationError("Sign in to see this page")
    return found


def _secure(request: Request) -> bool:
    public_url = services(request).settings.public_url or ""
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """Set one of the web hub's cookies: HttpOnly, SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def start_session(request: Request, response: Response, new: NewSession) -> None:
    """Give the browser the cookie of a session just started."""
    max_age = int((new.session.expires_at - new.session.created_at).total_seconds())
    set_cookie(request, response, SESSION_COOKIE, new.secret, max_age)


def end_session(request: Request, response: Response) -> None:
    """Take the session cookie away from the browser."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )
