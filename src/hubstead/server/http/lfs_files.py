"""LFS object management (core.md §5.3), for `list_lfs_files` and `permanently_delete_lfs_files`.

Serves: `GET /api/{T}/{repo}/lfs-files` (Link-paginated) and
`POST /api/{T}/{repo}/lfs-files/batch` with `{"deletions": {"sha": [...], "rewriteHistory": b}}`
(the client always sends `rewriteHistory`; absent, it is false), both with write access to the
repo; and `POST /api/{T}/{repo}/lfs-files/duplicate` with
`{"target": {"type", "name"}, "files": [{"sha256", "xetHash", "filename"}]}`, answering
`{"failed": [{"sha256", "error"}]}` (read access to this repo, write access to the target):
what a cross-repo `CommitOperationCopy` asks before it commits.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    body_repo_type,
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    read_json_object,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO
from hubstead.server.services.lfs_files import DuplicateRequest

_PAGE_SIZE = 1000


async def list_lfs_files(request: Request) -> Response:
    """One page of the repo's LFS objects, newest first, with a `Link` to the next."""
    limit = int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)
    offset = decode_cursor(request)
    caller = await identity(request)
    page = await call(
        services(request).lfs_files.list,
        caller,
        repo_type(request),
        repo_id(request),
        offset=offset,
        limit=limit,
    )
    headers = next_link(request, offset + limit) if page.more else {}
    return JSONResponse([payloads.lfs_file(f) for f in page.items], headers=headers)


async def delete_lfs_files(request: Request) -> Response:
    """Permanently delete LFS objects of the repo, with every ref's history rewritten if asked."""
    body = await read_json_object(request)
    deletions = body.get("deletions")
    if not isinstance(deletions, dict):
        raise errors.InvalidRequestError("The body must be {'deletions': {'sha': [...]}}")
    digests = deletions.get("sha")
    if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
        raise errors.InvalidRequestError("'deletions.sha' must be a list of sha256 strings")
    rewrite = deletions.get("rewriteHistory", False)
    if not isinstance(rewrite, bool):
        raise errors.InvalidRequestError("'deletions.rewriteHistory' must be a boolean")
    caller = await identity(request)
    deleted = await call(
        services(request).lfs_files.delete,
        caller,
        repo_type(request),
        repo_id(request),
        digests,
        rewrite_history=rewrite,
    )
    return JSONResponse({"deleted": deleted})


async def duplicate_lfs_files(request: Request) -> Response:
    """Link LFS objects of this repo to the target repo, so that a commit there can name them."""
    body = await read_json_object(request)
    target, files = body.get("target"), body.get("files")
    if not isinstance(target, dict) or not isinstance(files, list):
        raise errors.InvalidRequestError(
            "The body must be {'target': {'type', 'name'}, 'files': [{'sha256', 'xetHash'}]}"
        )
    target_type = body_repo_type(target)
    target_id = target.get("name")
    if not isinstance(target_id, str):
        raise errors.InvalidRequestError("'target' needs the 'name' of a repo")
    wanted = [_duplicate_request(item) for item in files]
    caller = await identity(request)
    failed = await call(
        services(request).lfs_files.duplicate,
        caller,
        repo_type(request),
        repo_id(request),
        target_type,
        target_id,
        wanted,
    )
    return JSONResponse({"failed": [{"sha256": f.sha256, "error": f.error} for f in failed]})


def _duplicate_request(item: object) -> DuplicateRequest:
    if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
        raise errors.InvalidRequestError("Each file needs a 'sha256' string")
    xet_hash = item.get("xetHash")
    if xet_hash is not None and not isinstance(xet_hash, str):
        raise errors.InvalidRequestError("'xetHash' must be a string")
    return DuplicateRequest(item["sha256"], xet_hash)


_LFS_FILES = API_REPO + "/lfs-files"
routes = [
    Route(_LFS_FILES, list_lfs_files, methods=["GET"]),
    Route(_LFS_FILES + "/batch", delete_lfs_files, methods=["POST"]),
    Route(_LFS_FILES + "/duplicate", duplicate_lfs_files, methods=["POST"]),
]
