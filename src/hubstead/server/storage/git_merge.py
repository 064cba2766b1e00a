"""`GitMerger`: merge bases, merges and diffs of commits in the stored repos, for pull requests.

A merge only writes git objects: moving the target branch to the result is the caller's
compare-and-swap (`GitObjectStore.update_ref`), under the locks every commit takes.
`git_pygit2.Pygit2GitStore` implements it, with `git_merge_cli.py`.
"""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.git import Author, MergeResult

DIFF_MAX_BYTES = 1024 * 1024
"""The default bound on a diff's text."""


class GitMerger(Protocol):
    """Merges and diffs of commits in the stored repos, addressed by storage key."""

    def merge_base(self, key: str, a: str, b: str) -> str | None:
        """The best common ancestor of commits `a` and `b`, or None if they share no history.

        Raises:
            KeyError: `a` or `b` is not a commit of the repo.
        """

    def merge(
        self, key: str, target: str, source: str, author: Author, message: str
    ) -> MergeResult:
        """Merge commit `source` into commit `target`, moving no ref.

        Nothing to merge when `source` is `target` or in its history; a fast-forward to
        `source` when `target` is in the source's history; otherwise git's three-way merge of
        the trees: a merge commit by `author` with `message` and the parents (target, source),
        or, when some paths conflict, every path of either side (or of their merge base) that
        git could not merge, and no commit. Commits that share no history do not merge.

        Raises:
            KeyError: `target` or `source` is not a commit of the repo.
            GitUnavailableError: git is not installed.
        """

    def diff(
        self, key: str, base: str | None, head: str, *, max_bytes: int = DIFF_MAX_BYTES
    ) -> str:
        """The unified diff of what `head` changes since it left `base` (`git diff base...head`).

        It runs from the merge base of the two commits (the empty tree when they share no
        history, or when `base` is None: a root commit's diff adds every file) to `head`. A
        diff longer than `max_bytes` is cut at a line end within that bound and ends with a
        line saying it was truncated.

        Raises:
            KeyError: `base` or `head` is not a commit of the repo.
            GitUnavailableError: git is not installed.
        """
