"""The job runner: claim a due job under a lease, run its handler, record how it ended.

Handlers are plain functions of a `JobContext`, registered by kind in `server/app.py`. While one
runs, a heartbeat thread extends the job's lease and writes its progress and log lines, so a
job whose process dies is claimed again once the lease runs out. The lease is measured on the
job service's clock; the heartbeat's interval is real time, whatever that clock is. No
exception escapes `JobRunner.run_once`: every attempt ends as a row. Which failures are worth
retrying is decided here, by exception class, in `is_retryable`.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from hubstead import errors as client_errors
from hubstead.server import errors
from hubstead.server.domain.jobs import JobRecord, JobState
from hubstead.server.services.jobs import JobService
from hubstead.server.services.registry import Services

logger = logging.getLogger("hubstead.jobs")

DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_HEARTBEAT_SECONDS = 1.0

# Failures that may go away by themselves: an upstream that is down, slow or overloaded, and the
# network under it. Everything else (not found, auth, bad data, bugs) stops the job.
_RETRYABLE: tuple[type[BaseException], ...] = (
    errors.UpstreamUnavailableError,
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    TimeoutError,
    ConnectionError,
)
_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed attempt should be retried later: the one place this is decided."""
    if isinstance(exc, client_errors.HfHubHTTPError):
        return exc.status_code in _RETRYABLE_STATUSES
    return isinstance(exc, _RETRYABLE)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `base_seconds`, times `factor` per attempt, at most `max_seconds`."""

    base_seconds: float = 10.0
    factor: float = 2.0
    max_seconds: float = 900.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        return float(min(self.max_seconds, self.base_seconds * self.factor ** (attempt - 1)))


class StopReason(enum.Enum):
    """Why a handler was told to stop."""

    CANCELLED = "the job was cancelled"
    SHUTDOWN = "the worker is shutting down"
    LEASE_LOST = "another worker took the job over (this one missed its heartbeats)"


class JobCancelledError(Exception):
    """Raised by `JobContext.raise_if_cancelled`; handlers let it propagate."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class JobContext:
    """What a handler gets: its job and payload, the services, and ways to report.

    `progress` and `log` are cheap: they are written to the job's row by the heartbeat (about
    once a second) and when the attempt ends. Long handlers call `raise_if_cancelled` between
    steps; it raises `JobCancelledError` once the job is cancelled or the worker stops.
    """

    def __init__(
        self, job: JobRecord, services: Services, owner: str, stopping: threading.Event
    ) -> None:
        self.job = job
        self.services = services
        self._owner = owner
        self._stopping = stopping
        self._lock = threading.Lock()
        self._progress = job.progress
        self._progress_changed = False
        self._lines: list[str] = []
        self._stop: StopReason | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The handler's input, as enqueued."""
        return self.job.payload

    def progress(
        self,
        *,
        files_done: int | None = None,
        files_total: int | None = None,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
    ) -> None:
        """Record how far the job got; arguments left out keep their value."""
        changes = {
            "files_done": files_done,
            "files_total": files_total,
            "bytes_done": bytes_done,
            "bytes_total": bytes_total,
        }
        with self._lock:
            self._progress = dataclasses.replace(
                self._progress, **{k: v for k, v in changes.items() if v is not None}
            )
            self._progress_changed = True

    def log(self, message: str) -> None:
        """Add a line to the job's log tail (and to the process log)."""
        logger.info("job %s (%s): %s", self.job.id, self.job.kind, message)
        with self._lock:
            self._lines.append(message)

    def raise_if_cancelled(self) -> None:
        """Raise `JobCancelledError` if the job must stop now."""
        if self._stop is None and self._stopping.is_set():
            self._stop = StopReason.SHUTDOWN
        if self._stop is not None:
            raise JobCancelledError(self._stop)

    def _flush(self, lease: float | None) -> None:
        """Write pending progress and log lines, extend the lease, and learn of cancellation."""
        with self._lock:
            progress = self._progress if self._progress_changed else None
            lines, self._lines = self._lines, []
            self._progress_changed = False
        job = self.services.jobs.renew(
            self.job.id, self._owner, lease=lease, progress=progress, log_lines=lines
        )
        if job is None:
            self._stop = StopReason.LEASE_LOST
        elif job.cancel_requested and self._stop is None:
            self._stop = StopReason.CANCELLED


Handler = Callable[[JobContext], None]


@dataclasses.dataclass(frozen=True)
class _Ending:
    """How an attempt ended: the state to record, a log line, the error, the retry delay."""

    state: JobState
    line: str
    error: str | None = None
    retry_after: float = 0.0


class JobRunner:
    """Runs due jobs with the handler registered for their kind.

    Any number of runners, in any number of threads and processes, may share one database: a
    job is claimed by one of them at a time.

    Args:
        services: the hub; jobs are claimed from `services.jobs`.
        handlers: the handler of each job kind this runner runs.
        lease_seconds: how long a claim holds without a heartbeat, on the job service's clock.
        heartbeat_seconds: how often, in real time, a running job's lease is extended (and its
            progress written); keep it well under the lease.
        retry: the backoff of retryable failures, on the job service's clock.

    Raises:
        ValueError: a lease or heartbeat interval that is not positive.
    """

    def __init__(
        self,
        services: Services,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
        retry: RetryPolicy | None = None,
    ) -> None:
        if lease_seconds <= 0 or heartbeat_seconds <= 0:
            raise ValueError("a job lease and heartbeat interval must be positive")
        self.services = services
        self.handlers = dict(handlers)
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.retry = retry or RetryPolicy()
        self._stopping = threading.Event()
        self._name = f"{socket.gethostname()[:32]}:{os.getpid()}"

    @property
    def jobs(self) -> JobService:
        """The job service the runner claims from."""
        return self.services.jobs

    def stop(self) -> None:
        """Ask running handlers to stop (they are queued again) and claim nothing more."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping.is_set()

    def run_once(self) -> JobRecord | None:
        """Claim one due job, run it and record the outcome; None when no job is due."""
        return self._claim_and_run(None)

    def run_job(self, job_id: int) -> JobRecord | None:
        """Run job `job_id` if it is due (and nobody runs it); None otherwise."""
        return self._claim_and_run(job_id)

    def run_due(self) -> int:
        """Run due jobs one after another until none is due (or `stop`); how many ran."""
        count = 0
        while not self.stopping and self.run_once() is not None:
            count += 1
        return count

    def _claim_and_run(self, job_id: int | None) -> JobRecord | None:
        if self.stopping:
            return None
        owner = f"{self._name}:{uuid.uuid4().hex[:12]}"
        try:
            job = self.jobs.claim(owner, self.lease_seconds, job_id)
        except Exception:
            logger.exception("could not claim a job")
            return None
        if job is None:
            return None
        try:
            return self._run(job, owner)
        except Exception:  # the database failed while recording: the lease will expire
            logger.exception("could not record the outcome of job %s", job.id)
            return job

    def _run(self, job: JobRecord, owner: str) -> JobRecord:
        context = JobContext(job, self.services, owner, self._stopping)
        done = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat,
            args=(context, done),
            name=f"hubstead-job-{job.id}-heartbeat",
            daemon=True,
        )
        heartbeat.start()
        context.log(f"attempt {job.attempts} of {job.max_attempts} started on {self._name}")
        try:
            ending = self._attempt(job, context)
        finally:
            done.set()
            heartbeat.join()
        context._flush(None)
        final = self.jobs.finish(
            job.id,
            owner,
            ending.state,
            error=ending.error,
            retry_after=ending.retry_after,
            log_lines=[ending.line],
        )
        if final is None:  # another worker holds it now and records its own outcome
            logger.warning("job %s: lost its lease before it ended (%s)", job.id, ending.line)
            return self.jobs.get(job.id)
        return final

    def _attempt(self, job: JobRecord, context: JobContext) -> _Ending:
        handler = self.handlers.get(job.kind)
        if handler is None:
            error = f"no handler for jobs of kind {job.kind!r} in this worker"
            return _Ending(JobState.FAILED, f"failed: {error}", error)
        try:
            handler(context)
        except JobCancelledError as exc:
            if exc.reason is StopReason.SHUTDOWN:
                return _Ending(JobState.QUEUED, f"interrupted: {exc}; it will run again")
            return _Ending(JobState.CANCELLED, f"stopped: {exc}")
        except Exception as exc:
            return self._failure(job, exc)
        return _Ending(JobState.SUCCEEDED, "succeeded")

    def _failure(self, job: JobRecord, exc: Exception) -> _Ending:
        error = exc.message if isinstance(exc, errors.HubError) else f"{type(exc).__name__}: {exc}"
        if not is_retryable(exc):
            if not isinstance(exc, errors.HubError):  # a bug, or a fault of this machine
                logger.exception("job %s (%s) failed", job.id, job.kind)
            return _Ending(JobState.FAILED, f"failed: {error}", error)
        if job.attempts >= job.max_attempts:
            return _Ending(JobState.FAILED, f"failed: {error} (no attempts left)", error)
        delay = self.retry.delay(job.attempts)
        return _Ending(JobState.QUEUED, f"failed: {error}; retrying in {delay:g}s", error, delay)

    def _heartbeat(self, context: JobContext, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_seconds):
            try:
                context._flush(self.lease_seconds)
            except Exception:  # a database hiccup: try again at the next beat
                logger.exception("job %s: heartbeat failed", context.job.id)
