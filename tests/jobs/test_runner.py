"""Jobs running by themselves: in the server's background threads, and on arq workers (Redis).

Every behaviour test runs in both modes, with handlers registered for the test. In arq mode the
hub pushes each queued job to a Redis queue of the test's own, and the production arq worker
(in a thread here; `hubstead worker` in tests/cli) runs it. Retries come due when the test
advances the hub's `ManualClock`; the workers' own waits (heartbeats, polls) stay real time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.server import errors
from hubstead.server.app import build_services
from hubstead.server.domain.jobs import JobState
from hubstead.server.jobs.redis_queue import ArqQueue
from hubstead.server.jobs.runner import Handler, JobContext, JobRunner, RetryPolicy
from hubstead.server.jobs.threads import JobThreads
from hubstead.server.services.registry import Services
from hubstead.server.settings import load_settings
from tests.helpers.accounts import unique_name
from tests.helpers.clock import ManualClock
from tests.helpers.databases import postgres_database
from tests.helpers.jobs import ArqWorkerThread, looping, wait_for_job
from tests.helpers.redis import drop_queue, redis_url

RETRY = RetryPolicy(base_seconds=30, factor=2.0, max_seconds=60)
MODES = ["in-process", "arq"]


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, on the backend the session runs against."""
    if request.config.getoption("--database") == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'jobs.sqlite3'}"


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def queue(mode: str) -> Iterator[str | None]:
    """The test's own arq queue in arq mode."""
    if mode == "in-process":
        yield None
        return
    name = unique_name("hubstead-test-jobs")
    yield name
    drop_queue(name)


@pytest.fixture
def hub(tmp_path: Path, database: str, queue: str | None, clock: ManualClock) -> Iterator[Services]:
    """Services as a server builds them, on the test's clock: in arq mode they push to Redis."""
    services = open_hub(tmp_path / "data", database, queue, clock)
    yield services
    services.close()


def open_hub(data_dir: Path, database: str, queue: str | None, clock: ManualClock) -> Services:
    overrides: dict[str, object] = {"data_dir": data_dir, "database_url": database}
    if queue is not None:
        overrides.update(redis_url=redis_url(), redis_queue=queue)
    return build_services(load_settings(overrides, environ={}), clock=clock)


@contextlib.contextmanager
def executing(
    hub: Services,
    mode: str,
    handlers: dict[str, Handler],
    *,
    poll_seconds: float = 1.0,
    **options: object,
) -> Iterator[JobRunner]:
    """Run the hub's jobs in the background, as the mode does, until the block ends.

    Heartbeats come every 50 ms (a cancellation is noticed that soon); the workers look for
    due jobs every `poll_seconds`, besides when they are told of one.
    """
    options.setdefault("retry", RETRY)
    options.setdefault("heartbeat_seconds", 0.05)
    runner = JobRunner(hub, handlers, **options)  # type: ignore[arg-type]
    workers: contextlib.AbstractContextManager[object]
    if mode == "in-process":
        workers = JobThreads(runner, threads=2, poll_seconds=poll_seconds)
    else:
        workers = ArqWorkerThread(runner, poll_seconds=poll_seconds)
    with workers:
        yield runner


def test_a_queued_job_runs_by_itself_with_its_progress_and_log(hub: Services, mode: str) -> None:
    def fetch(context: JobContext) -> None:
        context.progress(files_total=2, bytes_total=20)
        context.log(f"fetching {context.payload['repo']}")
        context.progress(files_done=2, bytes_done=20)

    with executing(hub, mode, {"test.fetch": fetch}):
        job = hub.jobs.enqueue("test.fetch", {"repo": "org/model"})
        done = wait_for_job(hub.jobs, job.id)

    assert (done.state, done.attempts, done.error) == (JobState.SUCCEEDED, 1, None)
    assert (done.progress.files_done, done.progress.bytes_total) == (2, 20)
    assert any(line.endswith("fetching org/model") for line in done.log_tail)


def test_a_retryable_failure_is_retried_after_its_backoff(
    hub: Services, clock: ManualClock, mode: str
) -> None:
    def flaky(context: JobContext) -> None:
        if context.job.attempts < 3:
            raise errors.UpstreamUnavailableError("upstream is unreachable")

    # The retries are not announced when they come due (the clock moves, nothing is queued):
    # the workers' polling of the database finds them, so it is frequent here.
    with executing(hub, mode, {"test.flaky": flaky}, poll_seconds=0.05):
        job = hub.jobs.enqueue("test.flaky", {})
        for attempt, backoff in ((1, 30), (2, 60)):
            failed = wait_for_job(hub.jobs, job.id, (JobState.QUEUED,), attempts=attempt)
            assert failed.next_run_at - clock() == dt.timedelta(seconds=backoff)
            clock.advance(backoff)
        done = wait_for_job(hub.jobs, job.id)

    assert (done.state, done.attempts, done.error) == (JobState.SUCCEEDED, 3, None)
    assert sum("retrying in" in line for line in done.log_tail) == 2


def test_a_permanent_failure_ends_the_job_at_once(hub: Services, mode: str) -> None:
    def missing(_context: JobContext) -> None:
        raise errors.UpstreamNotFoundError("org/model does not exist upstream")

    with executing(hub, mode, {"test.sync": missing}):
        job = hub.jobs.enqueue("test.sync", {})
        done = wait_for_job(hub.jobs, job.id)

    assert (done.state, done.attempts) == (JobState.FAILED, 1)
    assert done.error == "org/model does not exist upstream"


def test_a_running_job_stops_when_cancelled(hub: Services, mode: str) -> None:
    started = threading.Event()

    with executing(hub, mode, {"test.loop": looping(started)}):
        job = hub.jobs.enqueue("test.loop", {})
        assert started.wait(20)
        hub.jobs.cancel(job.id)
        done = wait_for_job(hub.jobs, job.id)

    assert (done.state, done.attempts) == (JobState.CANCELLED, 1)


def test_stopping_the_workers_puts_a_running_job_back_for_the_next_ones(
    hub: Services, mode: str
) -> None:
    started = threading.Event()
    with executing(hub, mode, {"test.loop": looping(started)}):
        job = hub.jobs.enqueue("test.loop", {})
        assert started.wait(20)
    requeued = hub.jobs.get(job.id)
    assert (requeued.state, requeued.attempts) == (JobState.QUEUED, 1)

    with executing(hub, mode, {"test.loop": lambda context: None}):
        done = wait_for_job(hub.jobs, job.id)

    assert (done.state, done.attempts) == (JobState.SUCCEEDED, 2)


def test_two_sets_of_workers_run_each_job_exactly_once(hub: Services, mode: str) -> None:
    runs: list[int] = []
    lock = threading.Lock()

    def record(context: JobContext) -> None:
        with lock:
            runs.append(context.job.id)
        time.sleep(0.01)  # some work, so that workers overlap (the outcome does not depend on it)

    with (
        executing(hub, mode, {"test.count": record}),
        executing(hub, mode, {"test.count": record}),
    ):
        ids = [hub.jobs.enqueue("test.count", {"n": n}).id for n in range(20)]
        for job_id in ids:
            assert wait_for_job(hub.jobs, job_id).state is JobState.SUCCEEDED

    assert sorted(runs) == sorted(ids)


def test_a_job_queued_without_notice_is_found_by_polling_the_database(
    tmp_path: Path, database: str, hub: Services, clock: ManualClock, mode: str
) -> None:
    # Another process without the Redis setting (or whose push to Redis was lost) queues it.
    silent = open_hub(tmp_path / "data", database, None, clock)
    try:
        job = silent.jobs.enqueue("test.fetch", {})
    finally:
        silent.close()

    with executing(hub, mode, {"test.fetch": lambda context: None}):
        done = wait_for_job(hub.jobs, job.id)

    assert done.state is JobState.SUCCEEDED


def test_a_job_is_queued_even_when_redis_cannot_be_reached(hub: Services) -> None:
    job = hub.jobs.enqueue("test.later", {}, delay=3600)
    unreachable = ArqQueue("redis://127.0.0.1:1/0", unique_name("hubstead-test-jobs"))

    started = time.monotonic()
    unreachable.push(job)

    assert time.monotonic() - started < 5
    assert hub.jobs.get(job.id).state is JobState.QUEUED
