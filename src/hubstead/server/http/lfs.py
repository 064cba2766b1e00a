"""Git LFS endpoints, for the official client and for git-lfs.

Serves: `POST /{prefix}{repo}.git/info/lfs/objects/batch` (upload and download, `basic` and
`multipart` transfers), `POST /{prefix}{repo}.git/info/lfs/objects/verify` (with the caller's
token, or the signed `?token=` of the batch answer: git-lfs sends no credentials to it), the
signed transfer URLs it hands out — `PUT /lfs/uploads/{token}`, `PUT /lfs/multipart/{token}/{part}`,
`POST /lfs/multipart/{token}` (completion) and `GET /lfs/multipart/{token}` (parts received, for
resuming). The locking API under the same prefix is in `locks.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.http.blobs import blob_url
from hubstead.server.http.context import (
    base_url,
    call,
    identity,
    param,
    prefixed_repo_type,
    read_json_object,
    repo_id,
    repo_url,
    services,
)
from hubstead.server.http.errors import error_response
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.lfs import BatchItem, LfsObject

LFS_JSON = "application/vnd.git-lfs+json"
Handler = Callable[[Request], Awaitable[Response]]
_STREAM_BATCH = 4 * 1024 * 1024
_MAX_OBJECTS = 10_000


def lfs_response(body: Any, status: int = 200) -> Response:
    """A JSON answer of git-lfs's APIs, in their media type."""
    return JSONResponse(body, status_code=status, media_type=LFS_JSON)


def lfs_error_response(request: Request, exc: errors.HubError, **extra: Any) -> Response:
    """A domain error as git-lfs prints it: its `message` (and `request_id`), plus `extra`.

    The HF error headers and `error` key stay, for the official client. Without a `message`,
    git-lfs would print the request's URL instead, with the token a remote URL may hold.
    """
    extra["message"] = exc.message
    request_id = getattr(request.state, "request_id", None)
    if request_id is not None:
        extra["request_id"] = request_id
    code = exc.code.value if exc.code else None
    status = errors.status_of(exc)
    return error_response(request, status, exc.message, code=code, extra=extra, media_type=LFS_JSON)


def lfs_errors(handler: Handler) -> Handler:
    """`handler`, with its domain errors answered by `lfs_error_response`."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except errors.RepoMovedError:
            raise  # answered with a redirect, which git-lfs follows
        except errors.HubError as exc:
            return lfs_error_response(request, exc)

    return endpoint


async def post_batch(request: Request) -> Response:
    """Tell the client, per object, where to send it or where to fetch it."""
    body = await read_json_object(request)
    operation = body.get("operation")
    transfers = body.get("transfers") or ["basic"]
    objects = body.get("objects")
    if not isinstance(operation, str) or not isinstance(objects, list):
        raise errors.InvalidRequestError("A batch needs an 'operation' and a list of 'objects'")
    if not isinstance(transfers, list) or not all(isinstance(t, str) for t in transfers):
        raise errors.InvalidRequestError("'transfers' must be a list of strings")
    if len(objects) > _MAX_OBJECTS:
        raise errors.PayloadTooLargeError(f"At most {_MAX_OBJECTS} objects per batch")
    wanted = [_lfs_object(item) for item in objects]
    caller = await identity(request)
    type = prefixed_repo_type(request)
    items = await call(
        services(request).lfs.batch,
        caller,
        type,
        repo_id(request),
        operation,
        wanted,
        transfers,
        _ref_name(body.get("ref")),
    )
    rendered = [_render_item(request, type, item) for item in items]
    multipart = any(
        "chunk_size" in r.get("actions", {}).get("upload", {}).get("header", {}) for r in rendered
    )
    return lfs_response(
        {
            "transfer": "multipart" if multipart else "basic",
            "objects": rendered,
            "hash_algo": "sha256",
        }
    )


def _ref_name(ref: Any) -> str | None:
    """The ref a batch is for (`{"name": "refs/heads/main"}`), or None when it names none."""
    if ref is None:
        return None
    name = ref.get("name") if isinstance(ref, dict) else None
    if not isinstance(name, str) or not name:
        raise errors.InvalidRequestError("'ref' must be an object with a 'name' string")
    return name


def _lfs_object(item: Any) -> LfsObject:
    if not isinstance(item, dict):
        return LfsObject("", -1)
    oid, size = item.get("oid"), item.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        size = -1
    return LfsObject(oid if isinstance(oid, str) else "", size)


def _render_item(request: Request, type: RepoType, item: BatchItem) -> dict[str, Any]:
    rendered: dict[str, Any] = {"oid": item.sha256, "size": item.size, "authenticated": True}
    ttl = services(request).lfs.url_ttl
    if item.error is not None:
        rendered["error"] = {"code": item.error[0], "message": item.error[1]}
    elif item.download_token is not None:
        if item.download_url is not None:
            # Straight to the object store: that URL lives a shorter time than the hub's.
            expires_in = services(request).lfs.direct_url_ttl
            download = {"href": item.download_url, "expires_in": expires_in}
        else:
            href = blob_url(request, item.sha256, item.download_token)
            download = {"href": href, "expires_in": ttl}
        rendered["actions"] = {"download": download}
    elif item.upload is not None:
        verify = (
            f"{repo_url(request, type, repo_id(request))}.git/info/lfs/objects/verify"
            f"?token={item.upload.verify_token}"
        )
        upload: dict[str, Any]
        if item.upload.parts:
            multipart = f"{base_url(request)}/lfs/multipart/{item.upload.token}"
            header = {"chunk_size": str(item.upload.chunk_size)}
            parts = item.upload.part_hrefs or [
                f"{multipart}/{n}" for n in range(1, item.upload.parts + 1)
            ]
            header.update({str(n): url for n, url in enumerate(parts, 1)})
            # The completion comes to the hub, which assembles and verifies the parts.
            upload = {"href": multipart, "header": header, "expires_in": ttl}
        else:
            href = item.upload.href or f"{base_url(request)}/lfs/uploads/{item.upload.token}"
            upload = {"href": href, "expires_in": ttl}
        rendered["actions"] = {"upload": upload, "verify": {"href": verify, "expires_in": ttl}}
    return rendered


async def post_verify(request: Request) -> Response:
    """Confirm that an uploaded object is stored (git-lfs calls the signed URL without auth)."""
    body = await read_json_object(request)
    caller = await identity(request)
    obj = _lfs_object(body)
    type, token = prefixed_repo_type(request), request.query_params.get("token")
    await call(services(request).lfs.verify, caller, type, repo_id(request), obj, token)
    return lfs_response({"oid": obj.sha256, "size": obj.size})


class Sink(Protocol):
    """Where a request body goes: written a batch at a time, or dropped on failure."""

    def write(self, chunk: bytes) -> None:
        """Take the next bytes."""

    def abort(self) -> None:
        """Drop what was taken."""


async def stream_into(request: Request, receiver: Sink) -> None:
    """Feed the request body to a receiver, in batches of a few MiB, off the event loop.

    The next batch is read from the network while the previous one is hashed and written, so
    an upload costs about the slower of the two, not their sum.
    """
    pending: asyncio.Future[None] | None = None
    batch: list[bytes] = []
    batched = 0
    try:
        async for chunk in request.stream():
            batch.append(chunk)
            batched += len(chunk)
            if batched >= _STREAM_BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(call(receiver.write, b"".join(batch)))
                batch, batched = [], 0
        if pending is not None:
            await pending
        if batch:
            await call(receiver.write, b"".join(batch))
    except BaseException:
        if pending is not None:
            # The receiver is not thread-safe: let the write in flight end before dropping it.
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()  # already reported, or superseded by the error raised here
        await call(receiver.abort)
        raise


def content_length(request: Request) -> int | None:
    """The announced body length, or None (chunked, or not a number)."""
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def put_upload(request: Request) -> Response:
    """Receive a whole object (basic transfer)."""
    lfs = services(request).lfs
    receiver = await call(lfs.begin_upload, param(request, "token"), content_length(request))
    await stream_into(request, receiver)
    await call(receiver.finish)
    return Response(status_code=200)


async def put_part(request: Request) -> Response:
    """Receive one part of a multipart upload; its ETag is echoed in the completion."""
    part = param(request, "part")
    if not part.isdigit():
        raise errors.InvalidRequestError(f"Invalid part number {part!r}")
    token, length = param(request, "token"), content_length(request)
    receiver = await call(services(request).lfs.begin_part, token, int(part), length)
    await stream_into(request, receiver)
    etag = await call(receiver.finish)
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})


async def post_complete(request: Request) -> Response:
    """Assemble a multipart upload once every part is in."""
    body = await read_json_object(request)
    parts = body.get("parts")
    oid = body.get("oid")
    if not isinstance(oid, str) or not isinstance(parts, list):
        raise errors.InvalidRequestError("A completion needs an 'oid' and a list of 'parts'")
    numbers = [p.get("partNumber") if isinstance(p, dict) else None for p in parts]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise errors.InvalidRequestError("Every part needs an integer 'partNumber'")
    await call(services(request).lfs.complete, param(request, "token"), oid, numbers)
    return lfs_response({"oid": oid})


async def get_upload_status(request: Request) -> Response:
    """The parts of a multipart upload received so far, so a client can resume."""
    received = await call(services(request).lfs.received_parts, param(request, "token"))
    parts = [{"partNumber": n, "size": size} for n, size in sorted(received.items())]
    return lfs_response({"parts": parts})


_LFS = "/{namespace}/{name}.git/info/lfs"
routes = [
    route
    for prefix in URL_PREFIXES
    for route in (
        Route(prefix + _LFS + "/objects/batch", lfs_errors(post_batch), methods=["POST"]),
        Route(prefix + _LFS + "/objects/verify", lfs_errors(post_verify), methods=["POST"]),
    )
] + [
    Route("/lfs/uploads/{token}", put_upload, methods=["PUT"]),
    Route("/lfs/multipart/{token}/{part}", put_part, methods=["PUT"]),
    Route("/lfs/multipart/{token}", post_complete, methods=["POST"]),
    Route("/lfs/multipart/{token}", get_upload_status, methods=["GET"]),
]
