"""Background jobs: their states, their rows, their progress, and how an attempt ended."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class JobState(enum.StrEnum):
    """Where a job is in its life: queued → running → succeeded, failed or cancelled.

    A running job whose attempt fails with a retryable error goes back to queued, with a later
    `next_run_at`.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job will never run again."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclasses.dataclass(frozen=True)
class JobProgress:
    """How far a job got; totals are None while unknown."""

    files_done: int = 0
    files_total: int | None = None
    bytes_done: int = 0
    bytes_total: int | None = None


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One job: what to run (`kind`, `payload`), its state, and what its attempts did.

    `key` is the dedupe key given at enqueue time; `log_tail` holds the last lines logged, oldest
    first; `error` is why the last attempt failed. `started_at` is when the current (or last)
    attempt started; `next_run_at` when a queued job becomes due.
    """

    id: int
    kind: str
    key: str | None
    payload: dict[str, object]
    state: JobState
    attempts: int
    max_attempts: int
    progress: JobProgress
    error: str | None
    log_tail: tuple[str, ...]
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    next_run_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class NewJob:
    """A job to insert, queued and due at `next_run_at`."""

    kind: str
    key: str | None
    payload: dict[str, object]
    max_attempts: int
    created_at: dt.datetime
    next_run_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class JobOutcome:
    """How an attempt ended: a finished state, or QUEUED again (a retry due at `next_run_at`)."""

    state: JobState
    error: str | None = None
    next_run_at: dt.datetime | None = None
