"""Upload endpoints: upload-mode negotiation, NDJSON commits and card validation.

Serves: `POST /api/{T}/{repo}/preupload/{rev}`, `POST /api/{T}/{repo}/commit/{rev}` and
`POST /api/validate-yaml`.

A commit body is spooled to a temporary file as it arrives (never more than `max_commit_bytes`),
then parsed line by line in a worker thread, so one line is in memory at a time. A line is at
most what the largest inline file (`max_regular_file_bytes`) takes in base64, plus room for its
path: a longer one is refused while it streams in, before it is ever read whole, and an inline
file over the limit is refused before its base64 is decoded. So a commit holds in memory a few
times `max_regular_file_bytes` at most, whatever its size.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType, load_json, parse_decimal
from hubstead.server import errors
from hubstead.server.http.context import (
    call,
    flag,
    identity,
    param,
    read_json_object,
    repo_id,
    repo_type,
    repo_url,
    services,
)
from hubstead.server.http.errors import error_response
from hubstead.server.http.paths import API_REPO
from hubstead.server.services import cards
from hubstead.server.services.commits import (
    AddFile,
    AddLfsFile,
    CommitHeader,
    CommitResult,
    DeleteFile,
    DeleteFolder,
    Operation,
    PreuploadFile,
)
from hubstead.server.services.files import shown_path

_SPOOL_IN_MEMORY = 8 * 1024 * 1024
# Room on a line beside an inline file's base64: the JSON around it and its path (escaped).
_LINE_ROOM = 64 * 1024


async def post_preupload(request: Request) -> Response:
    """For each announced file: `regular` or `lfs`, `shouldIgnore`, and the current `oid`."""
    body = await read_json_object(request)
    entries = body.get("files")
    if not isinstance(entries, list):
        raise errors.InvalidRequestError("'files' must be a list")
    files = [_preupload_file(entry) for entry in entries]
    git_ignore = body.get("gitIgnore")
    if git_ignore is not None and not isinstance(git_ignore, str):
        raise errors.InvalidRequestError("'gitIgnore' must be a string")
    caller = await identity(request)
    plans = await call(
        services(request).commits.preupload,
        caller,
        repo_type(request),
        repo_id(request),
        param(request, "revision"),
        files,
        git_ignore=git_ignore,
        create_pr=flag(request, "create_pr"),
    )
    return JSONResponse(
        {
            "files": [
                {
                    "path": plan.path,
                    "uploadMode": plan.upload_mode,
                    "shouldIgnore": plan.should_ignore,
                    "oid": plan.oid,
                }
                for plan in plans
            ]
        }
    )


def _preupload_file(entry: Any) -> PreuploadFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise errors.InvalidRequestError("Each file needs a 'path' string")
    size = entry.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise errors.InvalidRequestError(f"Invalid size for {entry['path']!r}")
    try:
        sample = base64.b64decode(entry.get("sample") or "", validate=True)
    except (binascii.Error, TypeError):
        raise errors.InvalidRequestError(f"Invalid base64 sample for {entry['path']!r}") from None
    return PreuploadFile(entry["path"], size, sample)


async def post_commit(request: Request) -> Response:
    """Apply an NDJSON commit to a branch or a pull request, or open a pull request with it."""
    hub = services(request)
    caller = await identity(request)
    type, target = repo_type(request), repo_id(request)
    # Refuse a commit that cannot land before its (possibly huge) body is received.
    pending = await call(
        hub.commits.begin,
        caller,
        type,
        target,
        param(request, "revision"),
        create_pr=flag(request, "create_pr"),
    )
    max_inline = hub.settings.max_regular_file_bytes
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        await _spool(request, spool, hub.settings.max_commit_bytes, _line_limit(max_inline))

        def work() -> CommitResult:
            spool.seek(0)
            return pending.apply(*parse_ndjson(spool, max_inline_bytes=max_inline))

        result = await call(work)
    url = repo_url(request, type, target)
    body: dict[str, Any] = {
        "success": True,
        "commitOid": result.commit_id,
        "commitUrl": f"{url}/commit/{result.commit_id}",
    }
    if result.pull_request is not None:
        # The client takes the pull request's number from the end of this URL.
        body["pullRequestUrl"] = f"{url}/discussions/{result.pull_request}"
    return JSONResponse(body)


def _line_limit(max_inline_bytes: int) -> int:
    """The longest NDJSON line a commit may hold: the largest inline file in base64, and room."""
    return 4 * -(-max_inline_bytes // 3) + _LINE_ROOM


def _too_long(number: int, limit: int) -> errors.PayloadTooLargeError:
    return errors.PayloadTooLargeError(
        f"Line {number} of the commit is longer than {limit} bytes: "
        "upload files this large through LFS"
    )


async def _spool(request: Request, spool: IO[bytes], limit: int, line_limit: int) -> None:
    declared = parse_decimal(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise errors.PayloadTooLargeError(f"Commit body is larger than {limit} bytes")
    size = line = 0
    number = 1
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLargeError(f"Commit body is larger than {limit} bytes")
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if line + end - start > line_limit:
                raise _too_long(number, line_limit)
            line, start, number = 0, end + 1, number + 1
        line += len(chunk) - start
        if line > line_limit:
            raise _too_long(number, line_limit)
        spool.write(chunk)


def parse_ndjson(
    stream: IO[bytes], *, max_inline_bytes: int
) -> tuple[CommitHeader, Iterator[Operation]]:
    """The header line, then the operations lazily, one line at a time.

    Raises:
        InvalidRequestError: an empty body, a first line that is not the header, a line that is
            not a JSON object with `key` and `value`, an unknown key, or bad field values.
        PayloadTooLargeError: a line longer than an inline file of `max_inline_bytes` needs, or
            an inline file larger than `max_inline_bytes`.
    """
    lines = _lines(stream, _line_limit(max_inline_bytes))
    first = next(lines, None)
    if first is None:
        raise errors.InvalidRequestError("The commit body is empty")
    key, value = _line(*first)
    if key != "header":
        raise errors.InvalidRequestError("The first line of a commit must be its header")
    summary = value.get("summary")
    description = value.get("description") or ""
    parent = value.get("parentCommit")
    if not isinstance(summary, str) or not isinstance(description, str):
        raise errors.InvalidRequestError("The header needs a 'summary' string")
    if parent is not None and not isinstance(parent, str):
        raise errors.InvalidRequestError("'parentCommit' must be a string")
    header = CommitHeader(summary, description, parent)
    return header, (_operation(number, line, max_inline_bytes) for number, line in lines)


def _lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines with their numbers, none read past `limit` bytes."""
    number = 0
    while line := stream.readline(limit + 2):  # room for the line's own end, \r\n
        number += 1
        if len(line.rstrip(b"\r\n")) > limit:
            raise _too_long(number, limit)
        if line.strip():
            yield number, line


def _line(number: int, line: bytes) -> tuple[str, dict[str, Any]]:
    try:
        item = load_json(line)
    except ValueError:
        raise errors.InvalidRequestError(f"Line {number} of the commit is not JSON") from None
    if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
        raise errors.InvalidRequestError(
            f"Line {number} of the commit must be an object with 'key' and 'value'"
        )
    return str(item.get("key")), item["value"]


def _operation(number: int, line: bytes, max_inline_bytes: int) -> Operation:
    key, value = _line(number, line)
    path = value.get("path")
    if not isinstance(path, str):
        raise errors.InvalidRequestError(f"Line {number}: 'path' must be a string")
    if key == "file":
        if value.get("encoding", "base64") != "base64":
            raise errors.InvalidRequestError(f"Line {number}: only base64 encoding is supported")
        encoded = value.get("content") or ""
        # 4 base64 characters per 3 bytes, less the padding: refuse before decoding the bytes.
        if isinstance(encoded, str) and _decoded_size(encoded) > max_inline_bytes:
            raise errors.PayloadTooLargeError(
                f"Line {number}: {shown_path(path)!r} is larger than the {max_inline_bytes} "
                "bytes allowed inline: upload it through LFS"
            )
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError):
            raise errors.InvalidRequestError(
                f"Line {number}: 'content' is not valid base64"
            ) from None
        return AddFile(path, content)
    if key == "lfsFile":
        oid, size = value.get("oid"), value.get("size")
        if value.get("algo", "sha256") != "sha256" or not isinstance(oid, str):
            raise errors.InvalidRequestError(f"Line {number}: an lfsFile needs a sha256 'oid'")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise errors.InvalidRequestError(f"Line {number}: invalid 'size'")
        return AddLfsFile(path, oid.lower(), size)
    if key == "deletedFile":
        return DeleteFile(path)
    if key == "deletedFolder":
        return DeleteFolder(path)
    raise errors.InvalidRequestError(f"Line {number}: unknown operation {key!r}")


def _decoded_size(encoded: str) -> int:
    return len(encoded) // 4 * 3 - (len(encoded) - len(encoded.rstrip("=")))


async def post_validate_yaml(request: Request) -> Response:
    """Check a README's metadata block; always answers JSON (the client parses it first)."""
    body = await read_json_object(request)
    content = body.get("content")
    kind = body.get("repoType", "model")
    problem = None
    if not isinstance(content, str):
        problem = "'content' must be a string"
    elif kind not in {t.value for t in RepoType}:
        problem = f"Unknown repoType {kind!r}"
    else:
        try:
            cards.parse_front_matter(content)
        except cards.CardError as exc:
            problem = exc.message
    if problem is not None:
        extra = {"errors": [{"message": problem}], "warnings": []}
        return error_response(request, 400, problem, extra=extra)
    return JSONResponse({"errors": [], "warnings": []})


routes = [
    Route("/api/validate-yaml", post_validate_yaml, methods=["POST"]),
    Route(API_REPO + "/preupload/{revision:path}", post_preupload, methods=["POST"]),
    Route(API_REPO + "/commit/{revision:path}", post_commit, methods=["POST"]),
]
