"""The front page and search.

Serves: `GET /` (recently updated and most liked repos, the search box) and `GET /search?q=`
(models, datasets, spaces, users and organizations whose names contain the query).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubstead.server.http.context import call, services
from hubstead.server.services.explore import SHOWN_TYPES
from hubstead.server.web.render import render
from hubstead.server.web.session import visitor

_FRONT_PAGE_REPOS = 8
_SEARCH_RESULTS = 20
_MAX_QUERY = 200


async def get_home(request: Request) -> Response:
    """The front page."""
    caller = await visitor(request)
    front = await call(services(request).explore.front_page, caller.identity, _FRONT_PAGE_REPOS)
    return await render(request, "home.html", front=front, types=SHOWN_TYPES)


async def get_search(request: Request) -> Response:
    """Search results across repos and accounts."""
    caller = await visitor(request)
    query = request.query_params.get("q", "")[:_MAX_QUERY]
    results = await call(services(request).explore.search, caller.identity, query, _SEARCH_RESULTS)
    return await render(request, "search.html", results=results, types=SHOWN_TYPES)


routes = [
    Route("/", get_home, methods=["GET"]),
    Route("/search", get_search, methods=["GET"]),
]
