"""A git push obeys the commit API's path rule (issue 9, D14 and D5).

Trees are built with git's plumbing (`hash-object`, `mktree`, `commit-tree`), as an attacker
would, since a checkout on Linux cannot hold every name that a Windows or macOS clone reads as
`.git`. A refused push names the path and moves no ref.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hubstead.protocol import MAX_PATH_COMPONENT_BYTES, MAX_PATH_DEPTH
from tests.helpers.accounts import HubUser
from tests.helpers.git import GitUser, repo_url
from tests.helpers.live_server import LiveServer


def commit_with(git: GitUser, checkout: Path, path: str, base: str = "HEAD") -> str:
    """A commit on top of `base` whose tree is `base`'s plus one file at `path`."""
    names = path.split("/")
    blob = git.run("hash-object", "-w", "--stdin", cwd=checkout, input="x\n").stdout.strip()
    entry = f"100644 blob {blob}\t{names[-1]}\n"
    for name in reversed(names[:-1]):
        tree = git.run("mktree", cwd=checkout, input=entry).stdout.strip()
        entry = f"040000 tree {tree}\t{name}\n"
    listing = git.run("ls-tree", base, cwd=checkout).stdout
    root = git.run("mktree", cwd=checkout, input=listing + entry).stdout.strip()
    message = ["-m", "plumbing"]
    return git.run("commit-tree", root, "-p", base, *message, cwd=checkout).stdout.strip()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        # git's own fsck (receive.fsckObjects) already refuses names read as `.git`.
        (".GIT/config", "hasDotgit"),
        ("git~1/config", "hasDotgit"),
        (".git\u200c/config", "hasDotgit"),
        ("n" * (MAX_PATH_COMPONENT_BYTES + 1), f"longer than {MAX_PATH_COMPONENT_BYTES} bytes"),
        ("/".join(["d"] * MAX_PATH_DEPTH) + "/f", f"more than {MAX_PATH_DEPTH} levels deep"),
        ("a\\b", "backslash"),
    ],
    ids=lambda p: repr(p[:16]),
)
def test_a_push_of_a_path_the_commit_api_refuses_is_refused(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path, path: str, message: str
) -> None:
    git = GitUser(tmp_path / "home")
    checkout = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "c")
    before = git.head(checkout)
    commit = commit_with(git, checkout, path)

    error = git.fails("push", "origin", f"{commit}:refs/heads/main", cwd=checkout)

    assert message in error
    assert git.run("ls-remote", "origin", "main", cwd=checkout).stdout.split()[0] == before


def test_a_push_may_reuse_a_stored_tree_only_where_it_stays_within_the_depth(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    git = GitUser(tmp_path / "home")
    checkout = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "c")
    shallow = "/".join(["d"] * (MAX_PATH_DEPTH - 1)) + "/f"
    accepted = commit_with(git, checkout, shallow)
    git.run("push", "origin", f"{accepted}:refs/heads/main", cwd=checkout)
    # The same 64-level tree, already on the hub, one level further down: only a new tree
    # on top is pushed, and the whole path is now too deep.
    stored = git.run("rev-parse", f"{accepted}^{{tree}}:d", cwd=checkout).stdout.strip()
    wrapper = git.run("mktree", cwd=checkout, input=f"040000 tree {stored}\tw\n").stdout.strip()
    listing = git.run("ls-tree", accepted, cwd=checkout).stdout
    root = git.run("mktree", cwd=checkout, input=listing + f"040000 tree {wrapper}\tx\n")
    deeper = git.run(
        "commit-tree", root.stdout.strip(), "-p", accepted, "-m", "deeper", cwd=checkout
    ).stdout.strip()

    error = git.fails("push", "origin", f"{deeper}:refs/heads/main", cwd=checkout)

    assert f"more than {MAX_PATH_DEPTH} levels deep" in error
    assert git.run("ls-remote", "origin", "main", cwd=checkout).stdout.split()[0] == accepted
