"""HTTP byte ranges (RFC 9110 §14), as resolve and blob downloads answer them, and streams."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hubstead.server import errors

# ASCII digits only: `\d` would also match other scripts' digits.
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# A position with more digits than this lies past the end of any file (2**63 has 19 digits).
_MAX_DIGITS = 19


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive `(start, end)` a single-range `Range` header asks for, or None for all.

    A malformed or multi-range header is ignored (the whole file is served), as RFC 9110
    allows.

    Raises:
        RangeNotSatisfiableError: the range starts past the end of the file, or asks for
            bytes of an empty file.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = _position(last)
        # An empty file has no last bytes to give: no suffix range is satisfiable (§14.1.2).
        if suffix == 0 or size == 0:
            raise errors.RangeNotSatisfiableError(
                f"Range {_shown(header)} selects no byte of the file ({size} bytes)", size=size
            )
        return max(size - suffix, 0), size - 1
    start = _position(first)
    end = min(_position(last), size - 1) if last else size - 1
    if start >= size or (last and _position(last) < start):
        raise errors.RangeNotSatisfiableError(
            f"Range {_shown(header)} is outside the file ({size} bytes)", size=size
        )
    return start, end


def _position(digits: str) -> int:
    # Thousands of digits would make `int` fail (and cost): any such number is past the end.
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= _MAX_DIGITS else 2**64


def _shown(header: str) -> str:
    return header if len(header) <= 100 else header[:100] + "..."


async def streamed(
    request: Request,
    size: int,
    read: Callable[[int, int], Iterator[bytes]],
    headers: dict[str, str],
) -> Response:
    """Bytes produced by `read(start, end)` (inclusive), for the whole file or its `Range`.

    `read` runs in a worker thread; an error it raises before the first bytes still gets an
    error status (a body already started can only be cut short).
    """
    selected = byte_range(request.headers.get("range"), size)
    start, end, status = 0, size - 1, 200
    if selected is not None:
        start, end = selected
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    headers["Content-Length"] = str(end - start + 1)
    headers.setdefault("Content-Type", "application/octet-stream")
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers)
    chunks = await run_in_threadpool(read, start, end)
    first = await run_in_threadpool(next, chunks, b"")
    return StreamingResponse(_prepend(first, chunks), status_code=status, headers=headers)


async def _prepend(first: bytes, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in iterate_in_threadpool(chunks):
        yield chunk
