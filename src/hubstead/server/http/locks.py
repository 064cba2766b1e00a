"""The git-lfs file locking API: `git lfs lock`, `git lfs unlock`, `git lfs locks`, and pushes.

Serves, under a repo's LFS endpoint `/{P}{repo}.git/info/lfs` (models, and under the `datasets/`,
`spaces/` and `kernels/` prefixes, as `lfs.py`):
`POST …/locks` (lock a path: 201, or 409 with the lock that holds it),
`GET …/locks?path=&id=&cursor=&limit=&refspec=` (the repo's locks, a page at a time),
`POST …/locks/verify` (the locks a push must respect: the caller's `ours`, everyone else's
`theirs`) and `POST …/locks/{id}/unlock` (`force` to release someone else's lock).

Who may do what is `services/locks.py`'s. Bodies are `application/vnd.git-lfs+json`, errors too,
in the shape git-lfs prints: `{"message", "request_id"}` (with the `X-Error-*` headers and the
`error` key the rest of the hub sends). A page's `next_cursor` is opaque to clients: it encodes
the path the next page starts at.
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubstead.protocol import lookup_path_problem
from hubstead.server import errors
from hubstead.server.domain.locks import LockRecord
from hubstead.server.http.context import (
    call,
    identity,
    int_param,
    param,
    prefixed_repo_type,
    read_json_object,
    repo_id,
    services,
)
from hubstead.server.http.lfs import lfs_error_response, lfs_errors, lfs_response
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.locks import DEFAULT_PAGE, MAX_PAGE


async def post_lock(request: Request) -> Response:
    """Lock a path for the caller."""
    body = await read_json_object(request)
    path = body.get("path")
    if not isinstance(path, str):
        raise errors.InvalidRequestError(
            "A lock needs a 'path': the file to lock, relative to the root of the repo"
        )
    _check_ref(body)
    caller = await identity(request)
    locks = services(request).locks
    try:
        lock = await call(locks.lock, caller, prefixed_repo_type(request), repo_id(request), path)
    except errors.PathLockedError as exc:
        return lfs_error_response(request, exc, lock=_render(exc.lock))
    return lfs_response({"lock": _render(lock)}, status=201)


async def get_locks(request: Request) -> Response:
    """The repo's locks: a page of them, or the one on `path`, or the one with `id`."""
    query = request.query_params
    start = _start(query.get("cursor"))
    limit = int_param(request, "limit", DEFAULT_PAGE, maximum=MAX_PAGE)
    caller = await identity(request)
    page = await call(
        services(request).locks.list,
        caller,
        prefixed_repo_type(request),
        repo_id(request),
        path=query.get("path") or None,
        lock_id=query.get("id") or None,
        start=start,
        limit=limit,
    )
    return lfs_response({"locks": [_render(lock) for lock in page.locks], **_next(page.next_path)})


async def post_verify(request: Request) -> Response:
    """A page of the locks a push must respect, split into the caller's and others'."""
    body = await read_json_object(request, allow_empty=True)
    _check_ref(body)
    start = _start(body.get("cursor"))
    limit = body.get("limit")
    if limit is None:
        limit = DEFAULT_PAGE
    elif not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise errors.InvalidRequestError("'limit' must be a positive integer")
    caller = await identity(request)
    page = await call(
        services(request).locks.verify,
        caller,
        prefixed_repo_type(request),
        repo_id(request),
        start=start,
        limit=limit,
    )
    return lfs_response(
        {
            "ours": [_render(lock) for lock in page.ours],
            "theirs": [_render(lock) for lock in page.theirs],
            **_next(page.next_path),
        }
    )


async def post_unlock(request: Request) -> Response:
    """Release a lock; `force` releases someone else's."""
    body = await read_json_object(request, allow_empty=True)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise errors.InvalidRequestError("'force' must be true or false")
    _check_ref(body)
    caller = await identity(request)
    type, target, lock_id = prefixed_repo_type(request), repo_id(request), param(request, "id")
    lock = await call(services(request).locks.unlock, caller, type, target, lock_id, force=force)
    return lfs_response({"lock": _render(lock)})


def _check_ref(body: dict[str, Any]) -> None:
    """`ref`, when sent, is `{"name": "refs/heads/…"}`: locks are repo-wide, it is not used."""
    ref = body.get("ref")
    if ref is not None and not (isinstance(ref, dict) and isinstance(ref.get("name", ""), str)):
        raise errors.InvalidRequestError("'ref' must be an object with a string 'name'")


def _render(lock: LockRecord) -> dict[str, Any]:
    return {
        "id": str(lock.id),
        "path": lock.path,
        "locked_at": lock.locked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "owner": {"name": lock.owner_name},
    }


def _next(path: str | None) -> dict[str, str]:
    if path is None:
        return {}
    return {"next_cursor": base64.urlsafe_b64encode(path.encode()).decode()}


def _start(cursor: object) -> str | None:
    """The path a `cursor` (a `next_cursor` this hub gave) says the page starts at."""
    if cursor is None or cursor == "":
        return None
    invalid = errors.InvalidRequestError(
        "Invalid cursor: send the 'next_cursor' of the previous page, as it was"
    )
    if not isinstance(cursor, str):
        raise invalid
    try:
        path = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except ValueError:
        raise invalid from None
    if lookup_path_problem(path) is not None:
        raise invalid
    return path


_LOCKS = "/{namespace}/{name}.git/info/lfs/locks"
routes = [
    Route(prefix + _LOCKS + tail, lfs_errors(handler), methods=[method])
    for prefix in URL_PREFIXES
    for method, tail, handler in (
        ("POST", "", post_lock),
        ("GET", "", get_locks),
        ("POST", "/verify", post_verify),
        ("POST", "/{id}/unlock", post_unlock),
    )
]
