"""File downloads.

Serves: `HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}` for models, `datasets/` and `spaces/`.

Regular files are answered from their git blob with `ETag` = the git blob sha1, `Content-Length`,
`Accept-Ranges` and `X-Repo-Commit`; a `Range` gets 206 with `Content-Range`, or 416. LFS files
are refused with 501 until the blob store serves them.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelhub.protocol import HEADER_REPO_COMMIT, RepoType
from modelhub.server import errors
from modelhub.server.http.context import call, identity, repo_id, revision_and_path, services
from modelhub.server.services.access import Action
from modelhub.server.services.files import FileContent

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive `(start, end)` a single-range `Range` header asks for, or None for all.

    A malformed or multi-range header is ignored (the whole file is served), as RFC 9110
    allows.

    Raises:
        RangeNotSatisfiableError: the range starts past the end of the file.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0:
            raise errors.RangeNotSatisfiableError("Empty suffix range", size=size)
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise errors.RangeNotSatisfiableError(
            f"Range {header} is outside the file ({size} bytes)", size=size
        )
    return start, end


def _repo_type(request: Request) -> RepoType:
    prefix = request.url.path.split("/", 2)[1]
    return {"datasets": RepoType.DATASET, "spaces": RepoType.SPACE}.get(prefix, RepoType.MODEL)


async def resolve_file(request: Request) -> Response:
    """HEAD or GET a file at a revision."""
    revision, path = revision_and_path(request)
    caller = await identity(request)
    hub = services(request)

    def work() -> FileContent:
        handle = hub.repos.open(
            caller, _repo_type(request), repo_id(request), Action.READ_FILES, revision
        )
        return hub.files.read(handle, path)

    content = await call(work)
    headers = {
        HEADER_REPO_COMMIT: content.commit_id,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    info = content.info
    if info.lfs is not None:
        raise errors.NotSupportedError(
            f"{path!r} is stored with LFS, and this hub does not serve LFS content yet"
        )
    assert content.data is not None
    headers["ETag"] = f'"{info.oid}"'
    data = content.data
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
]
