"""Jobs on Redis: arq carries job ids from the processes that queue jobs to `hubstead worker`s.

The database stays the record of every job; Redis only says "job N is due now". A queued job's
id is pushed to the arq queue (deferred until it is due), and an arq worker runs it through the
same `JobRunner` as the in-process threads, so a duplicate or stale message is harmless: the
claim fails and nothing runs. A worker also sweeps the database every `poll_seconds`, which
runs jobs whose message was lost (Redis down at enqueue time, a worker killed mid-job).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker, func

from hubstead.server.domain.jobs import JobRecord
from hubstead.server.jobs.runner import JobRunner

logger = logging.getLogger("hubstead.jobs")

T = TypeVar("T")
FUNCTION = "hubstead.run_job"
# Runner and arq clocks differ by a few milliseconds: a message arriving before its job is due
# would find nothing to claim.
_DUE_MARGIN = dt.timedelta(milliseconds=50)
# arq's own timeout would cancel the coroutine but not the handler's thread; leases and
# cancellation bound a job instead.
_NO_TIMEOUT = dt.timedelta(days=7)
_POLL_DELAY = 0.2


def redis_settings(redis_url: str) -> RedisSettings:
    """The arq connection settings for `redis_url`, failing fast when Redis is down."""
    return dataclasses.replace(RedisSettings.from_dsn(redis_url), conn_retries=0, conn_timeout=2)


class ArqQueue:
    """Pushes queued jobs to the arq queue (a `JobService` listener)."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        self._settings = redis_settings(redis_url)
        self.queue_name = queue_name

    def push(self, job: JobRecord) -> None:
        """Tell the workers that `job` is due at its `next_run_at`.

        When Redis cannot be reached the job still runs: a worker's database sweep finds it.
        """
        try:
            _run_sync(self._push(job.id, job.next_run_at + _DUE_MARGIN))
        except Exception as exc:
            logger.warning(
                "could not push job %s to Redis (%s: %s); a worker's sweep will run it",
                job.id,
                type(exc).__name__,
                exc,
            )

    async def _push(self, job_id: int, due: dt.datetime) -> None:
        pool = await create_pool(self._settings, default_queue_name=self.queue_name)
        try:
            await pool.enqueue_job(FUNCTION, job_id, _defer_until=due)
        finally:
            await pool.aclose()


def create_worker(
    runner: JobRunner,
    redis_url: str,
    queue_name: str,
    *,
    max_jobs: int,
    poll_seconds: float,
    burst: bool = False,
    handle_signals: bool = True,
) -> Worker:
    """An arq worker running `runner`'s jobs; create it in the event loop that runs it.

    Args:
        runner: runs each job whose id arrives.
        redis_url: the Redis the queue lives in.
        queue_name: the arq queue to read.
        max_jobs: how many jobs run at once.
        poll_seconds: how often the database is swept for due jobs (not in burst mode).
        burst: stop once the queue is empty.
        handle_signals: stop cleanly on SIGINT and SIGTERM (only in the main thread).
    """
    return Worker(
        functions=[func(_run_job, name=FUNCTION, max_tries=1, keep_result=0, timeout=_NO_TIMEOUT)],
        queue_name=queue_name,
        redis_settings=redis_settings(redis_url),
        burst=burst,
        max_jobs=max_jobs,
        keep_result=0,
        poll_delay=_POLL_DELAY,
        handle_signals=handle_signals,
        ctx={"runner": runner, "poll_seconds": poll_seconds, "burst": burst},
        on_startup=_start_sweep,
        on_shutdown=_stop_sweep,
    )


async def close_worker(worker: Worker) -> None:
    """Stop a worker made by `create_worker`: its runner first, then arq's side.

    Use it instead of `Worker.close`, which cancels the job tasks, gathers them and raises if
    one ended cancelled (caught in arq's shielded bookkeeping), before its shutdown hook stops
    the runner: the handler would then run on in its thread, and the process wait for it.
    """
    runner: JobRunner = worker.ctx["runner"]
    runner.stop()  # running handlers stop at their next check; their jobs are queued again
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    # arq itself forgets finished tasks at each poll; its close must not gather cancelled ones.
    for job_id, task in list(worker.tasks.items()):
        if task.done():
            del worker.tasks[job_id]
    await worker.close()


async def _run_job(ctx: dict[str, Any], job_id: int) -> None:
    runner: JobRunner = ctx["runner"]
    await asyncio.to_thread(runner.run_job, job_id)


async def _start_sweep(ctx: dict[str, Any]) -> None:
    if not ctx["burst"]:
        ctx["sweep"] = asyncio.create_task(_sweep(ctx["runner"], ctx["poll_seconds"]))


async def _stop_sweep(ctx: dict[str, Any]) -> None:
    runner: JobRunner = ctx["runner"]
    runner.stop()
    sweep: asyncio.Task[None] | None = ctx.get("sweep")
    if sweep is not None:
        sweep.cancel()


async def _sweep(runner: JobRunner, poll_seconds: float) -> None:
    while not runner.stopping:
        await asyncio.to_thread(runner.run_due)
        await asyncio.sleep(poll_seconds)


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, inside an event loop or not."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
