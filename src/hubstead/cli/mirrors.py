"""`hubstead mirror add|sync|list|remove`: repos of a data dir mirrored from an upstream hub.

Like `hubstead admin` and `hubstead jobs`, the commands open the data dir's database directly,
so they work whether or not a server or worker is running on it. A sync is a `mirror.sync` job:
`mirror sync` queues it for the server's job threads or a `hubstead worker`; with `--wait` it
also runs the job in this process as soon as it is due and nobody else has taken it (so it works
with no server running too), and returns when the job ends: exit 0 when it succeeded, 5 when it
failed. Like `cli/server.py`, this module imports the server lazily.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubstead.cli._errors import EXIT_SERVER, EXIT_USAGE, CliError
from hubstead.cli._output import emit_json, emit_table, json_option
from hubstead.cli.server import load, open_hub, run_service, storage_options

if TYPE_CHECKING:
    from hubstead.server.domain.jobs import JobRecord
    from hubstead.server.domain.mirrors import MirrorRecord
    from hubstead.server.services.registry import Services

_TYPES = ["model", "dataset", "space"]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^(\d+)([smhd]?)$")
_POLL_SECONDS = 1.0


def repo_type_option(command: click.decorators.FC) -> click.decorators.FC:
    """`--repo-type` (model, dataset or space)."""
    return click.option(
        "--repo-type", type=click.Choice(_TYPES), default="model", show_default=True
    )(command)


@click.group()
def mirror() -> None:
    """Mirror repos of an upstream hub (another hubstead, or https://huggingface.co)."""


@mirror.command("add")
@click.argument("repo_id")
@click.option("--upstream", required=True, help="The upstream hub, e.g. https://huggingface.co.")
@repo_type_option
@click.option(
    "--upstream-token",
    help="Token for upstream (gated or private repos); default: the hub's upstream_token.",
)
@click.option(
    "--revision",
    "revisions",
    multiple=True,
    help="A branch or tag to follow (repeatable); default: every branch and tag.",
)
@click.option(
    "--include", multiple=True, help="Glob of LFS files to fetch (repeatable); default: all."
)
@click.option("--exclude", multiple=True, help="Glob of LFS files not to fetch (repeatable).")
@click.option(
    "--schedule", help="Sync every INTERVAL (90s, 30m, 6h, 1d); default: only when asked."
)
@storage_options
def add_mirror(
    repo_id: str,
    upstream: str,
    repo_type: str,
    upstream_token: str | None,
    revisions: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    schedule: str | None,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Register REPO_ID as a mirror of the same repo upstream (filled by its first sync)."""
    from hubstead.protocol import RepoType
    from hubstead.server.services.mirrors import MirrorConfig

    config = MirrorConfig(upstream, upstream_token, revisions, include, exclude, _seconds(schedule))
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        record = run_service(lambda: hub.mirrors.add(RepoType(repo_type), repo_id, config))
    click.echo(f"{repo_type} {repo_id} now mirrors {record.upstream}.", err=True)
    if record.schedule_seconds:
        click.echo(f"It syncs every {schedule}, starting now.", err=True)
    else:
        click.echo(f"Fetch it with: hubstead mirror sync {repo_id} --wait", err=True)


@mirror.command("sync")
@click.argument("repo_id")
@repo_type_option
@click.option(
    "--wait",
    is_flag=True,
    help="Wait for the sync to end (running it here if no server or worker takes it).",
)
@storage_options
def sync_mirror(
    repo_id: str,
    repo_type: str,
    wait: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Queue a sync of REPO_ID from its upstream and print the job id."""
    from hubstead.protocol import RepoType

    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        job = run_service(lambda: hub.mirrors.sync(RepoType(repo_type), repo_id))
        click.echo(job.id)
        if wait:
            _wait(hub, job)


def _wait(hub: Services, job: JobRecord) -> None:
    """Run or watch the job until it ends; report attempts that fail; exit 5 if it failed."""
    from hubstead.server.app import build_runner
    from hubstead.server.domain.jobs import JobState

    runner = build_runner(hub)
    seen_attempts = job.attempts
    while not job.state.finished:
        if job.state is JobState.QUEUED and job.next_run_at <= hub.jobs.now():
            runner.run_job(job.id)  # None when a server or worker took it first
        else:
            time.sleep(_POLL_SECONDS)
        job = hub.jobs.get(job.id)
        if job.state is JobState.QUEUED and job.attempts > seen_attempts and job.error:
            delay = max(0, int((job.next_run_at - hub.jobs.now()).total_seconds()))
            click.echo(
                f"attempt {job.attempts} failed: {job.error}; retrying in {delay}s", err=True
            )
            seen_attempts = job.attempts
    if job.state is JobState.SUCCEEDED:
        click.echo(f"Synced (job {job.id}).", err=True)
        return
    if job.state is JobState.CANCELLED:
        raise CliError(f"The sync was cancelled (job {job.id})", EXIT_USAGE)
    raise CliError(f"The sync failed (job {job.id}): {job.error}", EXIT_SERVER)


@mirror.command("list")
@json_option
@storage_options
def list_mirrors(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """List mirrored repos: upstream, what they follow, and how their last sync went."""
    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        records = hub.mirrors.list()
    rows = [_row(record, as_json) for record in records]
    columns = ["repo", "upstream", "mode", "follows", "schedule", "synced", "error"]
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, False, columns)


def _row(record: MirrorRecord, as_json: bool) -> dict[str, object]:
    synced = record.synced_at.isoformat(timespec="seconds") if record.synced_at else "never"
    schedule = f"{record.schedule_seconds}s" if record.schedule_seconds else "-"
    follows = ", ".join(record.revisions) or "all branches and tags"
    if as_json:
        return {
            "repo_type": record.repo_type,
            "repo_id": record.local_id,
            "upstream": record.upstream,
            "upstream_repo_id": record.upstream_repo_id,
            "on_demand": record.on_demand,
            "revisions": list(record.revisions),
            "include": list(record.include),
            "exclude": list(record.exclude),
            "schedule_seconds": record.schedule_seconds,
            "synced_at": record.synced_at,
            "next_sync_at": record.next_sync_at,
            "error": record.sync_error,
        }
    prefix = "" if record.repo_type == "model" else f"{record.repo_type}s/"
    return {
        "repo": prefix + record.local_id,
        "upstream": record.upstream,
        "mode": "pull-through" if record.on_demand else "sync",
        "follows": follows,
        "schedule": schedule,
        "synced": synced,
        "error": (record.sync_error or "").splitlines()[0][:60] if record.sync_error else "",
    }


@mirror.command("remove")
@click.argument("repo_id")
@repo_type_option
@click.option("--delete-repo", is_flag=True, help="Also delete the local copy of the repo.")
@storage_options
def remove_mirror(
    repo_id: str,
    repo_type: str,
    delete_repo: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Stop mirroring REPO_ID: it becomes an ordinary local repo, or is deleted."""
    from hubstead.protocol import RepoType

    settings = load(config_file, data_dir=data_dir, database_url=database_url)
    with open_hub(settings) as hub:
        run_service(
            lambda: hub.mirrors.remove(RepoType(repo_type), repo_id, delete_repo=delete_repo)
        )
    outcome = "deleted" if delete_repo else "kept as a local repo (writable)"
    click.echo(f"{repo_type} {repo_id} is no longer a mirror; it was {outcome}.", err=True)


def _seconds(interval: str | None) -> int | None:
    """`90s`, `30m`, `6h`, `1d` or plain seconds, as seconds."""
    if interval is None:
        return None
    match = _INTERVAL.match(interval.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise CliError(f"--schedule {interval!r}: a positive interval such as 90s, 30m, 6h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]
