"""`hubstead worker`: run jobs in a process of their own, beside one or more servers.

With a Redis queue configured (`--redis-url`), the worker takes job ids from it with arq and
also sweeps the database now and then for due jobs whose message was lost. Without one, it
polls the database. Either way it runs the same handlers as the server's own threads, and any
number of workers may share a data dir and database. Like `cli/server.py`, it imports the server
lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._errors import EXIT_SERVER, CliError
from hubstead.cli.server import load, open_hub, stop_on_signals, storage_options

if TYPE_CHECKING:
    from hubstead.server.jobs.runner import JobRunner
    from hubstead.server.settings import Settings

_IDLE_SECONDS = 3600


@click.command()
@click.option(
    "--redis-url",
    help="Redis of the job queue [env HUBSTEAD_REDIS_URL; default: poll the database].",
)
@click.option(
    "--redis-queue", help="arq queue name [env HUBSTEAD_REDIS_QUEUE; default hubstead:jobs]."
)
@click.option(
    "--job-threads", type=int, help="Jobs run at once [env HUBSTEAD_JOB_THREADS; default 2]."
)
@click.option(
    "--job-poll-seconds",
    type=int,
    help="Seconds between looks at the database for due jobs [env HUBSTEAD_JOB_POLL_SECONDS; "
    "default 5].",
)
@click.option("--burst", is_flag=True, help="Run the jobs that are due now, then exit.")
@storage_options
def worker(config_file: Path | None, burst: bool, **flags: Any) -> None:
    """Run queued jobs (mirror syncs and the like) until stopped with Ctrl-C or SIGTERM."""
    from hubstead.server.app import build_runner, dispatch_thread

    settings = load(config_file, **flags)
    with open_hub(settings) as hub:
        runner = build_runner(hub)
        source = (
            f"the Redis queue {settings.redis_queue!r}"
            if settings.redis_url
            else f"the database (every {settings.job_poll_seconds}s)"
        )
        click.echo(
            f"hubstead worker on {settings.resolved_data_dir}: jobs from {source}, "
            f"{settings.job_threads} at a time",
            err=True,
        )
        # Hub events this process records (mirror syncs) become webhook deliveries here too.
        background = contextlib.nullcontext() if burst else dispatch_thread(hub)
        if burst:
            hub.webhook_dispatch.dispatch_pending()
        with background:
            _run(runner, settings, burst)
    click.echo("hubstead worker stopped", err=True)


def _run(runner: JobRunner, settings: Settings, burst: bool) -> None:
    """Run jobs from the Redis queue or the database, until stopped (or none is due)."""
    if settings.redis_url is not None:
        import redis.exceptions

        try:
            asyncio.run(_run_arq(runner, settings, settings.redis_url, burst))
        except (OSError, redis.exceptions.RedisError) as exc:
            raise CliError(f"cannot use the Redis queue: {exc}", EXIT_SERVER) from exc
    elif burst:
        runner.run_due()
    else:
        _run_threads(settings, runner)


def _run_threads(settings: Settings, runner: JobRunner) -> None:
    from hubstead.server.jobs.threads import JobThreads

    threads = JobThreads(
        runner, threads=settings.job_threads, poll_seconds=settings.job_poll_seconds
    )
    with stop_on_signals(), threads:
        while True:
            time.sleep(_IDLE_SECONDS)


async def _run_arq(runner: JobRunner, settings: Settings, redis_url: str, burst: bool) -> None:
    from hubstead.server.jobs.redis_queue import close_worker, create_worker

    arq_worker = create_worker(
        runner,
        redis_url,
        settings.redis_queue,
        max_jobs=settings.job_threads,
        poll_seconds=settings.job_poll_seconds,
        burst=burst,
    )
    try:
        # arq stops on SIGINT and SIGTERM by cancelling its main task.
        with contextlib.suppress(asyncio.CancelledError):
            await arq_worker.async_run()
        if burst:
            await asyncio.to_thread(runner.run_due)
    finally:
        await close_worker(arq_worker)
