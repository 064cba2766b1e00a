"""Commit ids resolve only among the commits a repo's refs reach (`git_reach`)."""

from __future__ import annotations

import subprocess
import time

import pytest

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.git import TreeEdit
from hubstead.server.storage.errors import AmbiguousRevisionError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from tests.storage.test_git_objects import AUTHOR, MAIN, key, open_store, store

__all__ = ["key", "open_store", "store"]


def unreachable_commit(store: GitObjectStore, key: str, content: bytes) -> str:
    """A commit on top of main that no ref points at (as a lost race or a squash leaves)."""
    head = store.resolve(key, DEFAULT_BRANCH)
    edit = TreeEdit("secret.txt", store.write_blob(key, content))
    return store.write_commit(key, head, [edit], AUTHOR, "secret")


def test_an_unreachable_commit_is_not_found_by_full_or_short_id(
    store: GitObjectStore, key: str
) -> None:
    hidden = unreachable_commit(store, key, b"secret")

    for length in (4, 7, 12, 39, 40):
        assert store.resolve(key, hidden[:length]) is None


def history(store: Pygit2GitStore, key: str, commits: int, branch_every: int = 0) -> list[str]:
    """Add `commits` commits on main with `git fast-import` (a branch at every
    `branch_every`-th); their ids, oldest first. Fixed dates make the ids the same every run.
    """
    head = store.resolve(key, DEFAULT_BRANCH)
    lines = []
    for n in range(1, commits + 1):
        content = f"{n}\n"
        lines += [
            f"commit {MAIN}",
            f"mark :{n}",
            f"committer Ada <ada@example.com> {1_700_000_000 + n} +0000",
            "data 2",
            "c\n",
        ]
        if n == 1:
            lines.append(f"from {head}")
        lines += ["M 100644 inline n.txt", f"data {len(content)}", content]
        if branch_every and n % branch_every == 0:
            lines += [f"reset refs/heads/b{n}", f"from :{n}", ""]
    subprocess.run(
        ["git", "fast-import", "--quiet", "--export-marks=marks"],
        input="\n".join(lines).encode(),
        cwd=store.path(key),
        check=True,
    )
    marks = (store.path(key) / "marks").read_text().split("\n")
    return [line.split()[1] for line in marks if line]


def test_a_short_id_of_several_reachable_commits_is_ambiguous(
    store: Pygit2GitStore, key: str
) -> None:
    ids = history(store, key, 1000)
    first: dict[str, str] = {}
    twins = next((first[i[:4]], i) for i in ids if first.setdefault(i[:4], i) != i)

    with pytest.raises(AmbiguousRevisionError):
        store.resolve(key, twins[1][:4])
    for commit_id in twins:
        assert store.resolve(key, commit_id[:12]) == commit_id


def test_resolving_an_old_commit_of_a_long_history_with_many_refs_is_fast(
    store: Pygit2GitStore, key: str
) -> None:
    ids = history(store, key, 3000, branch_every=30)
    hidden = unreachable_commit(store, key, b"secret")

    started = time.perf_counter()
    assert store.resolve(key, ids[0]) == ids[0]
    assert store.resolve(key, ids[0][:10]) == ids[0]
    assert store.resolve(key, hidden) is None
    assert time.perf_counter() - started < 1.0
