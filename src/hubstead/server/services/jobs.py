"""Jobs: background work (mirror syncs, upkeep) recorded in SQL, run by `server/jobs/runner.py`.

A job is queued, claimed by one worker under a lease, and ends succeeded, failed or cancelled;
an attempt that fails with a retryable error queues it again for later. The runner decides what
is retryable and how long to wait; this service keeps the records and their rules: dedupe keys,
cancellation, the bounded log tail, and telling listeners (the Redis queue, the in-process
threads) that a job became due.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hubstead.server import errors
from hubstead.server.domain.jobs import JobOutcome, JobProgress, JobRecord, JobState, NewJob
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.pages import Page
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.jobs import JobStore

logger = logging.getLogger("hubstead.jobs")

DEFAULT_MAX_ATTEMPTS = 5
LOG_TAIL_LINES = 100
MAX_LOG_LINE = 2000
_KIND = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
_MAX_KIND = 64
_MAX_KEY = 255
_ENQUEUE_TRIES = 5
ABANDONED_ERROR = (
    "the worker running the job stopped responding (its lease expired) and no attempts are left"
)

JobListener = Callable[[JobRecord], None]


class JobService:
    """Enqueue, inspect and cancel jobs; claim and record them for the runner.

    Due times, leases and retry delays are measured on `clock`.
    """

    def __init__(
        self, store: JobStore, *, clock: Clock = utcnow, log_limit: int = LOG_TAIL_LINES
    ) -> None:
        self._store = store
        self._clock = clock
        self._log_limit = log_limit
        self._listeners: list[JobListener] = []

    def subscribe(self, listener: JobListener) -> None:
        """Call `listener` with each job that becomes queued (new, or retried).

        Listeners run after the change is committed; one that raises is logged and ignored.
        """
        self._listeners.append(listener)

    def unsubscribe(self, listener: JobListener) -> None:
        """Stop calling `listener` (no-op if it was not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        key: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        delay: float = 0.0,
    ) -> JobRecord:
        """Queue a job of `kind`, due after `delay` seconds.

        Args:
            kind: which handler runs it, e.g. `mirror.sync`.
            payload: the handler's input; must be JSON-serializable.
            key: dedupe key: while a queued or running job holds it, that job is returned
                instead of adding one.
            max_attempts: how many times it runs at most (retryable failures included).
            delay: seconds before it becomes due.

        Returns:
            The new job, or the live job holding `key`.

        Raises:
            InvalidRequestError: a malformed kind or key, a payload that is not JSON, a
                max_attempts below 1 or a negative delay.
        """
        _check_job(kind, payload, key, max_attempts, delay)
        now = self._clock()
        new = NewJob(
            kind=kind,
            key=key,
            payload=json.loads(json.dumps(payload)),
            max_attempts=max_attempts,
            created_at=now,
            next_run_at=now + dt.timedelta(seconds=delay),
        )
        for _ in range(_ENQUEUE_TRIES):
            if key is not None:
                live = self._store.find_active(key)
                if live is not None:
                    return live
            try:
                job = self._store.add(new)
            except AlreadyExistsError:
                continue  # another enqueue with the key won: return its job
            self._notify(job)
            return job
        raise errors.ConflictError(f"Could not enqueue a {kind} job with the key {key!r}; retry")

    def get(self, job_id: int) -> JobRecord:
        """The job.

        Raises:
            NotFoundError: no job has that id.
        """
        job = self._store.get(job_id)
        if job is None:
            raise errors.NotFoundError(f"Job {job_id} not found")
        return job

    def list(
        self,
        *,
        states: Sequence[JobState] = (),
        kind: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[JobRecord]:
        """One page of jobs, newest first, in any of `states` (every state when empty)."""
        # One job past the page tells whether another page follows.
        return Page.of(self._store.list(states, kind, offset, limit + 1), limit)

    def cancel(self, job_id: int) -> JobRecord:
        """Cancel a queued job now, or ask a running one to stop (it ends as cancelled).

        Cancelling a cancelled job changes nothing.

        Returns:
            The job after the change: cancelled, or running with `cancel_requested`.

        Raises:
            NotFoundError: no job has that id.
            ConflictError: the job already succeeded or failed.
        """
        job = self._store.request_cancel(job_id, self._clock())
        if job is None:
            raise errors.NotFoundError(f"Job {job_id} not found")
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            raise errors.ConflictError(f"Job {job_id} already {job.state.value}")
        return job

    # --- for the runner ---------------------------------------------------------------------

    def claim(self, owner: str, lease: float, job_id: int | None = None) -> JobRecord | None:
        """Take a due job (job `job_id` only, if given) for `lease` seconds under `owner`.

        Jobs whose worker vanished are claimed again once their lease expires, unless they
        have no attempts left (they fail) or were asked to stop (they are cancelled).
        """
        now = self._clock()
        self._store.end_abandoned(now, ABANDONED_ERROR)
        return self._store.claim(owner, now, now + dt.timedelta(seconds=lease), job_id)

    def renew(
        self,
        job_id: int,
        owner: str,
        *,
        lease: float | None = None,
        progress: JobProgress | None = None,
        log_lines: Sequence[str] = (),
    ) -> JobRecord | None:
        """Extend the lease by `lease` seconds, record progress and log lines.

        Returns:
            The job, or None when `owner` no longer holds it (its lease expired and another
            worker claimed it, or it was ended meanwhile).
        """
        now = self._clock()
        until = None if lease is None else now + dt.timedelta(seconds=lease)
        lines = _log_lines(now, log_lines, self._log_limit)
        return self._store.renew(job_id, owner, until, progress, lines, self._log_limit)

    def finish(
        self,
        job_id: int,
        owner: str,
        state: JobState,
        *,
        error: str | None = None,
        retry_after: float = 0.0,
        log_lines: Sequence[str] = (),
    ) -> JobRecord | None:
        """End the attempt `owner` ran: succeeded, failed, cancelled, or QUEUED to run again.

        A QUEUED job becomes due `retry_after` seconds from now (a job asked to stop is
        cancelled instead). Returns the job, or None when `owner` no longer holds it.
        """
        now = self._clock()
        outcome = JobOutcome(state, error, now + dt.timedelta(seconds=retry_after))
        lines = _log_lines(now, log_lines, self._log_limit)
        job = self._store.finish(job_id, owner, outcome, now, lines, self._log_limit)
        if job is not None and job.state is JobState.QUEUED:
            self._notify(job)
        return job

    def now(self) -> dt.datetime:
        """The current time on the service's clock: what due times and leases are compared to."""
        return self._clock()

    def next_due(self) -> dt.datetime | None:
        """When the next queued job becomes due (or a lease expires); None without jobs."""
        return self._store.next_due()

    def _notify(self, job: JobRecord) -> None:
        for listener in self._listeners:
            try:
                listener(job)
            except Exception:  # a listener must not undo a committed change
                logger.exception("job listener %r failed for job %s", listener, job.id)


def _log_lines(now: dt.datetime, messages: Sequence[str], limit: int) -> list[str]:
    """Messages as log lines: one per line of text, time-stamped, cut to `MAX_LOG_LINE`."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    lines = [line for message in messages for line in str(message).splitlines() or [""]]
    return [f"{stamp} {line[:MAX_LOG_LINE]}" for line in lines][-limit:]


def _check_job(
    kind: str, payload: Mapping[str, Any], key: str | None, max_attempts: int, delay: float
) -> None:
    if len(kind) > _MAX_KIND or not _KIND.match(kind):
        raise errors.InvalidRequestError(
            f"Invalid job kind {kind!r}: dotted lowercase words, e.g. mirror.sync"
        )
    if key is not None and not 0 < len(key) <= _MAX_KEY:
        raise errors.InvalidRequestError(f"A job key has 1 to {_MAX_KEY} characters")
    if max_attempts < 1:
        raise errors.InvalidRequestError("A job needs at least one attempt")
    if delay < 0:
        raise errors.InvalidRequestError("A job's delay cannot be negative")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidRequestError(f"A job's payload must be JSON: {exc}") from None
