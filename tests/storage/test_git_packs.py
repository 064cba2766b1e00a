"""`Pygit2GitStore.write_blobs`: a large batch goes into one pack that git itself reads.

The contract (ids, contents) is in `test_git_objects.py`; these tests check the form on disk:
one pack for a commit of many files, loose objects for a few, and a repo `git fsck` and
`git clone` accept.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pygit2
import pytest

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.git import TreeEdit
from hubstead.server.storage.git_pygit2 import PACK_MIN_BLOBS, Pygit2GitStore
from tests.helpers.git import require_git
from tests.storage.test_git_objects import AUTHOR, GITATTRIBUTES, MAIN


@pytest.fixture
def store(tmp_path: Path) -> Pygit2GitStore:
    return Pygit2GitStore(tmp_path / "repos")


@pytest.fixture
def key(store: Pygit2GitStore) -> str:
    key = uuid.uuid4().hex
    store.create(key, {".gitattributes": GITATTRIBUTES}, AUTHOR, "initial commit")
    return key


def small_files(count: int) -> dict[str, bytes]:
    """`count` text files of 0 to 49 lines (a few the same), in folders of 100."""
    return {f"part-{n // 100}/file-{n}.txt": b"line %d\n" % n * (n % 50) for n in range(count)}


def commit_files(store: Pygit2GitStore, key: str, files: dict[str, bytes]) -> str:
    """Write the files with one `write_blobs` and commit them on main."""
    ids = store.write_blobs(key, list(files.values()))
    head = store.resolve(key, DEFAULT_BRANCH)
    edits = [TreeEdit(path, blob_id) for path, blob_id in zip(files, ids, strict=True)]
    commit_id = store.write_commit(key, head, edits, AUTHOR, "many files")
    store.update_ref(key, MAIN, commit_id, head)
    return commit_id


def loose_objects(repo: Path) -> list[Path]:
    return [p for p in (repo / "objects").glob("??/*")]


def packs(repo: Path) -> list[Path]:
    return sorted((repo / "objects" / "pack").glob("*.pack"))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def test_a_large_batch_is_one_pack_that_git_and_libgit2_read(
    store: Pygit2GitStore, key: str
) -> None:
    require_git()
    repo = store.path(key)
    loose_before = len(loose_objects(repo))
    files = small_files(1000)

    commit_files(store, key, files)

    assert len(packs(repo)) == 1
    # Only the new trees and the commit went loose: 10 folders, the root, the commit.
    assert len(loose_objects(repo)) == loose_before + 12
    git(repo, "fsck", "--full", "--strict", "--no-dangling")
    listed = git(repo, "verify-pack", "-v", str(packs(repo)[0].with_suffix(".idx")))
    assert f"non delta: {len(set(files.values()))} objects" in listed
    blob = pygit2.Repository(str(repo)).revparse_single(f"{DEFAULT_BRANCH}:part-9/file-999.txt")
    assert isinstance(blob, pygit2.Blob)
    assert blob.data == files["part-9/file-999.txt"]
    shown = git(repo, "show", f"{DEFAULT_BRANCH}:part-3/file-345.txt")
    assert shown.encode() == files["part-3/file-345.txt"]


def test_a_small_batch_stays_loose(store: Pygit2GitStore, key: str) -> None:
    repo = store.path(key)
    files = small_files(PACK_MIN_BLOBS - 1)

    commit_files(store, key, files)

    assert packs(repo) == []
    assert len(loose_objects(repo)) >= len(set(files.values()))


def test_git_clones_a_repo_of_packed_commits(
    store: Pygit2GitStore, key: str, tmp_path: Path
) -> None:
    require_git()
    first, second = small_files(300), {f"more/{n}.txt": b"%d\n" % n for n in range(200)}
    commit_files(store, key, first)
    commit_files(store, key, second)
    assert len(packs(store.path(key))) == 2

    git(tmp_path, "clone", "--quiet", str(store.path(key)), "clone")

    clone = tmp_path / "clone"
    assert (clone / "part-2" / "file-299.txt").read_bytes() == first["part-2/file-299.txt"]
    assert (clone / "more" / "199.txt").read_bytes() == b"199\n"
    assert git(clone, "rev-list", "--count", "HEAD").strip() == "3"
