"""The `SpaceRuntimeStore` and `SpaceLogStore` Protocols: each Space's runtime row and logs.

Both go with their Space (deleted with it, kept through a move). A runtime row is created the
first time the Space is looked at or built; its stage moves by `begin` (a new generation: a
build, a pause, a restart) and `advance` (a step of the generation that is still the last).
A log keeps its last lines only: the store drops the older ones as new ones come.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from typing import Protocol

from hubstead.server.domain.spaces import (
    AppAddress,
    LogKind,
    LogLine,
    SpaceSdk,
    SpaceStage,
    SpaceState,
    SpaceVolume,
)


@dataclasses.dataclass(frozen=True)
class StageChange:
    """What a step of a build or of the supervisor writes: all of it, in one statement."""

    stage: SpaceStage
    sdk: SpaceSdk | None
    commit: str | None
    address: AppAddress | None = None
    owner: str | None = None
    error: str | None = None
    built: bool = False
    """The step follows the runner's build: a factory restart's request (`fresh_build`) is done."""


@dataclasses.dataclass(frozen=True)
class SpaceSettings:
    """What the Space's owners set: hardware, sleep time, mounted repos."""

    hardware: str
    sleep_seconds: int | None
    volumes: tuple[SpaceVolume, ...]


class SpaceRuntimeStore(Protocol):
    """One runtime row per Space."""

    def get(self, repo_id: int) -> SpaceState | None:
        """The Space's row, or None before it has one."""

    def ensure(self, repo_id: int, initial: SpaceState) -> SpaceState | None:
        """The Space's row, inserted as `initial` when it has none (concurrent calls included).

        None when the Space is gone (deleted meanwhile), as for the methods below.
        """

    def begin(
        self, repo_id: int, stage: SpaceStage, at: dt.datetime, *, fresh: bool = False
    ) -> SpaceState | None:
        """Start a new generation in `stage`, clearing the error; the row after the change.

        The address and owner stay: the app that runs is stopped by its owner, who clears them.
        `fresh` records a factory restart's request for a build without caches (`fresh_build`):
        it stays through later generations until a build is done (`StageChange.built`).
        """

    def advance(self, repo_id: int, generation: int, change: StageChange, at: dt.datetime) -> bool:
        """Write `change` if the Space's generation is still `generation`; whether it was."""

    def configure(
        self, repo_id: int, settings: SpaceSettings, at: dt.datetime
    ) -> SpaceState | None:
        """Replace the owners' settings; the row after the change."""

    def touch(self, repo_id: int, at: dt.datetime) -> None:
        """Record a request to the Space's app at `at`."""

    def owned_on(self, host: str) -> list[SpaceState]:
        """The rows whose app was started by a process of `host` (owner `host:pid`)."""

    def in_stages(self, stages: Collection[SpaceStage]) -> list[int]:
        """The ids of the Spaces whose row is in one of `stages`."""

    def with_volumes(self) -> list[SpaceState]:
        """The rows of the Spaces that have volumes."""


class SpaceLogStore(Protocol):
    """The last lines of each Space's build and run logs."""

    def append(
        self,
        repo_id: int,
        kind: LogKind,
        lines: Sequence[LogLine],
        keep: int,
        *,
        start: int | None = None,
    ) -> None:
        """Add numbered lines, then drop all but the last `keep` of the log.

        With `start`, the lines numbered below it (an earlier build's or start's) are dropped
        in the same transaction: readers see the old log until the new one has lines. The lines
        of a Space that no longer exists are dropped.
        """

    def lines(self, repo_id: int, kind: LogKind, after: int, limit: int) -> list[LogLine]:
        """Up to `limit` lines numbered above `after` (-1: from the first kept), in order."""

    def next_seq(self, repo_id: int, kind: LogKind) -> int:
        """One past the largest number kept (0 for an empty log)."""
