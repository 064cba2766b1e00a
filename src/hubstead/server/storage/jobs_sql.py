"""`JobStore` on SQL: the `jobs` table, claimed under a lease.

A claim selects the first due row and marks it running in one write transaction. On SQLite that
transaction starts with `BEGIN IMMEDIATE`, so claimers in every thread and process take turns; on
PostgreSQL the row is selected `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass over each
other's rows instead of waiting. Every later change names the owner that claimed the job, so a
worker that lost its lease can no longer change the job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.jobs import JobOutcome, JobProgress, JobRecord, JobState, NewJob
from hubstead.server.storage.db import Database, as_utc
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.schema import jobs

_RUNNING = JobState.RUNNING.value
_QUEUED = JobState.QUEUED.value
_LIVE = (_QUEUED, _RUNNING)


class SqlJobStore:
    """Job rows in the metadata database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, job: NewJob) -> JobRecord:
        """Insert a queued job; AlreadyExistsError when a live job holds its key."""
        values = {
            **dataclasses.asdict(job),
            "active_key": job.key,
            "state": _QUEUED,
            "attempts": 0,
            "files_done": 0,
            "bytes_done": 0,
            "log_tail": [],
            "cancel_requested": False,
        }
        try:
            with self._db.write() as conn:
                job_id = conn.execute(
                    sa.insert(jobs).values(values).returning(jobs.c.id)
                ).scalar_one()
                return _record(self._row(conn, job_id))
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"a live job holds the key {job.key!r}") from exc

    def get(self, job_id: int) -> JobRecord | None:
        """The job, or None."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else _record(row)

    def find_active(self, key: str) -> JobRecord | None:
        """The queued or running job holding `key`."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.active_key == key)).first()
        return None if row is None else _record(row)

    def list(
        self, states: Sequence[JobState], kind: str | None, offset: int, limit: int
    ) -> list[JobRecord]:
        """Newest first."""
        query = sa.select(jobs).order_by(jobs.c.id.desc()).offset(offset).limit(limit)
        if states:
            query = query.where(jobs.c.state.in_([s.value for s in states]))
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def end_abandoned(self, now: dt.datetime, error: str) -> int:
        """End running jobs whose lease expired and that may not run again.

        Those asked to stop become cancelled; those without attempts left fail with `error`.
        Returns how many jobs ended.
        """
        expired = (jobs.c.state == _RUNNING) & (jobs.c.locked_until < now)
        cancelled = _released(JobState.CANCELLED, now)
        failed = {**_released(JobState.FAILED, now), "error": error}
        with self._db.write() as conn:
            count = conn.execute(
                sa.update(jobs).where(expired & jobs.c.cancel_requested).values(cancelled)
            ).rowcount
            count += conn.execute(
                sa.update(jobs)
                .where(expired & (jobs.c.attempts >= jobs.c.max_attempts))
                .values(failed)
            ).rowcount
        return int(count)

    def claim(
        self, owner: str, now: dt.datetime, locked_until: dt.datetime, job_id: int | None = None
    ) -> JobRecord | None:
        """Mark the first due job running under `owner`; see `JobStore.claim`."""
        due = ((jobs.c.state == _QUEUED) & (jobs.c.next_run_at <= now)) | (
            (jobs.c.state == _RUNNING) & (jobs.c.locked_until < now)
        )
        query = (
            sa.select(jobs.c.id)
            .where(due)
            .order_by(jobs.c.next_run_at, jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job_id is not None:
            query = query.where(jobs.c.id == job_id)
        with self._db.write() as conn:
            found = conn.scalar(query)
            if found is None:
                return None
            conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == found)
                .values(
                    state=_RUNNING,
                    owner=owner,
                    locked_until=locked_until,
                    attempts=jobs.c.attempts + 1,
                    started_at=now,
                    error=None,
                )
            )
            return _record(self._row(conn, found))

    def renew(
        self,
        job_id: int,
        owner: str,
        locked_until: dt.datetime | None,
        progress: JobProgress | None,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Extend the lease, record progress, append log lines, while `owner` holds the job."""
        values: dict[str, Any] = {}
        if locked_until is not None:
            values["locked_until"] = locked_until
        if progress is not None:
            values.update(dataclasses.asdict(progress))
        with self._db.write() as conn:
            row = self._owned(conn, job_id, owner)
            if row is None:
                return None
            if log_lines:
                values["log_tail"] = _tail(row.log_tail, log_lines, log_limit)
            if values:
                conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(values))
            return _record(self._row(conn, job_id))

    def finish(
        self,
        job_id: int,
        owner: str,
        outcome: JobOutcome,
        now: dt.datetime,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Record the end of the attempt `owner` ran; None if it no longer holds the job."""
        with self._db.write() as conn:
            row = self._owned(conn, job_id, owner)
            if row is None:
                return None
            if outcome.state is JobState.QUEUED and not row.cancel_requested:
                values: dict[str, Any] = {
                    "state": _QUEUED,
                    "owner": None,
                    "locked_until": None,
                    "next_run_at": outcome.next_run_at or now,
                }
            else:
                stopped = outcome.state is JobState.QUEUED
                values = _released(JobState.CANCELLED if stopped else outcome.state, now)
            values["error"] = outcome.error
            values["log_tail"] = _tail(row.log_tail, log_lines, log_limit)
            conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(values))
            return _record(self._row(conn, job_id))

    def request_cancel(self, job_id: int, now: dt.datetime) -> JobRecord | None:
        """Cancel a queued job, flag a running one; None if there is no such job."""
        with self._db.write() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id).with_for_update()).first()
            if row is None:
                return None
            if row.state == _QUEUED:
                values = _released(JobState.CANCELLED, now)
            elif row.state == _RUNNING:
                values = {"cancel_requested": True}
            else:
                return _record(row)
            conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(values))
            return _record(self._row(conn, job_id))

    def next_due(self) -> dt.datetime | None:
        """The earliest `next_run_at` of a queued job or lease expiry of a running one."""
        with self._db.read() as conn:
            queued = conn.scalar(
                sa.select(sa.func.min(jobs.c.next_run_at)).where(jobs.c.state == _QUEUED)
            )
            running = conn.scalar(
                sa.select(sa.func.min(jobs.c.locked_until)).where(jobs.c.state == _RUNNING)
            )
        times = [as_utc(t) for t in (queued, running) if t is not None]
        return min(times, default=None)

    @staticmethod
    def _row(conn: sa.Connection, job_id: int) -> sa.Row[Any]:
        return conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()

    @staticmethod
    def _owned(conn: sa.Connection, job_id: int, owner: str) -> sa.Row[Any] | None:
        query = (
            sa.select(jobs)
            .where((jobs.c.id == job_id) & (jobs.c.owner == owner) & (jobs.c.state == _RUNNING))
            .with_for_update()
        )
        return conn.execute(query).first()


def _released(state: JobState, now: dt.datetime) -> dict[str, Any]:
    """The columns of a job that ends in `state`: no owner, no lease, its key free again."""
    return {
        "state": state.value,
        "owner": None,
        "locked_until": None,
        "active_key": None,
        "finished_at": now,
    }


def _tail(current: list[str], lines: Sequence[str], limit: int) -> list[str]:
    return [*current, *lines][-limit:]


def _record(row: sa.Row[Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        kind=row.kind,
        key=row.key,
        payload=dict(row.payload),
        state=JobState(row.state),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        progress=JobProgress(
            files_done=int(row.files_done),
            files_total=None if row.files_total is None else int(row.files_total),
            bytes_done=int(row.bytes_done),
            bytes_total=None if row.bytes_total is None else int(row.bytes_total),
        ),
        error=row.error,
        log_tail=tuple(row.log_tail),
        cancel_requested=bool(row.cancel_requested),
        created_at=as_utc(row.created_at),
        started_at=None if row.started_at is None else as_utc(row.started_at),
        finished_at=None if row.finished_at is None else as_utc(row.finished_at),
        next_run_at=as_utc(row.next_run_at),
    )
