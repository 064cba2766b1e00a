"""Jobs (`JobService` and `JobRunner.run_once`) on real databases: SQLite and PostgreSQL.

Each test gets a hub of its own (services on a fresh data dir and database), so `run_once` only
ever sees the test's own jobs. Workers that crash are played by claiming a job and never
finishing it. Time is a `ManualClock` the tests advance: leases run out and retries come due
when a test says so, never because the machine was fast or slow. Where a test waits for another
thread (a heartbeat, a handler), it waits for what that thread does.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hubstead import errors as client_errors
from hubstead.server import errors
from hubstead.server.app import build_services
from hubstead.server.domain.jobs import JobProgress, JobRecord, JobState
from hubstead.server.jobs.runner import (
    Handler,
    JobContext,
    JobRunner,
    RetryPolicy,
    is_retryable,
)
from hubstead.server.services.jobs import ABANDONED_ERROR
from hubstead.server.services.registry import Services
from hubstead.server.settings import load_settings
from hubstead.server.storage.schema import jobs as jobs_table
from tests.helpers.clock import ManualClock
from tests.helpers.databases import postgres_database
from tests.helpers.jobs import looping
from tests.helpers.waiting import wait_until

RETRY = RetryPolicy(base_seconds=10, factor=4.0, max_seconds=30)
LEASE = 60.0


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL database for the module; each test empties its `jobs` table."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    """Services on a data dir of their own, a database without jobs, and the test's clock."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.delete(jobs_table))
        except sa.exc.ProgrammingError:  # the first test: not migrated yet
            pass
        finally:
            engine.dispose()
    services = build_services(
        load_settings({"data_dir": tmp_path, "database_url": url}, environ={}), clock=clock
    )
    yield services
    services.close()


def runner(hub: Services, handlers: dict[str, Handler], **options: object) -> JobRunner:
    """A runner with leases of `LEASE` on the test's clock, and heartbeats 20 ms apart."""
    options.setdefault("retry", RETRY)
    options.setdefault("lease_seconds", LEASE)
    options.setdefault("heartbeat_seconds", 0.02)
    return JobRunner(hub, handlers, **options)  # type: ignore[arg-type]


def succeed(_context: JobContext) -> None:
    return None


def advance_until_due(clock: ManualClock, job: JobRecord) -> None:
    clock.advance((job.next_run_at - clock()).total_seconds())


def messages(job: JobRecord) -> list[str]:
    """The log tail without the time stamps."""
    return [line.split(" ", 2)[2] for line in job.log_tail]


def test_a_job_goes_from_queued_to_succeeded_with_its_progress_and_log(hub: Services) -> None:
    seen: list[dict[str, object]] = []

    def handler(context: JobContext) -> None:
        seen.append(context.payload)
        context.progress(files_total=3, bytes_total=300)
        context.log("fetching")
        context.progress(files_done=3, bytes_done=300)

    queued = hub.jobs.enqueue("test.fetch", {"repo": "a/b"})
    assert (queued.state, queued.attempts, queued.started_at) == (JobState.QUEUED, 0, None)

    done = runner(hub, {"test.fetch": handler}).run_once()

    assert done is not None and done.id == queued.id
    assert seen == [{"repo": "a/b"}]
    assert (done.state, done.attempts, done.error) == (JobState.SUCCEEDED, 1, None)
    assert done.progress == JobProgress(
        files_done=3, files_total=3, bytes_done=300, bytes_total=300
    )
    assert done.started_at is not None and done.finished_at is not None
    assert queued.created_at <= done.started_at <= done.finished_at
    assert messages(done)[1:] == ["fetching", "succeeded"]
    assert messages(done)[0].startswith("attempt 1 of 5 started")
    assert hub.jobs.get(queued.id) == done


def test_run_once_does_nothing_without_a_due_job(hub: Services) -> None:
    ran: list[int] = []
    later = hub.jobs.enqueue("test.later", {}, delay=60)

    assert runner(hub, {"test.later": lambda c: ran.append(c.job.id)}).run_once() is None

    assert ran == []
    assert hub.jobs.get(later.id).state is JobState.QUEUED


def test_a_retryable_failure_backs_off_exponentially_until_no_attempts_are_left(
    hub: Services, clock: ManualClock
) -> None:
    def unavailable(_context: JobContext) -> None:
        raise errors.UpstreamUnavailableError("upstream https://hub.test is unreachable")

    work = runner(hub, {"test.sync": unavailable})
    job = hub.jobs.enqueue("test.sync", {}, max_attempts=3)

    # 10 s after the first failure, then 40 s capped at 30 s after the second.
    for attempt, delay in ((1, 10), (2, 30)):
        failed = work.run_once()
        assert failed is not None
        assert (failed.state, failed.attempts) == (JobState.QUEUED, attempt)
        assert failed.error == "upstream https://hub.test is unreachable"
        assert failed.next_run_at == clock() + dt.timedelta(seconds=delay)
        clock.advance(delay - 1)
        assert work.run_once() is None  # still backing off
        clock.advance(1)
    last = work.run_once()

    assert last is not None
    assert (last.state, last.attempts) == (JobState.FAILED, 3)
    assert last.error == "upstream https://hub.test is unreachable"
    assert messages(last)[-1] == (
        "failed: upstream https://hub.test is unreachable (no attempts left)"
    )
    assert sum("retrying in" in m for m in messages(last)) == 2
    assert hub.jobs.get(job.id).finished_at is not None


def test_a_retried_job_that_then_works_succeeds_with_its_error_cleared(
    hub: Services, clock: ManualClock
) -> None:
    calls: list[int] = []

    def flaky(context: JobContext) -> None:
        calls.append(context.job.attempts)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("timed out")

    work = runner(hub, {"test.flaky": flaky})
    hub.jobs.enqueue("test.flaky", {})
    first = work.run_once()
    assert first is not None and first.error == "ConnectTimeout: timed out"
    advance_until_due(clock, first)

    second = work.run_once()

    assert calls == [1, 2]
    assert second is not None
    assert (second.state, second.attempts, second.error) == (JobState.SUCCEEDED, 2, None)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (errors.UpstreamNotFoundError("org/model does not exist upstream"), None),
        (errors.AuthenticationError("upstream refused the token"), None),
        (ValueError("bad payload"), "ValueError: bad payload"),
    ],
)
def test_a_permanent_failure_stops_at_the_first_attempt_with_its_reason(
    hub: Services, error: Exception, reason: str | None
) -> None:
    def handler(_context: JobContext) -> None:
        raise error

    hub.jobs.enqueue("test.sync", {}, max_attempts=5)

    failed = runner(hub, {"test.sync": handler}).run_once()

    assert failed is not None
    assert (failed.state, failed.attempts) == (JobState.FAILED, 1)
    assert failed.error == (reason or str(error))
    assert failed.finished_at is not None


def test_which_errors_are_retried_is_decided_by_their_class() -> None:
    def http_error(status: int) -> client_errors.HfHubHTTPError:
        response = httpx.Response(status, request=httpx.Request("GET", "http://upstream.test"))
        return client_errors.HfHubHTTPError(f"HTTP {status}", response=response)

    assert is_retryable(errors.UpstreamUnavailableError("down"))
    assert is_retryable(httpx.ReadTimeout("slow"))
    assert is_retryable(httpx.ConnectError("refused"))
    assert is_retryable(ConnectionResetError())
    assert is_retryable(http_error(503)) and is_retryable(http_error(429))
    assert not is_retryable(http_error(404)) and not is_retryable(http_error(401))
    assert not is_retryable(errors.UpstreamNotFoundError("gone"))
    assert not is_retryable(errors.AuthenticationError("no"))
    assert not is_retryable(OSError(28, "No space left on device"))


def test_backoff_doubles_from_its_base_up_to_its_cap() -> None:
    policy = RetryPolicy(base_seconds=10, factor=2, max_seconds=60)

    assert [policy.delay(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_a_job_of_a_kind_without_handler_fails_without_retrying(hub: Services) -> None:
    hub.jobs.enqueue("test.unknown", {})

    failed = runner(hub, {}).run_once()

    assert failed is not None
    assert (failed.state, failed.attempts) == (JobState.FAILED, 1)
    assert failed.error == "no handler for jobs of kind 'test.unknown' in this worker"


def test_a_crashed_workers_job_is_claimed_again_once_its_lease_expires(
    hub: Services, clock: ManualClock
) -> None:
    job = hub.jobs.enqueue("test.work", {})
    crashed = hub.jobs.claim("crashed-worker", lease=LEASE)
    assert crashed is not None and crashed.state is JobState.RUNNING
    work = runner(hub, {"test.work": succeed})
    assert work.run_once() is None
    clock.advance(LEASE - 1)
    assert work.run_once() is None  # the lease still holds

    clock.advance(2)
    done = work.run_once()

    assert done is not None and done.id == job.id
    assert (done.state, done.attempts) == (JobState.SUCCEEDED, 2)
    # The crashed worker coming back cannot overwrite what the new one recorded.
    assert hub.jobs.finish(job.id, "crashed-worker", JobState.FAILED, error="late") is None
    assert hub.jobs.renew(job.id, "crashed-worker", lease=60) is None
    assert hub.jobs.get(job.id).state is JobState.SUCCEEDED


def test_an_abandoned_job_without_attempts_left_fails_instead_of_running(
    hub: Services, clock: ManualClock
) -> None:
    ran: list[int] = []
    job = hub.jobs.enqueue("test.work", {}, max_attempts=1)
    assert hub.jobs.claim("crashed-worker", lease=LEASE) is not None
    clock.advance(LEASE + 1)

    assert runner(hub, {"test.work": lambda c: ran.append(1)}).run_once() is None

    ended = hub.jobs.get(job.id)
    assert ran == []
    assert (ended.state, ended.attempts, ended.error) == (JobState.FAILED, 1, ABANDONED_ERROR)


def test_heartbeats_keep_a_long_job_from_being_claimed_twice(
    hub: Services, clock: ManualClock
) -> None:
    runs: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def slow(context: JobContext) -> None:
        runs.append(context.job.id)
        started.set()
        if not release.wait(60):
            raise TimeoutError("the test never let the job end")

    job = hub.jobs.enqueue("test.slow", {})
    first = runner(hub, {"test.slow": slow})
    second = runner(hub, {"test.slow": slow})
    worker = threading.Thread(target=first.run_once)
    worker.start()
    assert started.wait(30)
    stolen = []

    def renewed() -> bool:  # by a heartbeat since the clock last moved
        return hub.jobs.next_due() == clock() + dt.timedelta(seconds=LEASE)

    # Four steps of two thirds of a lease: from the second on, the claim's own lease is over,
    # and only the heartbeat after the step before keeps the job from a second worker.
    try:
        for _ in range(4):
            clock.advance(LEASE * 2 / 3)
            stolen.append(second.run_once())
            wait_until(renewed, "a heartbeat to extend the lease")
    finally:
        release.set()
        worker.join(30)

    assert runs == [job.id]
    assert stolen == [None] * 4
    assert hub.jobs.get(job.id).state is JobState.SUCCEEDED


def test_a_key_dedupes_jobs_while_one_is_queued_or_running(hub: Services) -> None:
    first = hub.jobs.enqueue("test.sync", {"n": 1}, key="sync:org/model")
    again = hub.jobs.enqueue("test.sync", {"n": 2}, key="sync:org/model")
    other = hub.jobs.enqueue("test.sync", {"n": 3}, key="sync:org/other")
    assert again.id == first.id and again.payload == {"n": 1}
    assert other.id != first.id

    assert hub.jobs.claim("worker", lease=60) is not None
    assert hub.jobs.enqueue("test.sync", {}, key="sync:org/model").id == first.id  # running

    assert hub.jobs.finish(first.id, "worker", JobState.SUCCEEDED) is not None
    after = hub.jobs.enqueue("test.sync", {"n": 4}, key="sync:org/model")
    assert after.id not in (first.id, other.id)
    assert after.key == "sync:org/model"


def test_concurrent_enqueues_with_one_key_make_one_job(hub: Services) -> None:
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def enqueue() -> None:
        barrier.wait()
        ids.append(hub.jobs.enqueue("test.sync", {}, key="same").id)

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 8 and len(set(ids)) == 1
    assert len(hub.jobs.list()) == 1


def test_cancelling_a_queued_job_ends_it_at_once(hub: Services) -> None:
    ran: list[int] = []
    job = hub.jobs.enqueue("test.work", {}, key="k")

    cancelled = hub.jobs.cancel(job.id)

    assert cancelled.state is JobState.CANCELLED and cancelled.finished_at is not None
    assert runner(hub, {"test.work": lambda c: ran.append(1)}).run_once() is None
    assert ran == []
    assert hub.jobs.cancel(job.id).state is JobState.CANCELLED  # again: no change, no error
    assert hub.jobs.enqueue("test.work", {}, key="k").id != job.id  # the key is free again


def test_cancelling_a_running_job_stops_it_at_its_next_check(hub: Services) -> None:
    checking = threading.Event()
    job = hub.jobs.enqueue("test.loop", {})
    result: list[JobRecord | None] = []
    # The heartbeat, which learns of the cancellation, beats every 20 ms.
    work = runner(hub, {"test.loop": looping(checking)})
    worker = threading.Thread(target=lambda: result.append(work.run_once()))
    worker.start()
    assert checking.wait(30)

    asked = hub.jobs.cancel(job.id)
    worker.join(30)

    assert (asked.state, asked.cancel_requested) == (JobState.RUNNING, True)
    assert result and result[0] is not None
    assert (result[0].state, result[0].error) == (JobState.CANCELLED, None)
    assert messages(result[0])[-1] == "stopped: the job was cancelled"


def test_cancelling_a_finished_or_unknown_job_is_refused(hub: Services) -> None:
    job = hub.jobs.enqueue("test.work", {})
    runner(hub, {"test.work": succeed}).run_once()

    with pytest.raises(errors.ConflictError, match="already succeeded"):
        hub.jobs.cancel(job.id)
    with pytest.raises(errors.NotFoundError, match="Job 999999 not found"):
        hub.jobs.cancel(999999)
    with pytest.raises(errors.NotFoundError):
        hub.jobs.get(999999)


def test_a_stopping_runner_puts_its_job_back_in_the_queue(hub: Services) -> None:
    checking = threading.Event()
    job = hub.jobs.enqueue("test.loop", {})
    stopping = runner(hub, {"test.loop": looping(checking)})
    worker = threading.Thread(target=stopping.run_once)
    worker.start()
    assert checking.wait(30)

    stopping.stop()
    worker.join(30)

    requeued = hub.jobs.get(job.id)
    assert (requeued.state, requeued.attempts) == (JobState.QUEUED, 1)
    assert "interrupted: the worker is shutting down" in messages(requeued)[-1]
    assert stopping.run_once() is None  # a stopped runner claims nothing more
    done = runner(hub, {"test.loop": succeed}).run_once()
    assert done is not None and (done.state, done.attempts) == (JobState.SUCCEEDED, 2)


def test_the_log_tail_keeps_the_last_hundred_lines(hub: Services) -> None:
    def chatty(context: JobContext) -> None:
        for n in range(250):
            context.log(f"line {n}")
        context.log("two\nlines")
        context.log("x" * 5000)

    hub.jobs.enqueue("test.chatty", {})

    done = runner(hub, {"test.chatty": chatty}).run_once()

    assert done is not None
    lines = messages(done)
    assert len(lines) == 100
    assert lines[-6:] == ["line 248", "line 249", "two", "lines", "x" * 2000, "succeeded"]


def test_concurrent_runners_never_run_a_job_twice(hub: Services) -> None:
    runs: list[int] = []
    lock = threading.Lock()

    def record(context: JobContext) -> None:
        with lock:
            runs.append(context.job.id)
        time.sleep(0.005)  # some work, so that runners overlap (the outcome does not depend on it)

    jobs = [hub.jobs.enqueue("test.count", {"n": n}).id for n in range(40)]
    runners = [runner(hub, {"test.count": record}) for _ in range(6)]
    barrier = threading.Barrier(len(runners))

    def drain(work: JobRunner) -> None:
        barrier.wait()
        work.run_due()

    threads = [threading.Thread(target=drain, args=(w,)) for w in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(runs) == sorted(jobs)
    assert {j.state for j in hub.jobs.list(limit=100)} == {JobState.SUCCEEDED}


def test_jobs_are_listed_newest_first_and_filtered_by_state_and_kind(hub: Services) -> None:
    first = hub.jobs.enqueue("test.a", {})
    second = hub.jobs.enqueue("test.b", {})
    third = hub.jobs.enqueue("test.a", {})
    hub.jobs.cancel(second.id)

    assert [j.id for j in hub.jobs.list()] == [third.id, second.id, first.id]
    assert [j.id for j in hub.jobs.list(states=[JobState.QUEUED])] == [third.id, first.id]
    assert [j.id for j in hub.jobs.list(kind="test.b")] == [second.id]
    assert [j.id for j in hub.jobs.list(offset=1, limit=1)] == [second.id]
    assert (hub.jobs.list(offset=1, limit=1).more, hub.jobs.list(offset=1, limit=2).more) == (
        True,
        False,
    )


def test_malformed_jobs_are_refused(hub: Services) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: hub.jobs.enqueue("Not A Kind", {}), "Invalid job kind"),
        (lambda: hub.jobs.enqueue("test.x", {"at": object()}), "payload must be JSON"),
        (lambda: hub.jobs.enqueue("test.x", {"n": float("nan")}), "payload must be JSON"),
        (lambda: hub.jobs.enqueue("test.x", {}, max_attempts=0), "at least one attempt"),
        (lambda: hub.jobs.enqueue("test.x", {}, key=""), "1 to 255 characters"),
        (lambda: hub.jobs.enqueue("test.x", {}, delay=-1), "cannot be negative"),
    ]

    for call, message in cases:
        with pytest.raises(errors.InvalidRequestError, match=message):
            call()

    assert list(hub.jobs.list()) == []


def test_listeners_hear_of_new_and_retried_jobs(hub: Services) -> None:
    heard: list[tuple[int, JobState, int]] = []
    hub.jobs.subscribe(lambda job: heard.append((job.id, job.state, job.attempts)))

    def broken(_job: JobRecord) -> None:
        raise RuntimeError("a failing listener is logged, not fatal")

    hub.jobs.subscribe(broken)

    def unavailable(_context: JobContext) -> None:
        raise errors.UpstreamUnavailableError("down")

    job = hub.jobs.enqueue("test.sync", {}, max_attempts=2)
    runner(hub, {"test.sync": unavailable}).run_once()

    assert heard == [(job.id, JobState.QUEUED, 0), (job.id, JobState.QUEUED, 1)]
