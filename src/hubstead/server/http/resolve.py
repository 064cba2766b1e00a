"""File downloads.

Serves: `HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}` for models, `datasets/`, `spaces/`
and `kernels/`.

An LFS file of an on-demand (pull-through) mirror that is not stored yet is streamed from
upstream while it is being stored, with the same headers and a 200 (or 206) instead of the 302.

Regular files are answered from their git blob with `ETag` = the git blob sha1, `Content-Length`,
`Accept-Ranges` and `X-Repo-Commit`; a `Range` gets 206 with `Content-Range`, or 416. LFS files
are answered, as on huggingface.co, with a 302 to their content-addressed blob URL carrying
`X-Linked-Etag` (the sha256), `X-Linked-Size` and `X-Repo-Commit`. The official client follows
a same-host redirect even on its metadata HEAD, so the blob response repeats those headers.
With the s3 blob backend the 302 goes straight to a short-lived presigned GET of the bucket
(another host: the official client reads the headers from this answer and downloads from
there without its token).

An LFS file held as a Xet file is answered here, without a redirect: its headers add
`X-Xet-Hash` and `Link: <…/xet-read-token/{commit}>; rel="xet-auth"`, from which hf_xet
downloads it through the CAS; other clients get its bytes (or their `Range`) reconstructed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubstead.protocol import (
    HEADER_LINKED_ETAG,
    HEADER_LINKED_SIZE,
    HEADER_REPO_COMMIT,
    HEADER_XET_HASH,
    LINK_XET_AUTH,
)
from hubstead.server import errors
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
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.http.ranges import byte_range, streamed
from hubstead.server.http.xet import xet_read_token_url
from hubstead.server.services.downloads import LfsRedirect, LfsStream, RegularFile, XetStream

# Revalidated on every use: a branch moves, and the file at its path with it.
_REVALIDATE = "private, max-age=0, must-revalidate"


async def resolve_file(request: Request) -> Response:
    """HEAD or GET a file at a revision."""
    revision, path = revision_and_path(request)
    caller = await identity(request)
    download = await call(
        services(request).downloads.prepare,
        caller,
        prefixed_repo_type(request),
        repo_id(request),
        revision,
        path,
    )
    etag = download.blob_id if isinstance(download, RegularFile) else download.sha256
    headers = {
        HEADER_REPO_COMMIT: download.commit_id,
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
    }
    match download:
        case RegularFile():
            return _regular(request, download, headers, _media_type(path))
        case LfsRedirect():
            headers.update(_linked(download.sha256, download.size))
            headers["Location"] = download.url or blob_url(request, download.sha256, download.token)
            headers["Cache-Control"] = _REVALIDATE
            return Response(status_code=302, headers=headers)
        case LfsStream():
            return await _stream(request, download, headers)
        case XetStream():
            headers.update(_linked(download.sha256, download.size))
            headers[HEADER_XET_HASH] = download.xet_hash
            refresh = xet_read_token_url(
                request, prefixed_repo_type(request), repo_id(request), download.commit_id
            )
            headers["Link"] = f'<{refresh}>; rel="{LINK_XET_AUTH}"'
            headers["Cache-Control"] = _REVALIDATE
            return await streamed(request, download.size, download.read, headers)


def _linked(sha256: str, size: int) -> dict[str, str]:
    """What the official client reads an LFS file's identity from."""
    return {HEADER_LINKED_ETAG: f'"{sha256}"', HEADER_LINKED_SIZE: str(size)}


def _regular(
    request: Request, file: RegularFile, headers: dict[str, str], media_type: str
) -> Response:
    """A file from git, a `Range` answered from its bytes."""
    headers["Cache-Control"] = _REVALIDATE
    data = file.data
    selected = byte_range(request.headers.get("range"), len(data))
    status = 200
    if selected is not None:
        start, end = selected
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        data = data[start : end + 1]
        status = 206
    headers["Content-Length"] = str(len(data))
    body = b"" if request.method == "HEAD" else data
    return Response(body, status_code=status, headers=headers, media_type=media_type)


async def _stream(request: Request, file: LfsStream, headers: dict[str, str]) -> Response:
    """An LFS file of an on-demand mirror, streamed from upstream while it is being stored."""
    headers.update(_linked(file.sha256, file.size))
    headers["Cache-Control"] = _REVALIDATE
    return await streamed(request, file.size, file.read, headers)


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
    Route(prefix + _RESOLVE, resolve_file, methods=["GET", "HEAD"]) for prefix in URL_PREFIXES
] + [Route("/{name}/resolve/{revision}/{path:path}", resolve_unqualified, methods=["GET", "HEAD"])]
