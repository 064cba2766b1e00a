"""The web hub's routes, mounted by `server/app.py` after every API route.

A page family (a module of `web/pages/`) exports `routes`, a list of starlette `Route`s, and is
added to `routes()` below; each route's endpoint is wrapped by
`page`, which turns a domain error into its error page and puts the security headers on
whatever the handler answers (redirects included).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hubstead.server import errors
from hubstead.server.web.assets import Assets
from hubstead.server.web.errors import error_page
from hubstead.server.web.pages import (
    admin,
    collections,
    devices,
    discussions,
    editor,
    home,
    new_repo,
    people,
    repo_settings,
    repos,
    settings,
    sign_in,
    space_logs,
    uploads,
    webhooks,
)
from hubstead.server.web.render import secure

Handler = Callable[[Request], Awaitable[Response]]


def page(handler: Handler) -> Handler:
    """`handler` answering its domain errors with their page, and every answer secured."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except errors.HubError as exc:
            return await error_page(request, exc)
        return secure(response)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def routes(assets: Assets) -> list[BaseRoute]:
    """Every web route: the page families' and the static files'."""
    # Repo pages last: `/{namespace}/{name}` would match every other family's two-segment paths.
    # Collections and people before every `/{namespace}/{name}/...` family: `/collections/...`
    # and `/organizations/{org}/settings` are theirs, and `/{name}` never matches a reserved
    # first segment (`/new`, `/settings`, ...), so it shadows no fixed page.
    pages = [
        *home.routes,
        *sign_in.routes,
        *settings.routes,
        *devices.routes,
        *discussions.routes,
        *editor.routes,
        *new_repo.routes,
        *webhooks.routes,
        *collections.routes,
        *people.routes,
        *repo_settings.routes,
        *uploads.routes,
        *space_logs.routes,
        *admin.routes,
        *repos.routes,
    ]
    return [
        Route("/static/{name}", page(assets.get_static), methods=["GET"]),
        *(Route(p.path, page(p.endpoint), methods=p.methods) for p in pages),
    ]
