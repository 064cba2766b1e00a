"""Content-addressed LFS object downloads.

Serves: `GET|HEAD /lfs/objects/{sha256}?token=…`, the target of resolve redirects and of batch
download actions. The URL names immutable content: an object of a public, ungated repo is
cacheable by anyone for a year; any other object only by the client (`private`), so a shared
cache never hands a private object to whoever asks for the same URL after it. The strong
`ETag` is the sha256, repeated in `X-Linked-Etag` with `X-Linked-Size` (and `X-Repo-Commit` when
the URL came from a resolve redirect), because the official client follows same-host redirects
and reads the file's metadata from here. A single `Range` gets 206 (multi-range requests get the
whole object) and a range past the end 416. Bytes are streamed from the file in large reads off
the event loop, or handed to the server as a path when it can send files itself (`pathsend`).
Objects without a local file (Xet files, blobs in an S3 bucket) are streamed from `blob.read`,
which reads just the range asked for, or, when the object store gives one, answered with a
302 to a short-lived presigned URL of the store (which answers ranges itself), issued only now,
after the URL's checks.

With `x_accel_redirect_prefix` set, the hub checks the URL and answers with the same headers, no
body and `X-Accel-Redirect: <prefix><the object's path in the blob store>`: nginx then sends the
bytes itself, ranges included, from an `internal` location that aliases the blob directory (the
configuration is in docs/operations.md).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from hubstead.protocol import HEADER_LINKED_ETAG, HEADER_LINKED_SIZE, HEADER_REPO_COMMIT
from hubstead.server.http.context import base_url, call, param, services
from hubstead.server.http.ranges import byte_range, streamed

_READ_SIZE = 4 * 1024 * 1024


def blob_url(request: Request, sha256: str, token: str) -> str:
    """The absolute, self-authenticating download URL of an object."""
    return f"{base_url(request)}/lfs/objects/{sha256}?token={token}"


class FileRangeResponse(Response):
    """Bytes `start..end` (inclusive) of a file, streamed without holding it in memory."""

    def __init__(
        self, path: Path, start: int, end: int, status_code: int, headers: dict[str, str]
    ) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.path = path
        self.start = start
        self.end = end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the headers, then the bytes unless this is a HEAD or the client went away."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope["method"] == "HEAD" or self.end < self.start:
            await send({"type": "http.response.body", "body": b""})
            return
        whole = self.start == 0 and self.end == self.path.stat().st_size - 1
        if whole and "http.response.pathsend" in scope.get("extensions", {}):
            await send({"type": "http.response.pathsend", "path": str(self.path)})
            return
        disconnected = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, disconnected))
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            offset = self.start
            while offset <= self.end and not disconnected.is_set():
                length = min(_READ_SIZE, self.end + 1 - offset)
                chunk = await run_in_threadpool(os.pread, descriptor, length, offset)
                if not chunk:
                    break
                offset += len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": offset <= self.end}
                )
        finally:
            os.close(descriptor)
            watcher.cancel()


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return


async def get_blob(request: Request) -> Response:
    """Serve an object to the holder of a signed URL."""
    sha256 = param(request, "sha256")
    blob = await call(services(request).lfs.blob, sha256, request.query_params.get("token", ""))
    audience = "public" if blob.public else "private"
    headers = {
        HEADER_LINKED_ETAG: f'"{blob.sha256}"',
        HEADER_LINKED_SIZE: str(blob.size),
        "ETag": f'"{blob.sha256}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": f"{audience}, max-age=31536000, immutable",
        "Content-Type": "application/octet-stream",
    }
    if blob.commit_id is not None:
        headers[HEADER_REPO_COMMIT] = blob.commit_id
    if blob.url is not None:
        # To the object store, checked now: the official client stops at a redirect to another
        # host and reads the object's identity from this answer (as from HF's CDN redirects).
        headers["Location"] = blob.url
        headers["Cache-Control"] = "private, no-store"
        for name in ("Accept-Ranges", "Content-Type"):
            del headers[name]
        return Response(status_code=302, headers=headers)
    if blob.read is not None:
        return await streamed(request, blob.size, blob.read, headers)
    offload = services(request).settings.x_accel_redirect_prefix
    if offload is not None and blob.relative_path is not None:
        headers["X-Accel-Redirect"] = offload + blob.relative_path
        return Response(status_code=200, headers=headers)
    assert blob.path is not None, "only local blob stores are served directly"
    return file_response(request, blob.path, blob.size, headers)


def file_response(
    request: Request, path: Path, size: int, headers: dict[str, str]
) -> FileRangeResponse:
    """The file `path` (`size` bytes), or the single range the request asks for.

    Raises:
        RangeNotSatisfiableError: the range lies outside the file.
    """
    selected = byte_range(request.headers.get("range"), size)
    start, end, status = 0, size - 1, 200
    if selected is not None:
        start, end = selected
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    headers["Content-Length"] = str(end - start + 1)
    return FileRangeResponse(path, start, end, status, headers)


routes = [Route("/lfs/objects/{sha256}", get_blob, methods=["GET", "HEAD"])]
