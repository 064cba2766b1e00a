"""`hubstead mirror …` on the data dir of a running mirror hub, and `serve --pull-through`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import RepositoryNotFoundError

from hubstead.cli.main import cli
from hubstead.server.domain.jobs import JobState
from hubstead.server.services.mirrors import SYNC_KIND
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import runner
from tests.helpers.processes import serving


def storage_args(server: LiveServer) -> list[str]:
    args = ["--data-dir", str(server.data_dir)]
    if server.settings.database_url is not None:
        args += ["--database-url", server.settings.database_url]
    return args


def mirror_cli(server: LiveServer, command: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["mirror", command, *storage_args(server), *args])


def seed(owner: HubUser) -> tuple[str, bytes]:
    repo_id = f"{owner.name}/{unique_name('cli')}"
    data = os.urandom(5000)
    owner.api.create_repo(repo_id)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="w.safetensors", repo_id=repo_id)
    return repo_id, data


def test_add_then_sync_wait_fills_the_mirror_the_running_hub_serves(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, reader: HubUser, tmp_path: Path
) -> None:
    repo_id, data = seed(owner)
    command = [sys.executable, "-m", "hubstead.cli", "mirror"]

    added = subprocess.run(
        [*command, "add", repo_id, "--upstream", upstream.url, *storage_args(mirror)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    synced = subprocess.run(
        [*command, "sync", repo_id, "--wait", *storage_args(mirror)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    assert added.returncode == 0, added.stderr
    assert f"now mirrors {upstream.url}" in added.stderr
    assert synced.returncode == 0, synced.stderr
    job = mirror.services.jobs.get(int(synced.stdout.strip()))
    assert job.state is JobState.SUCCEEDED
    assert reader.api.repo_info(repo_id).sha == owner.api.repo_info(repo_id).sha
    local = hf_hub_download(
        repo_id, "w.safetensors", endpoint=mirror.url, token=reader.token, cache_dir=tmp_path
    )
    assert Path(local).read_bytes() == data
    listed = mirror_cli(mirror, "list", "--json")
    [row] = [r for r in json.loads(listed.stdout) if r["repo_id"] == repo_id]
    assert row["upstream"] == upstream.url and row["synced_at"] and row["error"] is None
    table = mirror_cli(mirror, "list")
    assert repo_id in table.stdout and "all branches and tags" in table.stdout


def test_sync_wait_of_a_repo_missing_upstream_exits_5_with_the_reason(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id = f"{owner.name}/{unique_name('absent')}"
    assert mirror_cli(mirror, "add", repo_id, "--upstream", upstream.url).exit_code == 0

    result = mirror_cli(mirror, "sync", repo_id, "--wait")

    assert result.exit_code == 5
    assert "does not exist upstream" in result.stderr


def test_add_refuses_a_local_repo_a_bad_schedule_and_a_bad_upstream(
    upstream: LiveServer, mirror: LiveServer
) -> None:
    local = make_user(mirror, "local")
    repo_id = f"{local.name}/{unique_name('mine')}"
    local.api.create_repo(repo_id)

    taken = mirror_cli(mirror, "add", repo_id, "--upstream", upstream.url)
    bad_schedule = mirror_cli(mirror, "add", "a/b", "--upstream", upstream.url, "--schedule", "0")
    bad_upstream = mirror_cli(mirror, "add", "a/b", "--upstream", "ftp://example.test")

    assert taken.exit_code == 4 and "already exists here, as a local repo" in taken.stderr
    assert bad_schedule.exit_code == 1 and "positive interval" in bad_schedule.stderr
    assert bad_upstream.exit_code == 1 and "Invalid upstream" in bad_upstream.stderr
    assert mirror_cli(mirror, "sync", repo_id).exit_code == 2


def test_scheduled_mirror_gets_its_first_sync_queued_and_the_next_when_it_ends(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id, _ = seed(owner)

    result = mirror_cli(
        mirror, "add", repo_id, "--upstream", upstream.url, "--schedule", "6h",
        "--revision", "main", "--include", "*.safetensors",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    [first] = [
        j for j in mirror.services.jobs.list(kind=SYNC_KIND) if j.payload["repo_id"] == repo_id
    ]
    assert first.payload["scheduled"] is True and first.state is JobState.QUEUED
    assert runner(mirror).run_job(first.id) is not None
    jobs = [j for j in mirror.services.jobs.list(kind=SYNC_KIND) if j.payload["repo_id"] == repo_id]
    [following] = [j for j in jobs if j.state is JobState.QUEUED]
    hours = (following.next_run_at - first.next_run_at).total_seconds() / 3600
    assert 5.9 < hours < 6.1
    [row] = [
        r
        for r in json.loads(mirror_cli(mirror, "list", "--json").stdout)
        if r["repo_id"] == repo_id
    ]
    assert row["schedule_seconds"] == 6 * 3600 and row["revisions"] == ["main"]
    assert row["include"] == ["*.safetensors"]


def test_remove_keeps_the_repo_writable_or_deletes_it(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    kept, _ = seed(owner)
    deleted, _ = seed(owner)
    for repo_id in (kept, deleted):
        assert mirror_cli(mirror, "add", repo_id, "--upstream", upstream.url).exit_code == 0
        assert mirror_cli(mirror, "sync", repo_id, "--wait").exit_code == 0

    assert mirror_cli(mirror, "remove", kept).exit_code == 0
    assert mirror_cli(mirror, "remove", deleted, "--delete-repo").exit_code == 0

    admin = make_user(mirror, "admin", admin=True)
    admin.api.upload_file(path_or_fileobj=b"local now", path_in_repo="note.txt", repo_id=kept)
    with pytest.raises(RepositoryNotFoundError):
        admin.api.repo_info(deleted)
    assert mirror_cli(mirror, "remove", kept).exit_code == 2


def test_check_config_shows_pull_through_settings_from_flags_and_environment(
    tmp_path: Path,
) -> None:
    args = ["check-config", "--data-dir", str(tmp_path), "--pull-through", "https://up.test/"]
    flags = CliRunner().invoke(
        cli, [*args, "--allow", "google/*", "--allow", "datasets/*", "--upstream-token", "hf_x"]
    )
    environment = CliRunner().invoke(cli, args, env={"HUBSTEAD_PULL_THROUGH_DENY": "a/*, b/*"})

    assert flags.exit_code == 0, flags.output
    assert "pull_through = https://up.test" in flags.stdout
    assert "pull_through_allow = ('google/*', 'datasets/*')" in flags.stdout
    assert "upstream_token = ********" in flags.stdout and "hf_x" not in flags.stdout
    assert "pull_through_deny = ('a/*', 'b/*')" in environment.stdout


def test_serve_with_pull_through_mirrors_unknown_repos_on_demand(
    upstream: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id, data = seed(owner)
    args = ["--port", "0", "--data-dir", str(tmp_path / "hub"), "--pull-through", upstream.url]

    with serving([*args, "--allow", f"{owner.name}/*"]) as server:
        url = server.wait_until_serving()
        anonymous = HfApi(endpoint=url, token=False)
        assert anonymous.model_info(repo_id).sha == owner.api.model_info(repo_id).sha
        local = hf_hub_download(repo_id, "w.safetensors", endpoint=url, cache_dir=tmp_path / "c")
        assert Path(local).read_bytes() == data
        with pytest.raises(RepositoryNotFoundError):
            anonymous.model_info(f"someone-else/{unique_name('x')}")
    assert "Traceback" not in server.stderr
