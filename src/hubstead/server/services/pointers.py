"""The git-lfs pointers a repo's refs reach, found by walking its git trees.

fsck, gc and the LFS file listing ask the same question of a repo: which LFS objects do its files
name, and where? Pointers at the tip of a ref come first (they are what downloads of the current
files need), then those only in history. Each tree and each small blob is read once, however many
commits and refs share it, so a walk costs about the size of the repo's distinct content, not the
number of commits times the number of files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from hubstead.protocol import DEFAULT_BRANCH, may_be_lfs_pointer, parse_lfs_pointer
from hubstead.server.domain.git import EntryKind, Ref, TreeEntry
from hubstead.server.storage.git_objects import GitObjectStore


@dataclasses.dataclass(frozen=True)
class Sighting:
    """An LFS object named by a pointer file of a repo, with one place that names it.

    `ref` is the ref whose tip holds the pointer, or None when only history does.
    """

    sha256: str
    size: int
    path: str
    commit_id: str
    ref: str | None


def _ref_order(ref: Ref) -> tuple[int, str]:
    """The default branch, then other branches, tags, and the rest (`refs/pr`, `refs/convert`)."""
    if ref.name == f"refs/heads/{DEFAULT_BRANCH}":
        return 0, ref.name
    if ref.name.startswith("refs/heads/"):
        return 1, ref.name
    return (2 if ref.name.startswith("refs/tags/") else 3), ref.name


class _Walk:
    """One walk over a repo, remembering the trees and blobs already read."""

    def __init__(self, git: GitObjectStore, key: str) -> None:
        self._git = git
        self._key = key
        self._trees: set[str] = set()
        self._blobs: set[str] = set()
        self._named: set[tuple[str, int]] = set()

    def pointers(self, commit_id: str, root_tree: str, ref: str | None) -> Iterator[Sighting]:
        """The pointers of the commit's tree that no tree read before held."""
        for entry in self._small_files(commit_id, root_tree):
            if entry.oid in self._blobs:
                continue
            self._blobs.add(entry.oid)
            pointer = parse_lfs_pointer(self._git.read_blob(self._key, entry.oid))
            if pointer is not None and pointer not in self._named:
                self._named.add(pointer)
                yield Sighting(pointer[0], pointer[1], entry.path, commit_id, ref)

    def _small_files(self, commit_id: str, root_tree: str) -> Iterator[TreeEntry]:
        if root_tree in self._trees:
            return
        self._trees.add(root_tree)
        folders = [""]
        while folders:
            folder = folders.pop()
            for entry in self._git.list_tree(self._key, commit_id, folder, recursive=False):
                if entry.kind is EntryKind.DIRECTORY:
                    if entry.oid not in self._trees:
                        self._trees.add(entry.oid)
                        folders.append(entry.path)
                elif may_be_lfs_pointer(entry.size):
                    yield entry


def sightings(git: GitObjectStore, key: str, *, history: bool = True) -> Iterator[Sighting]:
    """Each object named by a pointer the repo's refs reach, once, tips first.

    Every ref counts: branches, tags, `refs/pr/*` and `refs/convert/*`. With `history` False,
    only the trees at the tips of the refs are read.
    """
    refs = sorted(git.refs(key), key=_ref_order)
    walk = _Walk(git, key)
    for ref in refs:
        yield from walk.pointers(ref.target, git.commit(key, ref.target).tree_id, ref.name)
    if not history:
        return
    commits: set[str] = set()
    for ref in refs:
        for commit in git.walk(key, ref.target):
            if commit.id not in commits:
                commits.add(commit.id)
                yield from walk.pointers(commit.id, commit.tree_id, None)
