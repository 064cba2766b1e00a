"""A mirror's sync, queued on the session's hub, runs where that hub runs its jobs.

Under `--profile=production` the queue is Redis and the `hubstead worker` process takes the
job: it writes the repo into the data dir and the LFS object into the bucket, which the two
server processes then serve to the official client. Under the embedded profile the test runs
the queued job itself, as `hubstead serve`'s job thread would.
"""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import hf_hub_download

from hubstead.protocol import RepoType
from hubstead.server.domain.jobs import JobRecord, JobState
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.jobs import wait_for_job
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, runner
from tests.helpers.production_server import ProductionServer

MiB = 1024 * 1024


def test_a_queued_mirror_sync_is_run_and_its_files_are_served_with_upstream_commit_ids(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    weights = os.urandom(3 * MiB + 5)
    with hub(tmp_path / "upstream", postgres=False) as upstream:
        owner = make_user(upstream, "owner")
        repo_id = f"{owner.name}/{unique_name('mirrored')}"
        owner.api.create_repo(repo_id)
        owner.api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=repo_id)
        owner.api.upload_file(
            path_or_fileobj=weights, path_in_repo="model.safetensors", repo_id=repo_id
        )
        add_mirror(live_server, repo_id, upstream.url)

        job = live_server.services.mirrors.sync(RepoType.MODEL, repo_id)
        ended = _run_queued(live_server, job.id)

        assert ended.state is JobState.SUCCEEDED, ended.log_tail
        upstream_commits = [c.commit_id for c in owner.api.list_repo_commits(repo_id)]
    assert [c.commit_id for c in user.api.list_repo_commits(repo_id)] == upstream_commits
    downloaded = hf_hub_download(
        repo_id,
        "model.safetensors",
        endpoint=live_server.url,
        token=user.token,
        cache_dir=tmp_path / "cache",
    )
    assert Path(downloaded).read_bytes() == weights


def _run_queued(server: LiveServer, job_id: int) -> JobRecord:
    """The job once finished: by the production hub's worker, or here for the embedded hub."""
    if isinstance(server, ProductionServer):
        return wait_for_job(server.services.jobs, job_id, timeout=120)
    ran = runner(server).run_job(job_id)
    assert ran is not None, f"the job {job_id} was not due"
    return ran
