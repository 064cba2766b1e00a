"""`hubstead jobs list|show|cancel`: the jobs of a data dir (mirror syncs and the like).

Like `hubstead admin`, the commands open the data dir's database directly, so they work whether
or not a server or worker is running on it. The same is served over HTTP to site admins under
`/api/admin/jobs`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubstead.cli._errors import CliError
from hubstead.cli._output import emit_json, emit_table, json_option
from hubstead.cli.server import load, open_hub, run_service, storage_options

if TYPE_CHECKING:
    from hubstead.server.domain.jobs import JobRecord

_STATES = ["queued", "running", "succeeded", "failed", "cancelled"]
_ERROR_WIDTH = 60


@click.group()
def jobs() -> None:
    """List, inspect and cancel background jobs of a data dir."""


@jobs.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(_STATES),
    help="Only jobs in this state (repeatable).",
)
@click.option("--kind", help="Only jobs of this kind, e.g. mirror.sync.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@storage_options
def list_jobs(
    states: tuple[str, ...],
    kind: str | None,
    limit: int,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """List jobs, newest first."""
    from hubstead.server.domain.jobs import JobState

    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        found = hub.jobs.list(states=[JobState(s) for s in states], kind=kind, limit=limit)
    if as_json:
        emit_json([dataclasses.asdict(job) for job in found])
        return
    rows = [
        {
            "id": job.id,
            "kind": job.kind,
            "state": job.state.value,
            "attempts": f"{job.attempts}/{job.max_attempts}",
            "progress": _progress(job),
            "created": job.created_at.isoformat(timespec="seconds"),
            "error": _shorten(job.error or ""),
        }
        for job in found
    ]
    emit_table(rows, False, ["id", "kind", "state", "attempts", "progress", "created", "error"])


@jobs.command("show")
@click.argument("job_id", type=int)
@json_option
@storage_options
def show_job(
    job_id: int,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Show a job: its state, progress, error and the last lines of its log."""
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        job = run_service(lambda: hub.jobs.get(job_id))
    if as_json:
        emit_json(dataclasses.asdict(job))
        return
    times = {
        "created": job.created_at,
        "started": job.started_at,
        "finished": job.finished_at,
        "next run": job.next_run_at if not job.state.finished else None,
    }
    fields = {
        "job": job.id,
        "kind": job.kind,
        "key": job.key,
        "state": job.state.value + (" (cancel requested)" if job.cancel_requested else ""),
        "attempts": f"{job.attempts} of {job.max_attempts}",
        "progress": _progress(job) or None,
        "error": job.error,
        **{name: t.isoformat(timespec="seconds") for name, t in times.items() if t is not None},
        "payload": job.payload,
    }
    for name, value in fields.items():
        if value is not None:
            click.echo(f"{name + ':':<10} {value}")
    if job.log_tail:
        click.echo("log:")
        for line in job.log_tail:
            click.echo(f"  {line}")


@jobs.command("add")
@click.argument("kind")
@click.option("--payload", default="{}", show_default=True, help="The job's input, a JSON object.")
@click.option("--key", help="Dedupe key: while a live job holds it, print that job instead.")
@storage_options
def add_job(
    kind: str,
    payload: str,
    key: str | None,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Queue a job of KIND (e.g. storage.fsck) and print its id; a running hub or worker runs it."""
    from hubstead.server.app import job_handlers

    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise CliError(f"--payload is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CliError("--payload must be a JSON object")
    kinds = sorted(job_handlers())
    if kind not in kinds:
        raise CliError(f"no job kind {kind!r} here: one of {', '.join(kinds)}")
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        job = run_service(lambda: hub.jobs.enqueue(kind, document, key=key))
    click.echo(job.id)


@jobs.command("cancel")
@click.argument("job_id", type=int)
@storage_options
def cancel_job(
    job_id: int, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """Cancel a queued job, or ask a running one to stop at its next check."""
    from hubstead.server.domain.jobs import JobState

    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        job = run_service(lambda: hub.jobs.cancel(job_id))
    if job.state is JobState.CANCELLED:
        click.echo(f"Job {job.id} is cancelled.", err=True)
    else:
        click.echo(f"Asked job {job.id} to stop; it ends at its next check.", err=True)


def _progress(job: JobRecord) -> str:
    """`3/10 files, 1.5/20.0 MB`, leaving out what is unknown."""
    p = job.progress
    parts = []
    if p.files_total is not None or p.files_done:
        parts.append(f"{p.files_done}/{'?' if p.files_total is None else p.files_total} files")
    if p.bytes_total is not None or p.bytes_done:
        total = "?" if p.bytes_total is None else f"{p.bytes_total / 1e6:.1f}"
        parts.append(f"{p.bytes_done / 1e6:.1f}/{total} MB")
    return ", ".join(parts)


def _shorten(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= _ERROR_WIDTH else line[: _ERROR_WIDTH - 1] + "…"
