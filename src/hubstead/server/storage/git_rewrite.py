"""`GitRewriter`: a repo's history written again without some files (LFS objects deleted for good).

A rewrite only writes git objects: moving the refs to the rewritten commits is the caller's
compare-and-swap (`update_refs`), under the locks every commit takes. The commits the refs left
stay in the object database, unreachable (so invisible: see `git_reach`), until gc prunes them.
`git_pygit2.Pygit2GitStore` implements it, with `git_rewrite_pygit2.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from hubstead.server.domain.git import RefUpdate


class HistoryRewrite(Protocol):
    """One rewrite of a repo's history, remembering the trees and commits it already wrote."""

    def moves(self) -> list[RefUpdate]:
        """Write the refs' current history without the dropped files; the ref moves to make.

        Every commit some ref reaches (branches, tags, `refs/pr/*`, anything under `refs/`)
        whose tree holds a dropped file at any depth, or whose parent was rewritten, is written
        again: the same author, committer, dates and message, the tree without those files (a
        folder left empty goes too), the rewritten parents. Commits before the first affected
        one keep their ids, as do refs whose history holds no dropped file. An annotated tag on
        a rewritten commit is written again on the new one. Called again after refs moved, it
        only reads and writes what it has not met before.
        """


class GitRewriter(Protocol):
    """Rewrites of the stored repos' history, and the moves of their refs together."""

    def rewrite(self, key: str, drops: Callable[[bytes], bool]) -> HistoryRewrite:
        """A rewrite of the repo's history without the files `drops` picks by their content.

        `drops` is asked once per blob, and only about blobs small enough to be a git-lfs
        pointer (`protocol.may_be_lfs_pointer`): the rewrite never reads large files.
        """

    def update_refs(self, key: str, updates: Sequence[RefUpdate]) -> None:
        """Move refs together under the ref lock, if every one is at its `old` target.

        Raises:
            RefConflictError: a ref is not at its `old` target; no ref moved.
        """
