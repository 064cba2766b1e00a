"""File downloads.

Serves: `HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}` for models, `datasets/` and `spaces/`.

An LFS file of an on-demand (pull-through) mirror that is not stored yet is streamed from
upstream while it is being stored, with the same headers and a 200 (or 206) instead of the 302.

Regular files are answered from their git blob with `ETag` = the git blob sha1, `Content-Length`,
`Accept-Ranges` and `X-Repo-Commit`; a `Range` gets 206 with `Content-Range`, or 416. LFS files
are answered, as on huggingface.co, with a 302 to their content-addressed blob URL carrying
`X-Linked-Etag` (the sha256), `X-Linked-Size` and `X-Repo-Commit`. The official client follows
a same-host redirect even on its metadata HEAD, so the blob response repeats those headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hubstead.protocol import HEADER_LINKED_ETAG, HEADER_LINKED_SIZE, HEADER_REPO_COMMIT
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.http.blobs import blob_url
from hubstead.server.http.context import (
    call,
    identity,
    param,
    prefixed_repo_type,
    repo_id,
    revision_and_path,
    services,
)
from hubstead.server.http.ranges import byte_range
from hubstead.server.services.access import Action


async def resolve_file(request: Request) -> Response:
    """HEAD or GET a file at a revision."""
    revision, path = revision_and_path(request)
    caller = await identity(request)
    hub = services(request)
    pulled: RepoRecord | None = None

    def work() -> tuple[str, str, int, bytes | None, str | None]:
        nonlocal pulled
        handle = hub.repos.open(
            caller, prefixed_repo_type(request), repo_id(request), Action.READ_FILES, revision
        )
        content = hub.files.read(handle, path)
        info = content.info
        if info.lfs is None:
            return content.commit_id, info.oid, info.size, content.data, None
        if hub.pull_through.pending(handle.repo, info.path, info.lfs.sha256, info.lfs.size):
            pulled = handle.repo
            return content.commit_id, info.lfs.sha256, info.lfs.size, None, None
        token = hub.lfs.pointer_download_token(
            caller, handle.repo, info.lfs.sha256, info.lfs.size, content.commit_id
        )
        return content.commit_id, info.lfs.sha256, info.lfs.size, None, token

    commit_id, etag, size, data, token = await call(work)
    headers = {HEADER_REPO_COMMIT: commit_id, "Accept-Ranges": "bytes", "ETag": f'"{etag}"'}
    if pulled is not None:
        return await _pull_through(request, pulled, commit_id, path, etag, size, headers)
    if token is not None:
        headers.update(
            {
                HEADER_LINKED_ETAG: f'"{etag}"',
                HEADER_LINKED_SIZE: str(size),
                "Location": blob_url(request, etag, token),
                "Cache-Control": "private, max-age=0, must-revalidate",
            }
        )
        return Response(status_code=302, headers=headers)
    assert data is not None
    headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    selected = byte_range(request.headers.get("range"), len(data))
    status = 200
    if selected is not None:
        start, end = selected
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        data = data[start : end + 1]
        status = 206
    headers["Content-Length"] = str(len(data))
    body = b"" if request.method == "HEAD" else data
    return Response(body, status_code=status, headers=headers, media_type=_media_type(path))


async def _pull_through(
    request: Request,
    repo: RepoRecord,
    commit_id: str,
    path: str,
    sha256: str,
    size: int,
    headers: dict[str, str],
) -> Response:
    """An LFS file of an on-demand mirror, streamed from upstream while it is being stored."""
    headers.update(
        {
            HEADER_LINKED_ETAG: f'"{sha256}"',
            HEADER_LINKED_SIZE: str(size),
            "Cache-Control": "private, max-age=0, must-revalidate",
            "Content-Type": "application/octet-stream",
        }
    )
    selected = byte_range(request.headers.get("range"), size)
    start, end, status = 0, size - 1, 200
    if selected is not None:
        start, end = selected
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    hub = services(request)
    chunks = await call(hub.pull_through.stream, repo, commit_id, path, sha256, size, start, end)
    # Failures before the first byte (upstream unreachable) still get an error status.
    first = await call(next, chunks, b"")
    return StreamingResponse(_prepend(first, chunks), status_code=status, headers=headers)


async def _prepend(first: bytes, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in iterate_in_threadpool(chunks):
        yield chunk


async def resolve_unqualified(request: Request) -> Response:
    """Repo ids without a namespace (`gpt2`) name no repo on this hub."""
    caller = await identity(request)
    raise errors.RepoNotFoundError(
        f"Repository not found: {param(request, 'name')} (repo ids here are 'namespace/name')",
        anonymous=caller.anonymous,
    )


def _media_type(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(".json"):
        return "application/json"
    if lowered.endswith((".md", ".txt", ".py", ".yaml", ".yml", ".csv")):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


_RESOLVE = "/{namespace}/{name}/resolve/{revision}/{path:path}"
routes = [
    Route(prefix + _RESOLVE, resolve_file, methods=["GET", "HEAD"])
    for prefix in ("/datasets", "/spaces", "")
] + [Route("/{name}/resolve/{revision}/{path:path}", resolve_unqualified, methods=["GET", "HEAD"])]
