"""Git records: commits, tree entries, refs and tree edits, a push as it is checked, merges."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Iterator


class EntryKind(enum.StrEnum):
    """What a tree entry is."""

    FILE = "file"
    DIRECTORY = "directory"


@dataclasses.dataclass(frozen=True)
class TreeEntry:
    """One file or folder of a commit's tree; `size` is the git blob size (0 for folders)."""

    path: str
    kind: EntryKind
    oid: str
    size: int


@dataclasses.dataclass(frozen=True)
class CommitRecord:
    """A git commit."""

    id: str
    title: str
    message: str
    author_name: str
    author_email: str
    date: dt.datetime
    parents: tuple[str, ...]
    tree_id: str


@dataclasses.dataclass(frozen=True)
class Ref:
    """A git ref and the commit it leads to (tags peeled)."""

    name: str
    target: str


@dataclasses.dataclass(frozen=True)
class Author:
    """Who a commit is recorded as written by."""

    name: str
    email: str


@dataclasses.dataclass(frozen=True)
class TreeEdit:
    """One change to a tree: put `blob_id` at `path`, or delete it (`blob_id` None).

    Deleting a folder deletes everything under it.
    """

    path: str
    blob_id: str | None


class PackService(enum.StrEnum):
    """The git programs behind git's smart protocol, named as on the wire (`git-<value>`)."""

    UPLOAD = "upload-pack"  # clone and fetch
    RECEIVE = "receive-pack"  # push


@dataclasses.dataclass(frozen=True)
class RefUpdate:
    """One ref a push moves: `old` None creates it, `new` None deletes it."""

    name: str
    old: str | None
    new: str | None


@dataclasses.dataclass(frozen=True)
class PushedBlob:
    """A blob a push sends.

    `content` is there only for a blob small enough to be a git-lfs pointer file (under
    `protocol.LFS_POINTER_MAX_SIZE` bytes).
    """

    id: str
    size: int
    content: bytes | None


@dataclasses.dataclass(frozen=True)
class IncomingPush:
    """A push as it stands before any ref moves: its ref updates and the blobs it sends.

    `file_paths` lists, lazily, the path of every file (and submodule) in the trees of the
    commits the push sends, each tree walked once, and again only when it appears deeper or
    under a longer prefix than before; names that are not UTF-8 come as lone surrogates.
    """

    updates: tuple[RefUpdate, ...]
    blobs: tuple[PushedBlob, ...]
    file_paths: Callable[[], Iterator[str]]


# Accepts a push (None) or refuses it with a message for the pusher.
PushCheck = Callable[[IncomingPush], str | None]


@dataclasses.dataclass(frozen=True)
class PushLimits:
    """What git itself refuses or bounds while it receives a push, before any check runs."""

    max_pack_bytes: int
    """The largest pack accepted."""
    max_object_bytes: int
    """Objects larger than this are inflated piece by piece, never held whole in memory."""


@dataclasses.dataclass(frozen=True)
class PushOutcome:
    """What git answers the pusher (`output`), and the refs the push moved."""

    output: bytes
    updates: tuple[RefUpdate, ...]


class MergeOutcome(enum.StrEnum):
    """How merging a source commit into a target commit came out."""

    NOTHING_TO_MERGE = "nothing to merge"
    """The source is already in the target's history; the result is the target."""
    FAST_FORWARD = "fast-forward"
    """The target is in the source's history; the result is the source."""
    MERGED = "merged"
    """A new merge commit, with the target and the source as its parents."""
    CONFLICT = "conflict"
    """Git could not merge some paths; no commit was written."""
    UNRELATED = "unrelated"
    """The two commits share no history; no commit was written."""


@dataclasses.dataclass(frozen=True)
class MergeResult:
    """What merging a source commit into a target commit gave.

    `commit` is what the target branch moves to (the target itself when there is nothing to
    merge), None when the merge failed; `conflicts` are the paths git could not merge, sorted.
    """

    outcome: MergeOutcome
    commit: str | None
    conflicts: tuple[str, ...] = ()
