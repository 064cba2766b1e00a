"""`hubstead jobs`, `hubstead worker`, and the jobs `hubstead serve` runs itself.

`jobs` works on the live server's data dir, like `hubstead admin`. `worker` and `serve` run as
real subprocesses; the job they run is `storage.fsck`, a handler every hub registers, queued
through the job service of a hub on the same data dir.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from hubstead.server.app import build_services
from hubstead.server.domain.jobs import JobRecord, JobState
from hubstead.server.jobs.upkeep import FSCK
from hubstead.server.settings import load_settings
from tests.helpers.accounts import unique_name
from tests.helpers.databases import postgres_database
from tests.helpers.jobs import wait_for_job
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.processes import HUBSTEAD, HubsteadProcess
from tests.helpers.redis import drop_queue, redis_url
from tests.helpers.storage import storage_args

LATER = 3600


def jobs_cli(server: LiveServer, *args: str) -> Result:
    return CliRunner().invoke(cli, ["jobs", args[0], *storage_args(server), *args[1:]])


@pytest.fixture
def kind(live_server: LiveServer) -> Iterator[str]:
    """A job kind of the test's own; its jobs still queued are cancelled afterwards."""
    name = f"test.{unique_name('cli').replace('-', '_')}"
    yield name
    for job in live_server.services.jobs.list(states=[JobState.QUEUED], kind=name):
        live_server.services.jobs.cancel(job.id)


@pytest.fixture
def own_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A database for a hub of the test's own (None: SQLite in its data dir)."""
    if request.config.getoption("--database") == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield None


@pytest.fixture
def redis_hub(tmp_path: Path, own_database: str | None) -> Iterator[LiveServer]:
    """A live hub whose services push queued jobs to a Redis queue of the test's own."""
    queue = unique_name("hubstead-test-jobs")
    server = start_server(tmp_path / "hub", own_database, redis_url=redis_url(), redis_queue=queue)
    yield server
    server.stop()
    drop_queue(queue)


def ran_in(job: JobRecord, pid: int) -> bool:
    return any(re.search(rf"started on [^ ]+:{pid}$", line) for line in job.log_tail)


def test_jobs_list_shows_the_jobs_of_a_kind_newest_first(
    live_server: LiveServer, kind: str
) -> None:
    first = live_server.services.jobs.enqueue(kind, {"repo": "a/b"}, delay=LATER)
    second = live_server.services.jobs.enqueue(kind, {"repo": "c/d"}, delay=LATER)
    live_server.services.jobs.cancel(first.id)

    table = jobs_cli(live_server, "list", "--kind", kind)
    as_json = jobs_cli(live_server, "list", "--kind", kind, "--json")
    cancelled = jobs_cli(live_server, "list", "--kind", kind, "--state", "cancelled", "--json")

    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "KIND", "STATE", "ATTEMPTS", "PROGRESS", "CREATED", "ERROR"]
    assert [row.split()[:4] for row in rows] == [
        [str(second.id), kind, "queued", "0/5"],
        [str(first.id), kind, "cancelled", "0/5"],
    ]
    documents = json.loads(as_json.stdout)
    assert [(d["id"], d["state"], d["payload"]) for d in documents] == [
        (second.id, "queued", {"repo": "c/d"}),
        (first.id, "cancelled", {"repo": "a/b"}),
    ]
    assert [d["id"] for d in json.loads(cancelled.stdout)] == [first.id]


def test_jobs_show_prints_state_progress_error_and_log(live_server: LiveServer, kind: str) -> None:
    job = live_server.services.jobs.enqueue(kind, {"repo": "a/b"})
    owner = unique_name("worker")
    assert live_server.services.jobs.claim(owner, lease=60, job_id=job.id) is not None
    live_server.services.jobs.finish(
        job.id, owner, JobState.FAILED, error="upstream said no", log_lines=["fetching a/b"]
    )

    shown = jobs_cli(live_server, "show", str(job.id))
    as_json = jobs_cli(live_server, "show", str(job.id), "--json")

    assert shown.exit_code == 0, shown.output
    fields = dict(re.findall(r"^(\w[\w ]*):\s+(.*)$", shown.stdout, re.MULTILINE))
    assert fields["state"] == "failed"
    assert fields["attempts"] == "1 of 5"
    assert fields["error"] == "upstream said no"
    assert fields["payload"] == "{'repo': 'a/b'}"
    assert "finished" in fields
    assert shown.stdout.splitlines()[-1].endswith(" fetching a/b")
    document = json.loads(as_json.stdout)
    assert (document["state"], document["error"], document["attempts"]) == (
        "failed",
        "upstream said no",
        1,
    )


def test_jobs_cancel_cancels_a_queued_job(live_server: LiveServer, kind: str) -> None:
    job = live_server.services.jobs.enqueue(kind, {}, delay=LATER)

    result = jobs_cli(live_server, "cancel", str(job.id))

    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"Job {job.id} is cancelled."
    assert live_server.services.jobs.get(job.id).state is JobState.CANCELLED


def test_jobs_cancel_asks_a_running_job_to_stop(live_server: LiveServer, kind: str) -> None:
    job = live_server.services.jobs.enqueue(kind, {})
    owner = unique_name("worker")
    assert live_server.services.jobs.claim(owner, lease=60, job_id=job.id) is not None

    result = jobs_cli(live_server, "cancel", str(job.id))
    live_server.services.jobs.finish(job.id, owner, JobState.CANCELLED)

    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"Asked job {job.id} to stop; it ends at its next check."


def test_jobs_commands_report_unknown_and_finished_jobs(live_server: LiveServer, kind: str) -> None:
    job = live_server.services.jobs.enqueue(kind, {})
    owner = unique_name("worker")
    assert live_server.services.jobs.claim(owner, lease=60, job_id=job.id) is not None
    live_server.services.jobs.finish(job.id, owner, JobState.SUCCEEDED)

    finished = jobs_cli(live_server, "cancel", str(job.id))
    unknown = jobs_cli(live_server, "show", "999999999")
    malformed = jobs_cli(live_server, "show", "abc")

    assert (finished.exit_code, finished.stderr.strip()) == (
        4,
        f"Error: Job {job.id} already succeeded",
    )
    assert (unknown.exit_code, unknown.stderr.strip()) == (2, "Error: Job 999999999 not found")
    assert malformed.exit_code == 1


def test_hubstead_worker_runs_jobs_queued_on_redis_and_stops_cleanly(
    redis_hub: LiveServer,
) -> None:
    settings = redis_hub.settings
    assert settings.redis_url is not None
    worker = HubsteadProcess(
        "worker",
        *storage_args(redis_hub),
        "--redis-url",
        settings.redis_url,
        "--redis-queue",
        settings.redis_queue,
        "--job-poll-seconds",
        "3600",
    )
    worker.wait_for(r"^hubstead worker on .*: jobs from the Redis queue")

    job = redis_hub.services.jobs.enqueue(FSCK, {})
    done = wait_for_job(redis_hub.services.jobs, job.id, timeout=60)
    code = worker.stop()

    assert (done.state, done.attempts, done.error) == (JobState.SUCCEEDED, 1, None), done
    assert ran_in(done, worker.process.pid)
    assert any("checked 0 objects" in line for line in done.log_tail)
    assert code == 0, worker.stderr
    assert worker.stderr.splitlines()[-1] == "hubstead worker stopped"


def test_hubstead_worker_without_redis_polls_the_database(
    tmp_path: Path, own_database: str | None
) -> None:
    server = start_server(tmp_path / "hub", own_database)
    try:
        job = server.services.jobs.enqueue(FSCK, {})
        worker = HubsteadProcess("worker", *storage_args(server), "--job-poll-seconds", "1")
        done = wait_for_job(server.services.jobs, job.id, timeout=60)
        code = worker.stop()
        added = jobs_cli(server, "add", FSCK)
        finished = subprocess.run(
            [*HUBSTEAD, "worker", "--burst", *storage_args(server)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        after = server.services.jobs.get(int(added.stdout))
    finally:
        server.stop()

    assert done.state is JobState.SUCCEEDED and ran_in(done, worker.process.pid)
    assert code == 0, worker.stderr
    assert added.exit_code == 0, added.output
    assert finished.returncode == 0, finished.stderr
    assert (after.kind, after.state) == (FSCK, JobState.SUCCEEDED)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no.such.kind"], "Error: no job kind 'no.such.kind' here: one of "),
        ([FSCK, "--payload", "[1]"], "Error: --payload must be a JSON object"),
        ([FSCK, "--payload", "{"], "Error: --payload is not JSON"),
    ],
)
def test_jobs_add_refuses_unknown_kinds_and_bad_payloads(
    live_server: LiveServer, args: list[str], message: str
) -> None:
    before = len(live_server.services.jobs.list(limit=10_000))

    result = jobs_cli(live_server, "add", *args)

    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert len(live_server.services.jobs.list(limit=10_000)) == before


def test_hubstead_worker_with_an_unreachable_redis_exits_5(tmp_path: Path) -> None:
    finished = subprocess.run(
        [*HUBSTEAD, "worker", "--data-dir", str(tmp_path), "--redis-url", "redis://127.0.0.1:1/0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 5, finished.stderr
    assert "Error: cannot use the Redis queue" in finished.stderr


def test_hubstead_serve_runs_jobs_in_process_and_stops_them_with_the_server(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "hub"
    serve = HubsteadProcess(
        "serve", "--data-dir", str(data_dir), "--port", "0", env={"HUBSTEAD_JOB_POLL_SECONDS": "1"}
    )
    serve.wait_for(r"^hubstead serving ")
    # Queued by another process on the same data dir (as `hubstead mirror sync` does): the
    # server finds it by polling.
    hub = build_services(load_settings({"data_dir": data_dir}, environ={}))
    try:
        job = hub.jobs.enqueue(FSCK, {})
        done = wait_for_job(hub.jobs, job.id, timeout=60)
    finally:
        hub.close()
    code = serve.stop()

    assert done.state is JobState.SUCCEEDED
    assert ran_in(done, serve.process.pid)
    assert code == 0, serve.stderr
    assert serve.stderr.splitlines()[-1] == "hubstead stopped"


def test_a_command_on_a_new_data_dir_leaves_no_space_runner_dir_beside_it(tmp_path: Path) -> None:
    data = tmp_path / "data"

    listed = CliRunner().invoke(cli, ["jobs", "list", "--data-dir", str(data)])

    assert listed.exit_code == 0, listed.output
    # The runner's directory (`<data_dir>-spaces`) is made by the first Space build.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]
