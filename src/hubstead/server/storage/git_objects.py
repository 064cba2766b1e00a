"""`GitObjectStore`: the objects and refs of bare git repos, addressed by an opaque storage key.

`git_pygit2.Pygit2GitStore` implements it, together with the other git roles on the same repos
(`git_transport.GitTransport`, `git_fetch.GitFetcher`, `git_upkeep.GitUpkeep`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from hubstead.server.domain.git import Author, CommitRecord, Ref, TreeEdit, TreeEntry


class GitObjectStore(Protocol):
    """Bare git repositories, addressed by an opaque storage key: their objects and refs."""

    def create(self, key: str, files: dict[str, bytes], author: Author, message: str) -> str:
        """Create a repo whose `main` branch holds one commit with `files`; return its id."""

    def create_copy(self, key: str, source_key: str) -> str:
        """Create a repo holding the branches and tags of another; return the id of its `main`.

        The objects they reach are copied (the two repos share nothing afterwards); other refs
        (`refs/pr/*`, `refs/convert/*`) are not.

        Raises:
            GitUnavailableError: git is not installed.
        """

    def delete(self, key: str) -> None:
        """Remove the repo and everything in it."""

    def resolve(self, key: str, revision: str) -> str | None:
        """The commit id a branch, tag, full ref or (short) commit id names, or None.

        A commit id names a commit only when a ref reaches it: history that was squashed away
        or on a deleted branch is not found, by full id or by prefix.

        Raises:
            AmbiguousRevisionError: a short id that several reachable commits start with.
        """

    def commit(self, key: str, commit_id: str) -> CommitRecord:
        """The commit with this full id (KeyError if missing)."""

    def walk(
        self, key: str, commit_id: str, *, exclude: str | None = None
    ) -> Iterator[CommitRecord]:
        """The commits reachable from `commit_id`, newest first.

        With `exclude`, only those not reachable from that commit too (`git log exclude..id`).
        """

    def entry(self, key: str, commit_id: str, path: str) -> TreeEntry | None:
        """The file or folder at `path` in the commit's tree, or None ("" is the root)."""

    def list_tree(
        self,
        key: str,
        commit_id: str,
        path: str,
        recursive: bool,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeEntry]:
        """Entries under the folder `path` (folders before their content), sorted by path.

        `offset` and `limit` select a window of that listing; sizes are read for it only.

        Raises:
            PathNotFoundError: `path` is not a folder of the tree.
        """

    def read_blob(self, key: str, blob_id: str) -> bytes:
        """The content of a blob."""

    def last_commits(
        self, key: str, commit_id: str, paths: Sequence[str]
    ) -> dict[str, CommitRecord]:
        """For each path, the most recent commit reachable from `commit_id` that changed it."""

    def attribute(self, key: str, commit_id: str, path: str, name: str) -> str | bool | None:
        """The value of a gitattribute for `path`, as `.gitattributes` at the commit sets it."""

    def write_blob(self, key: str, data: bytes) -> str:
        """Store a blob (not yet referenced by anything) and return its id."""

    def write_blobs(self, key: str, blobs: Sequence[bytes]) -> list[str]:
        """Store blobs (not yet referenced by anything) and return their ids, in order.

        Faster than `write_blob` one by one for many small blobs (a commit of many files).
        """

    def write_commit(
        self,
        key: str,
        parent_id: str | None,
        edits: Sequence[TreeEdit],
        author: Author,
        message: str,
        *,
        tree_from: str | None = None,
    ) -> str:
        """Write a commit (not yet on any ref) and return its id.

        The tree is the parent's (or `tree_from`'s) with `edits` applied in order.

        Raises:
            PathNotFoundError: a delete names a path that does not exist.
            PathConflictError: a file would replace a folder or sit inside a file.
        """

    def refs(self, key: str) -> list[Ref]:
        """Every ref of the repo with its commit."""

    def ref_target(self, key: str, name: str) -> str | None:
        """What the ref `name` points at directly (a tag object for annotated tags), or None."""

    def valid_ref_name(self, name: str) -> bool:
        """Whether git accepts `name` as a full ref name."""

    def update_ref(self, key: str, name: str, new: str | None, expected: str | None) -> None:
        """Compare-and-swap a ref: point `name` at `new` (None deletes) if it is at `expected`.

        `expected` None means the ref must not exist yet.

        Raises:
            RefConflictError: the ref is not at `expected`, or a new ref would nest under or
                above an existing one (`refs/heads/a` and `refs/heads/a/b` cannot coexist).
        """

    def create_tag(
        self, key: str, name: str, target: str, author: Author, message: str | None
    ) -> str:
        """Create `refs/tags/name` (annotated when `message` is given); return its target.

        The target is the commit, or for an annotated tag the tag object.

        Raises:
            RefConflictError: the tag exists, or nests under or above another ref.
        """
