"""What interrupted writes, uploads and pushes leave behind, for fsck and gc to collect."""

from __future__ import annotations

import dataclasses
import enum


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
