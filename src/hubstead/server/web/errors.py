"""Errors as pages: a domain error raised by a page, and unknown paths a browser asks for.

A page's `HubError` becomes an HTML page with the status the API would give
(`server.errors.status_of`), so a private repo is a 404 page exactly as a missing one (for
anonymous visitors too, whom the API answers 401 to invite a token); a page
that needs a signed-in visitor sends an anonymous one to `/login` instead. An unknown path is
an HTML 404 when a browser asks (`GET`/`HEAD` accepting `text/html`, outside `/api/`), and the
API's JSON error otherwise, so no client of the API sees a change.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hubstead.server import errors
from hubstead.server.http import errors as api_errors
from hubstead.server.web.render import render, secure

logger = logging.getLogger("hubstead.server")


def wants_html(request: Request) -> bool:
    """Whether a browser is asking for a page (not an API client for JSON)."""
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def sign_in_url(request: Request) -> str:
    """`/login`, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": here})


async def error_page(request: Request, exc: errors.HubError) -> Response:
    """The page for a domain error a page raised."""
    if isinstance(exc, errors.RepoMovedError):
        # As the API: the old id of a repo the visitor can see redirects to its new one.
        location = api_errors.moved_location(request, exc)
        if location is not None:
            return secure(RedirectResponse(location, status_code=errors.status_of(exc)))
        return await render(request, "error.html", 404, status=404, message=exc.message)
    if isinstance(exc, errors.NotFoundError):
        # The API answers an anonymous caller 401 (a hint to send a token); a page is a 404.
        return await render(request, "error.html", 404, status=404, message=exc.message)
    status = errors.status_of(exc)
    if status == 401 and request.method == "GET":
        return secure(RedirectResponse(sign_in_url(request), status_code=303))
    return await render(request, "error.html", status, status=status, message=exc.message)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own errors: the 404 page for browsers, the API's answer for the rest."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and wants_html(request):
        message = "There is nothing at this address."
        return await render(request, "error.html", 404, status=404, message=message)
    return await api_errors.handle_http_exception(request, exc)
