"""Running jobs in tests: an arq worker in a thread, a handler that runs until stopped, and
waiting for a job's outcome."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from types import TracebackType

from hubstead.server.domain.jobs import JobRecord, JobState
from hubstead.server.jobs.redis_queue import close_worker, create_worker
from hubstead.server.jobs.runner import Handler, JobContext, JobRunner
from hubstead.server.services.jobs import JobService
from tests.helpers.waiting import wait_until

FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class ArqWorkerThread:
    """The production arq worker (`create_worker`) on its own event loop in a thread."""

    def __init__(self, runner: JobRunner, *, max_jobs: int = 2, poll_seconds: float = 1.0) -> None:
        settings = runner.services.settings
        assert settings.redis_url is not None, "the hub needs a redis_url"
        self.runner = runner
        self._options = {
            "redis_url": settings.redis_url,
            "queue_name": settings.redis_queue,
            "max_jobs": max_jobs,
            "poll_seconds": poll_seconds,
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        worker = create_worker(self.runner, handle_signals=False, **self._options)  # type: ignore[arg-type]
        self._task = asyncio.current_task()
        self._ready.set()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await worker.async_run()
        finally:
            await close_worker(worker)

    def __enter__(self) -> ArqWorkerThread:
        self._thread.start()
        assert self._ready.wait(10), "the arq worker did not start"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the worker as a signal would: running handlers are asked to stop."""
        if self._loop is not None and self._task is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(30)
        assert not self._thread.is_alive(), "the arq worker did not stop"


def looping(started: threading.Event) -> Handler:
    """A long job: steps until it is told to stop, setting `started` once it checked."""

    def handler(context: JobContext) -> None:
        while True:
            context.raise_if_cancelled()
            started.set()
            time.sleep(0.01)  # one step of the job's work

    return handler


def wait_for_job(
    jobs: JobService,
    job_id: int,
    states: tuple[JobState, ...] = FINISHED,
    *,
    attempts: int = 0,
    timeout: float = 30,
) -> JobRecord:
    """The job once it is in one of `states` (by default: finished) after `attempts` attempts."""

    def reached() -> JobRecord | None:
        job = jobs.get(job_id)
        return job if job.state in states and job.attempts >= attempts else None

    try:
        return wait_until(
            reached, f"job {job_id} to be {'/'.join(s.value for s in states)}", timeout
        )
    except AssertionError as exc:
        job = jobs.get(job_id)
        raise AssertionError(f"{exc}: it is {job.state.value}, {job.log_tail}") from None
