"""Several client processes commit to one branch at once; none of their commits is lost.

Under `--profile=production` the commits land on two server processes sharing PostgreSQL and
the data dir, so the branch's ref moves are serialised across processes, not only threads.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.accounts import HubUser
from tests.helpers.committers import commit_from_processes
from tests.helpers.git import GitUser, repo_url
from tests.helpers.live_server import LiveServer


def test_commits_from_several_client_processes_to_one_branch_are_all_in_its_history(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    made = commit_from_processes(
        live_server.url, user.token, repo, processes=3, threads=2, commits=4
    )

    history = user.api.list_repo_commits(repo)
    assert len(history) == 1 + len(made)  # and the repo's initial commit
    assert {commit.title for commit in history[:-1]} == made
    assert made <= set(user.api.list_repo_files(repo))
    assert user.api.model_info(repo).sha == history[0].commit_id
    # git sees the same branch: one line of commits, each the parent of the next.
    git = GitUser(tmp_path / "home")
    checkout = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "clone")
    first_parents = git.run("rev-list", "--first-parent", "HEAD", cwd=checkout).stdout.split()
    assert first_parents == [commit.commit_id for commit in history]
    assert git.run("rev-list", "--merges", "HEAD", cwd=checkout).stdout == ""
