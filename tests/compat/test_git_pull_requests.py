"""Pull requests through the real git and git-lfs: fetch `refs/pr/N`, push to it.

A pull request opened through the API (`create_pr=True`) is fetched by its ref, extended with a
commit (an LFS file included, which git-lfs uploads for `refs/pr/N`) and pushed back by its
author, or by a writer of the repo. Nobody else may push to it, nobody may create or delete a
pull request's ref by pushing, and a closed pull request takes no push.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from tests.helpers.accounts import HubUser, make_user
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.live_server import LiveServer


@pytest.fixture
def git(tmp_path: Path) -> GitUser:
    return GitUser(tmp_path / "home")


def open_pull_request(api: HfApi, repo: str) -> str:
    """Open pull request #1 on `repo` with one file; the commit it holds."""
    info = api.upload_file(
        path_or_fileobj=b"pr\n", path_in_repo="pr.txt", repo_id=repo, create_pr=True
    )
    assert info.pr_revision == "refs/pr/1"
    return info.oid


def fetch_pull_request(git: GitUser, url: str, dest: Path) -> Path:
    """A clone of the repo with pull request #1 checked out."""
    git.clone(url, dest)
    git.run("fetch", "-q", "origin", "refs/pr/1", cwd=dest)
    git.run("checkout", "-q", "-b", "pr", "FETCH_HEAD", cwd=dest)
    return dest


def pr_head(api: HfApi, repo: str) -> str | None:
    refs = api.list_repo_refs(repo, include_pull_requests=True)
    heads = {ref.ref: ref.target_commit for ref in refs.pull_requests or []}
    return heads.get("refs/pr/1")


def test_the_author_fetches_and_pushes_to_the_pull_request_with_git_lfs(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
) -> None:
    require_git_lfs()
    git.run("lfs", "install")
    opened = open_pull_request(other_user.api, repo)
    main = user.api.model_info(repo).sha
    url = repo_url(live_server.url, repo, token=other_user.token)
    dest = fetch_pull_request(git, url, tmp_path / "clone")
    assert git.head(dest) == opened
    weights = os.urandom(200_000)

    first = git.commit_file(dest, "model.safetensors", weights, "Add weights")
    second = git.commit_file(dest, "notes.txt", b"notes\n", "Add notes")
    git.run("push", "-q", "origin", "HEAD:refs/pr/1", cwd=dest)

    assert pr_head(user.api, repo) == second
    assert user.api.model_info(repo).sha == main
    [entry] = user.api.get_paths_info(repo, ["model.safetensors"], revision="refs/pr/1")
    assert entry.lfs is not None and entry.lfs.size == len(weights)  # type: ignore[union-attr]
    details = user.api.get_discussion_details(repo, 1)
    commits = [event.oid for event in details.events if event.type == "commit"]  # type: ignore[attr-defined]
    assert commits == [opened, first, second]


def test_a_writer_pushes_to_someone_elses_pull_request(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
) -> None:
    open_pull_request(other_user.api, repo)
    url = repo_url(live_server.url, repo, token=user.token)
    dest = fetch_pull_request(git, url, tmp_path / "clone")

    fix = git.commit_file(dest, "pr.txt", b"fixed\n", "Fix")
    git.run("push", "-q", "origin", "HEAD:refs/pr/1", cwd=dest)

    assert pr_head(user.api, repo) == fix


def test_another_user_cannot_push_to_the_pull_request(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
) -> None:
    opened = open_pull_request(other_user.api, repo)
    third = make_user(live_server, "third")
    dest = fetch_pull_request(
        git, repo_url(live_server.url, repo, token=third.token), tmp_path / "clone"
    )
    git.commit_file(dest, "x.txt", b"x\n", "Sneak in")

    error = git.fails("push", "origin", "HEAD:refs/pr/1", cwd=dest)
    to_main = git.fails("push", "origin", "HEAD:main", cwd=dest)

    assert "refusing to update refs/pr/1: Only the author of pull request #1" in error
    assert "[remote rejected]" in error
    assert "refusing to update refs/heads/main: Cannot write to" in to_main
    assert "you don't have the rights to write" in to_main
    assert pr_head(user.api, repo) == opened


def test_pushing_creates_and_deletes_no_pull_request_ref(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    opened = open_pull_request(user.api, repo)
    dest = fetch_pull_request(
        git, repo_url(live_server.url, repo, token=user.token), tmp_path / "clone"
    )

    created = git.fails("push", "origin", "HEAD:refs/pr/77", cwd=dest)
    deleted = git.fails("push", "origin", ":refs/pr/1", cwd=dest)

    assert "refusing to create refs/pr/77: pull request #77 does not exist" in created
    assert "refusing to delete refs/pr/1" in deleted
    refs = user.api.list_repo_refs(repo, include_pull_requests=True)
    assert [(r.ref, r.target_commit) for r in refs.pull_requests or []] == [("refs/pr/1", opened)]


def test_a_closed_pull_request_takes_no_push(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    opened = open_pull_request(user.api, repo)
    user.api.change_discussion_status(repo, 1, "closed")
    dest = fetch_pull_request(
        git, repo_url(live_server.url, repo, token=user.token), tmp_path / "clone"
    )
    git.commit_file(dest, "late.txt", b"late\n", "Too late")

    error = git.fails("push", "origin", "HEAD:refs/pr/1", cwd=dest)

    assert "refusing to update refs/pr/1: Pull request #1 is closed" in error
    assert pr_head(user.api, repo) == opened
