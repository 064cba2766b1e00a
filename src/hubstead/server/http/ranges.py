"""HTTP byte ranges (RFC 9110 §14), as resolve and blob downloads answer them."""

from __future__ import annotations

import re

from hubstead.server import errors

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
