"""Listing endpoints over a revision's files.

Serves: `GET /api/{T}/{repo}/tree/{rev}[/{path}]` (recursive, expand, Link pagination) and
`POST /api/{T}/{repo}/paths-info/{rev}` (form or JSON body; missing paths are left out).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    call,
    decode_cursor,
    flag,
    identity,
    int_param,
    next_link,
    param,
    parse_json_object,
    read_body,
    repo_id,
    repo_type,
    revision_and_path,
    services,
)
from hubstead.server.http.paths import API_REPO

_PAGE_SIZE = 1000
_EXPANDED_PAGE_SIZE = 50
_MAX_PATHS = 10_000


async def get_tree(request: Request) -> Response:
    """One page of a folder's entries."""
    revision, path = revision_and_path(request)
    recursive = flag(request, "recursive")
    expand = flag(request, "expand")
    page_size = _EXPANDED_PAGE_SIZE if expand else _PAGE_SIZE
    limit = int_param(request, "limit", page_size, maximum=page_size)
    offset = decode_cursor(request)
    caller = await identity(request)
    page = await call(
        services(request).files.tree,
        caller,
        repo_type(request),
        repo_id(request),
        revision,
        path,
        recursive=recursive,
        expand=expand,
        offset=offset,
        limit=limit,
    )
    headers = next_link(request, offset + limit) if page.more else {}
    return JSONResponse([payloads.file_entry(info) for info in page.items], headers=headers)


async def post_paths_info(request: Request) -> Response:
    """Entries for the requested paths that exist."""
    paths, expand = await _paths_request(request)
    caller = await identity(request)
    infos = await call(
        services(request).files.paths_info,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "revision"),
        paths,
        expand=expand,
    )
    return JSONResponse([payloads.file_entry(info) for info in infos])


async def _paths_request(request: Request) -> tuple[list[str], bool]:
    body = await read_body(request, services(request).settings.max_json_bytes)
    if request.headers.get("content-type", "").startswith("application/json"):
        data = parse_json_object(body)
        paths, expand = data.get("paths", []), data.get("expand", False)
    else:
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        paths = form.get("paths", [])
        expand = (form.get("expand") or ["false"])[-1].lower() in ("1", "true")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise errors.InvalidRequestError("'paths' must be a list of strings")
    if len(paths) > _MAX_PATHS:
        raise errors.PayloadTooLargeError(f"At most {_MAX_PATHS} paths per request")
    return paths, bool(expand)


routes = [
    Route(API_REPO + "/tree/{revision}", get_tree, methods=["GET"]),
    Route(API_REPO + "/tree/{revision}/{path:path}", get_tree, methods=["GET"]),
    Route(API_REPO + "/paths-info/{revision:path}", post_paths_info, methods=["POST"]),
]
