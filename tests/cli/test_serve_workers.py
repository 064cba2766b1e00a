"""`hubstead serve --workers 2`: two server processes on one port, one data dir, one database.

The writers that must take turns across processes (commits to one branch, completions of one
LFS upload, merges of one pull request) are sent at once from several clients, so both worker
processes take part; nothing may be lost or done twice.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hubstead.cli._errors import EXIT_SERVER
from tests.helpers.accounts import unique_name
from tests.helpers.committers import commit_from_processes
from tests.helpers.databases import postgres_database
from tests.helpers.lfs import MiB, batch, sha256
from tests.helpers.processes import HubsteadProcess, serving

pytestmark = pytest.mark.slow

# Objects of 4 MiB and more are offered multipart transfer, in 1 MiB parts.
_SMALL_PARTS = {
    "HUBSTEAD_LFS_MULTIPART_THRESHOLD_BYTES": str(4 * MiB),
    "HUBSTEAD_LFS_CHUNK_BYTES": str(MiB),
}


@dataclass
class Hub:
    url: str
    token: str
    data_dir: Path
    process: HubsteadProcess

    @property
    def api(self) -> HfApi:
        return HfApi(endpoint=self.url, token=self.token)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Hub]:
    data_dir = tmp_path_factory.mktemp("workers") / "data"
    with contextlib.ExitStack() as stack:
        args = ["--port", "0", "--data-dir", str(data_dir), "--workers", "2"]
        if request.config.getoption("--database") == "postgresql":
            args += ["--database-url", stack.enter_context(postgres_database())]
        server = stack.enter_context(serving(args, env=_SMALL_PARTS))
        url = server.wait_until_serving(timeout=120)
        server.wait_for(r"Started server process \[\d+\](?s:.*)Started server process", 120)
        token = server.exported("HF_TOKEN")
        assert token is not None
        yield Hub(url, token, data_dir, server)
        assert server.stop(signal.SIGTERM) == 0
        assert "Traceback" not in server.stderr
        assert server.stderr.count("hubstead stopped") == 1


def test_two_workers_serve_one_port_and_the_token_is_printed_once(hub: Hub) -> None:
    pids = set(re.findall(r"Started server process \[(\d+)\]", hub.process.stderr))
    assert len(pids) == 2
    assert str(hub.process.process.pid) not in pids
    assert hub.process.stderr.count("export HF_TOKEN=") == 1
    assert hub.api.whoami()["name"] == "admin"


def test_commits_from_many_client_processes_all_land_on_one_linear_history(hub: Hub) -> None:
    repo = f"admin/{unique_name('hammer')}"
    hub.api.create_repo(repo)
    made = commit_from_processes(hub.url, hub.token, repo, processes=3, threads=3, commits=4)
    history = hub.api.list_repo_commits(repo)
    # Newest first, each commit the parent of the one before: every commit is on main once.
    assert len(history) == 1 + len(made)
    assert {c.title for c in history[:-1]} == made
    assert made <= set(hub.api.list_repo_files(repo))
    # The row of the last commit to land was written last (the publish lock held across both).
    assert hub.api.repo_info(repo).sha == history[0].commit_id
    _assert_linear(hub, repo, history[0].commit_id, len(history))


def _assert_linear(hub: Hub, repo: str, head: str, count: int) -> None:
    """Walk main in the bare repo on disk: one parent per commit, `count` commits."""
    import pygit2

    found = [p for p in (hub.data_dir / "repos").glob("*/*.git") if _has(p, head)]
    assert len(found) == 1
    git = pygit2.Repository(str(found[0]))
    commit = git.revparse_single(head).peel(pygit2.Commit)
    seen = 1
    while commit.parents:
        assert len(commit.parents) == 1
        commit = commit.parents[0]
        seen += 1
    assert seen == count


def _has(path: Path, commit_id: str) -> bool:
    import pygit2

    return pygit2.Repository(str(path)).get(commit_id) is not None


def _at_once(count: int, action: Callable[[], Any]) -> list[Any]:
    """Run `action` in `count` threads started together; each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(action())
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_completions_of_one_multipart_upload_in_both_workers_store_it_once(hub: Hub) -> None:
    repo = f"admin/{unique_name('multipart')}"
    hub.api.create_repo(repo)
    data = os.urandom(16 * MiB + 5)
    auth = {"authorization": f"Bearer {hub.token}"}
    with httpx.Client(base_url=hub.url, headers=auth, timeout=120) as http:
        answer = batch(http, repo, "upload", [{"oid": sha256(data), "size": len(data)}])
        assert answer.status_code == 200, answer.text
        upload = answer.json()["objects"][0]["actions"]["upload"]
        urls = {int(k): v for k, v in upload["header"].items() if k.isdigit()}
        assert len(urls) == 17
        for number, url in urls.items():
            part = data[(number - 1) * MiB : number * MiB]
            assert httpx.put(url, content=part, timeout=60).status_code == 200
        parts = [{"partNumber": n, "etag": "x"} for n in urls]
        body = {"oid": sha256(data), "parts": parts}

        answers = _at_once(6, lambda: httpx.post(upload["href"], json=body, timeout=120))

        assert [a.status_code for a in answers] == [200] * 6, answers
        down = batch(http, repo, "download", [{"oid": sha256(data), "size": len(data)}])
        href = down.json()["objects"][0]["actions"]["download"]["href"]
        assert sha256(httpx.get(href, timeout=60).content) == sha256(data)
    stored = [p for p in (hub.data_dir / "blobs").rglob(sha256(data)) if p.is_file()]
    assert len(stored) == 1
    assert list((hub.data_dir / "blobs" / ".uploads").iterdir()) == []


def test_merges_of_one_pull_request_in_both_workers_merge_it_once(hub: Hub) -> None:
    repo = f"admin/{unique_name('merge')}"
    hub.api.create_repo(repo)
    hub.api.create_commit(repo, [CommitOperationAdd("main.txt", b"main")], commit_message="m")
    pr = hub.api.create_commit(
        repo, [CommitOperationAdd("pr.txt", b"pr")], commit_message="pr", create_pr=True
    )
    num = pr.pr_num
    assert num is not None
    before = hub.api.list_repo_commits(repo)

    answers = _at_once(6, lambda: hub.api.merge_pull_request(repo, num))

    merged = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, HfHubHTTPError)]
    assert (len(merged), len(refused)) == (1, 5), answers
    assert all("already merged" in str(exc) for exc in refused), refused
    history = hub.api.list_repo_commits(repo)
    assert len(history) == len(before) + 1  # one merge (or the fast-forwarded commit)
    assert "pr.txt" in hub.api.list_repo_files(repo)
    assert hub.api.repo_info(repo).sha == history[0].commit_id
    details = hub.api.get_discussion_details(repo, num)
    assert details.status == "merged"


def test_a_worker_that_dies_stops_the_others_and_the_command_fails(tmp_path: Path) -> None:
    args = ["--port", "0", "--data-dir", str(tmp_path / "data"), "--workers", "2"]
    with serving(args) as server:
        server.wait_until_serving(timeout=120)
        server.wait_for(r"Started server process \[\d+\](?s:.*)Started server process", 120)
        first, second = re.findall(r"Started server process \[(\d+)\]", server.stderr)
        os.kill(int(first), signal.SIGKILL)
        assert server.process.wait(timeout=120) == EXIT_SERVER
        server.wait_for(rf"Finished server process \[{second}\]")
        assert re.search(
            r"hubstead-worker-\d stopped: the other workers were stopped", server.stderr
        )
