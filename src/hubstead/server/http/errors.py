"""Domain errors to HTTP responses, with the HF error headers on every error.

The status comes from the domain's one table, `server.errors.status_of`.

Every error response carries `X-Error-Message`, a JSON `{"error": ...}` body (not on HEAD),
`X-Error-Code` when the error has one, and `X-Request-Id` (set by the middleware). These are the
fields `huggingface_hub.utils.hf_raise_for_status` reads to choose its exception class.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hubstead.protocol import (
    HEADER_ERROR_CODE,
    HEADER_ERROR_MESSAGE,
    HEADER_REPO_COMMIT,
    ErrorCode,
)
from hubstead.server import errors

logger = logging.getLogger("hubstead.server")
_SHOWN_PATH = 200


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    plain: bool = False,
    media_type: str = "application/json",
) -> Response:
    """An HF-style error response; `plain` puts the message in a text body instead of JSON.

    git prints a `text/plain` error body to its user (as `remote: ...`), and nothing else.
    git-lfs reads JSON of its own media type (`media_type`).
    """
    all_headers = {HEADER_ERROR_MESSAGE: _header_safe(message), **(headers or {})}
    if code is not None:
        all_headers[HEADER_ERROR_CODE] = code
    body = {"error": message, **(extra or {})}
    if request.method == "HEAD":
        return Response(status_code=status, headers=all_headers)
    if plain:
        return PlainTextResponse(message + "\n", status_code=status, headers=all_headers)
    return JSONResponse(body, status_code=status, headers=all_headers, media_type=media_type)


async def handle_hub_error(request: Request, exc: Exception) -> Response:
    """Render a `HubError` raised by a service."""
    assert isinstance(exc, errors.HubError)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.RepoMovedError):
        location = moved_location(request, exc)
        if location is None:
            return error_response(
                request, 404, f"Repository not found: {exc.old_repo_id}", code="RepoNotFound"
            )
        headers["Location"] = location
    if isinstance(exc, errors.EntryNotFoundError) and exc.commit_id:
        headers[HEADER_REPO_COMMIT] = exc.commit_id
    if isinstance(exc, errors.RangeNotSatisfiableError):
        headers["Content-Range"] = f"bytes */{exc.size}"
    if isinstance(exc, errors.ConflictError) and exc.url:
        extra["url"] = exc.url
    if isinstance(exc, errors.ConflictError) and exc.slug:
        extra["slug"] = exc.slug
    if isinstance(exc, errors.SpaceNotRunningError):
        headers["Retry-After"] = str(exc.retry_after)
        extra["stage"] = exc.stage
    code = exc.code.value if exc.code else None
    return error_response(
        request, errors.status_of(exc), exc.message, code=code, headers=headers, extra=extra
    )


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Render Starlette's own errors (unknown route, wrong method) the same way.

    A path under `/api/` that no route matches names no API of this hub: it says so, with a
    code of its own. Anything but the four codes `huggingface_hub` maps (and a 404, not a 401)
    makes that client raise a plain `HfHubHTTPError` carrying the message, never a misleading
    `RepositoryNotFoundError`.
    """
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404 and path.startswith("/api/"):
        shown = path if len(path) <= _SHOWN_PATH else path[:_SHOWN_PATH] + "..."
        message = f"No such API: {request.method} {shown} is not an endpoint of this hub"
        return error_response(request, 404, message, code=ErrorCode.ENDPOINT_NOT_FOUND)
    return error_response(
        request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {})
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Log the traceback with the request id; tell the client only the id."""
    request_id = getattr(request.state, "request_id", "-")
    logger.exception("unhandled error in %s %s [%s]", request.method, request.url.path, request_id)
    return error_response(
        request, 500, f"Internal server error (request id {request_id}); see the server log"
    )


def moved_location(request: Request, exc: errors.RepoMovedError) -> str | None:
    """This request's path (and query) with the moved repo's old id replaced by its new one."""
    raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    old = f"/{exc.old_repo_id}".lower()
    lowered = raw.lower()
    index = lowered.find(old + "/")
    if index < 0 and lowered.endswith(old):
        index = len(raw) - len(old)
    if index < 0:
        return None
    location = raw[:index] + f"/{exc.repo_id}" + raw[index + len(old) :]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{location}?{query}" if query else location


def _header_safe(message: str) -> str:
    # Control characters (a NUL from a request path, a newline) are illegal in header values:
    # the server would drop the connection instead of answering.
    latin1 = message.encode("latin-1", errors="replace").decode("latin-1")
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in latin1)
