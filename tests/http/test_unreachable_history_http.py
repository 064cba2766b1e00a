"""History no ref reaches any more (squashed away, on a deleted branch) cannot be read by id.

The attack: a secret is committed, then removed with `super_squash_history` or by deleting its
branch; a reader who knows (or guesses a prefix of) the old commit id asks for it on every read
path. Each must answer as for a commit that never existed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import RevisionNotFoundError

from tests.helpers.accounts import HubUser
from tests.helpers.git import GitUser, repo_url
from tests.helpers.live_server import LiveServer

SECRET = b"aws_secret_access_key = hunter2\n"


def squashed_secret(api: HfApi, repo: str) -> str:
    """Commit a secret, then squash it out of `main`; the id of the commit that held it."""
    commit = api.upload_file(path_or_fileobj=SECRET, path_in_repo="secret.txt", repo_id=repo)
    api.delete_file("secret.txt", repo_id=repo)
    api.super_squash_history(repo_id=repo)
    return commit.oid


def deleted_branch_secret(api: HfApi, repo: str) -> str:
    """Commit a secret on a branch, then delete the branch; the id of the commit."""
    api.create_branch(repo, branch="leak")
    commit = api.upload_file(
        path_or_fileobj=SECRET, path_in_repo="secret.txt", repo_id=repo, revision="leak"
    )
    api.delete_branch(repo, branch="leak")
    return commit.oid


REMOVALS = [squashed_secret, deleted_branch_secret]


def read_paths(api: HfApi, repo: str, tmp_path: Path) -> dict[str, Callable[[str], object]]:
    return {
        "repo info": lambda rev: api.model_info(repo, revision=rev),
        "tree": lambda rev: list(api.list_repo_tree(repo, revision=rev)),
        "paths-info": lambda rev: api.get_paths_info(repo, ["secret.txt"], revision=rev),
        "commits": lambda rev: api.list_repo_commits(repo, revision=rev),
        "resolve": lambda rev: hf_hub_download(
            repo,
            "secret.txt",
            revision=rev,
            cache_dir=tmp_path / "cache",
            endpoint=api.endpoint,
            token=api.token,
        ),
        "branch from it": lambda rev: api.create_branch(repo, branch="revived", revision=rev),
        "tag it": lambda rev: api.create_tag(repo, tag="revived", revision=rev),
    }


@pytest.mark.parametrize("remove", REMOVALS, ids=lambda f: f.__name__)
def test_removed_history_is_not_found_by_full_or_short_id_on_any_read_path(
    user: HubUser, repo: str, tmp_path: Path, remove: Callable[[HfApi, str], str]
) -> None:
    old = remove(user.api, repo)

    for name, read in read_paths(user.api, repo, tmp_path).items():
        for revision in (old, old[:4], old[:7], old[:12]):
            with pytest.raises(RevisionNotFoundError):
                read(revision)
                pytest.fail(f"{name} read the removed commit as {revision}")
    # What the refs reach is still found by id, full or short.
    head = user.api.model_info(repo).sha
    assert head is not None
    assert user.api.model_info(repo, revision=head[:7]).sha == head


@pytest.mark.parametrize("protocol", ["0", "2"])
def test_git_cannot_fetch_removed_history_by_id(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path, protocol: str
) -> None:
    old = squashed_secret(user.api, repo)
    git = GitUser(tmp_path / "home")
    clone = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "clone")

    error = git.fails("-c", f"protocol.version={protocol}", "fetch", "origin", old, cwd=clone)

    assert "not our ref" in error or "unadvertised object" in error
    assert git.run("cat-file", "-e", old, cwd=clone, check=False).returncode != 0
    # Fetching what the refs reach by id still works.
    head = user.api.model_info(repo).sha
    assert head is not None
    git.run("-c", f"protocol.version={protocol}", "fetch", "origin", head, cwd=clone)
