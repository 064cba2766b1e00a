"""Upkeep records: what interrupted writes leave behind, and how far a long check has got."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable


class LeftoverKind(enum.StrEnum):
    """What a write, an upload or a push can leave behind in the blob store or the git repos."""

    TEMP = "temp"  # a temporary file of a write that never finished (or is still running)
    UPLOAD = "upload"  # the parts of a multipart upload that was never completed
    GIT_QUARANTINE = "git-quarantine"  # the objects of a push that never finished
    GIT_TEMP = "git-temp"  # a temporary file of git (a repack) or of a push's work dir
    GIT_UNREACHABLE = "git-unreachable"  # loose objects no ref reaches (aborted commits, ...)


@dataclasses.dataclass(frozen=True)
class Leftover:
    """A temporary file or an unfinished multipart upload; `modified_at` is its newest write."""

    kind: LeftoverKind
    name: str
    size: int
    modified_at: float


@dataclasses.dataclass(frozen=True)
class Progress:
    """How far a long run is: `done` of `total` items of `phase`, and the bytes read so far."""

    phase: str
    done: int
    total: int
    bytes: int = 0


OnProgress = Callable[[Progress], None]


def notify(listener: OnProgress | None, phase: str, done: int, total: int, read: int = 0) -> None:
    """Tell `listener`, when there is one, how far `phase` has got."""
    if listener is not None:
        listener(Progress(phase, done, total, read))
