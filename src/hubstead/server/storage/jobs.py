"""`JobStore`: job rows, claimed by workers under a lease."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from hubstead.server.domain.jobs import JobOutcome, JobProgress, JobRecord, JobState, NewJob


class JobStore(Protocol):
    """Job rows, claimed by workers under a lease (`owner` and `locked_until`).

    Every method is one transaction. A claim is exclusive across threads and processes: two
    workers never hold the same job, and a job whose lease ran out may be claimed again.
    """

    def add(self, job: NewJob) -> JobRecord:
        """Insert a queued job (AlreadyExistsError if a queued or running job holds its key)."""

    def get(self, job_id: int) -> JobRecord | None:
        """The job, or None."""

    def find_active(self, key: str) -> JobRecord | None:
        """The queued or running job holding `key`, or None."""

    def list(
        self, states: Sequence[JobState], kind: str | None, offset: int, limit: int
    ) -> list[JobRecord]:
        """One page of jobs in any of `states` (all when empty), newest first."""

    def end_abandoned(self, now: dt.datetime, error: str) -> int:
        """End running jobs whose lease expired and that may not run again; how many ended.

        Those asked to stop become cancelled; those without attempts left fail with `error`.
        """

    def claim(
        self, owner: str, now: dt.datetime, locked_until: dt.datetime, job_id: int | None = None
    ) -> JobRecord | None:
        """Take the first due job, or job `job_id` if it is due; None when none is.

        Due means queued with `next_run_at <= now`, or running with an expired lease. The job
        becomes running under `owner` until `locked_until`, and its attempts count up.
        """

    def renew(
        self,
        job_id: int,
        owner: str,
        locked_until: dt.datetime | None,
        progress: JobProgress | None,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Extend the lease, record progress and append log lines, if `owner` holds the job.

        Only the last `log_limit` lines are kept. None when `owner` no longer holds the job.
        """

    def finish(
        self,
        job_id: int,
        owner: str,
        outcome: JobOutcome,
        now: dt.datetime,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Record how the attempt ended and release the lease, if `owner` still holds the job.

        None when it does not. The job's key is released unless the outcome queues it again; a
        job asked to stop is cancelled instead of queued again.
        """

    def request_cancel(self, job_id: int, now: dt.datetime) -> JobRecord | None:
        """Cancel a queued job at once, or flag a running one to stop; None if there is no job.

        A finished job is returned unchanged.
        """

    def next_due(self) -> dt.datetime | None:
        """When the earliest queued job becomes due (or the earliest lease expires)."""
