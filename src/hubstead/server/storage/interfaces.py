"""Storage layer: the Protocols the services depend on, their records and their errors.

Implementations are named after their backend (`git_pygit2.Pygit2GitStore`,
`metadata_sql.SqlMetadataStore`) and built only in `server/app.py`. Storage raises only the narrow
errors declared here, or builtins; services translate them into domain errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol

# --- errors -------------------------------------------------------------------------------------


class StorageError(Exception):
    """Base of the errors storage raises on purpose."""


class RefConflictError(StorageError):
    """A compare-and-swap on a ref found another target than the one expected."""


class PathNotFoundError(StorageError):
    """A tree edit names a path that does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PathConflictError(StorageError):
    """A tree edit would put a file where a folder is, or inside a file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class AlreadyExistsError(StorageError):
    """A row with the same unique key exists."""


class NamespaceNotEmptyError(StorageError):
    """An account cannot be deleted while repos live in its namespace (`repos`: their ids)."""

    def __init__(self, repos: Sequence[str]) -> None:
        super().__init__(", ".join(repos))
        self.repos = tuple(repos)


class AmbiguousRevisionError(StorageError):
    """A short commit id that more than one commit of the repo starts with."""


class BlobNotFoundError(StorageError):
    """No stored object (or upload part) by that name."""


class BlobMismatchError(StorageError):
    """Bytes that are not the object they were announced as (size or sha256)."""


class GitUnavailableError(StorageError):
    """The git binary that serves git's smart protocol is not installed."""


class RemoteFailure(enum.StrEnum):
    """Why talking to a remote git repo failed."""

    UNREACHABLE = "unreachable"  # no connection, a timeout, a server error, a cut transfer
    NOT_FOUND = "not found"
    DENIED = "denied"  # the credentials were refused, or lack access
    CHANGED = "changed"  # a ref moved between listing the refs and fetching them


class RemoteError(StorageError):
    """A fetch from (or listing of) a remote git repo failed; `failure` says how."""

    def __init__(self, failure: RemoteFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


# --- git records --------------------------------------------------------------------------------


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


class GitStore(Protocol):
    """Bare git repositories, addressed by an opaque storage key."""

    def create(self, key: str, files: dict[str, bytes], author: Author, message: str) -> str:
        """Create a repo whose `main` branch holds one commit with `files`; return its id."""

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

    def walk(self, key: str, commit_id: str) -> Iterator[CommitRecord]:
        """The commits reachable from `commit_id`, newest first."""

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
    ) -> None:
        """Create `refs/tags/name` (annotated when `message` is given).

        Raises:
            RefConflictError: the tag exists, or nests under or above another ref.
        """

    def spool(self) -> BinaryIO:
        """A new anonymous temporary file, on the store's disk, for a request body."""

    def disk_usage(self, key: str) -> int:
        """The bytes the repo's git data takes on disk (objects, packs and refs)."""

    def leftovers(self) -> Iterator[Leftover]:
        """Push quarantines and temporary files, in every repo and in the store's temp dir."""

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Delete a leftover unless it was written to since `written_before`; whether it was."""

    def unreachable(self, key: str, written_before: float) -> Leftover | None:
        """The repo's loose objects no ref reaches, written before `written_before` (or None)."""

    def collect(self, key: str, written_before: float) -> None:
        """Drop what no ref reaches (unless written since `written_before`), and repack.

        Holds the repo's ref lock, so no ref moves (and no push runs) meanwhile.
        """

    def advertise_refs(self, key: str, service: PackService, protocol: str | None) -> bytes:
        """The smart protocol's ref (or, for protocol v2, capability) advertisement.

        `protocol` is what the client sent as `Git-Protocol` (`version=2`), or None.

        Raises:
            GitUnavailableError: git is not installed.
        """

    def upload_pack(
        self, key: str, request: BinaryIO, protocol: str | None
    ) -> Generator[bytes, None, None]:
        """Answer a fetch request read from `request`: git's answer, streamed in chunks.

        Closing the generator stops git.

        Raises:
            GitUnavailableError: git is not installed (raised at once, not when iterating).
        """

    def receive_pack(
        self,
        key: str,
        request: BinaryIO,
        check: PushCheck,
        protocol: str | None,
        limits: PushLimits,
    ) -> PushOutcome:
        """Apply the push read from `request`, if `check` accepts it, within `limits`.

        `check` sees the push after its objects arrived and before any ref moves; when it
        refuses (or fails), no ref moves and the pusher is shown its message. The ref lock is
        taken only when `check` has accepted, and held until git has moved the refs: the pack
        is received and indexed without it.

        Raises:
            GitUnavailableError: git is not installed.
        """

    def init(self, key: str) -> None:
        """Create an empty repo, without any ref (a mirror, filled by `fetch`)."""

    def remote_refs(self, url: str, token: str | None) -> dict[str, str]:
        """The refs a remote repo (git smart HTTP) advertises, each with its direct target.

        An annotated tag maps to its tag object. `token` is sent as the password.

        Raises:
            RemoteError: the remote cannot be reached, does not exist or refuses access.
            GitUnavailableError: git is not installed.
        """

    def fetch(self, key: str, url: str, token: str | None, refs: Mapping[str, str]) -> None:
        """Fetch the objects behind `refs` (name to target, from `remote_refs`); move no ref.

        Raises:
            RemoteError: as for `remote_refs`; CHANGED when a ref no longer has its target.
            GitUnavailableError: git is not installed.
        """

    def update_refs(self, key: str, updates: Sequence[RefUpdate]) -> None:
        """Move refs together under the ref lock, if every one is at its `old` target.

        Each update creates (`old` None), moves, or deletes (`new` None) a ref.

        Raises:
            RefConflictError: a ref is not at its `old` target; no ref moved.
        """


# --- blobs --------------------------------------------------------------------------------------


class BlobWriter(Protocol):
    """An object being written: nothing is visible until `commit` succeeds."""

    def write(self, chunk: bytes) -> None:
        """Append bytes (BlobMismatchError past the announced size)."""

    def commit(self) -> str:
        """Verify the bytes, make them visible, return their sha256 (BlobMismatchError if wrong).

        A part writer returns the part's ETag instead (see `BlobStore.part_writer`).
        """

    def abort(self) -> None:
        """Drop what was written."""


@dataclasses.dataclass(frozen=True)
class BlobStat:
    """A stored object's size and when its bytes were last written (seconds since the epoch)."""

    size: int
    modified_at: float


class LeftoverKind(enum.StrEnum):
    """What a write, an upload or a push can leave behind in the blob store or the git repos."""

    TEMP = "temp"  # a temporary file of a write that never finished (or is still running)
    UPLOAD = "upload"  # the parts of a multipart upload that was never completed
    GIT_QUARANTINE = "git-quarantine"  # the objects of a push that never finished
    GIT_TEMP = "git-temp"  # a temporary file of git (a repack) or of a push's work dir
    GIT_UNREACHABLE = "git-unreachable"  # loose objects no ref reaches (aborted commits, ...)


@dataclasses.dataclass(frozen=True)
class Leftover:
    """A temporary file or an unfinished multipart upload; `modified_at` is its newest write."""

    kind: LeftoverKind
    name: str
    size: int
    modified_at: float


class BlobStore(Protocol):
    """Content-addressed storage of LFS objects, keyed by their sha256 (lowercase hex).

    Writes stream to a temporary file while hashing and become visible only once verified.
    Multipart uploads keep their parts until `complete_multipart` assembles them.
    """

    def size(self, sha256: str) -> int | None:
        """The stored object's size, or None when it is not stored."""

    def local_path(self, sha256: str) -> Path | None:
        """A local file holding the object (for zero-copy serving), or None when not local."""

    def relative_path(self, sha256: str) -> str:
        """The object's `/`-separated path under the store's root (stored or not).

        A front web server that serves the root directory finds the object there (the
        `X-Accel-Redirect` download offload).
        """

    def open(self, sha256: str) -> BinaryIO:
        """The object's bytes (BlobNotFoundError when missing)."""

    def writer(self, sha256: str, size: int) -> BlobWriter:
        """Start writing an object."""

    def delete(self, sha256: str) -> bool:
        """Remove an object; whether it was there."""

    def digests(self) -> Iterator[str]:
        """Every stored object's sha256."""

    def rehash(self, sha256: str) -> str:
        """The sha256 of the stored bytes, computed again (BlobNotFoundError when missing)."""

    def part_writer(self, upload_id: str, number: int, offset: int, size: int) -> BlobWriter:
        """Start writing (or replacing) part `number`: exactly `size` bytes at `offset`.

        The writer's `commit` returns an ETag for the part (not a digest: parts are not hashed,
        the assembled object is).
        """

    def parts(self, upload_id: str) -> dict[int, int]:
        """The parts received so far: part number to size."""

    def complete_multipart(self, upload_id: str, sha256: str, size: int, count: int) -> None:
        """Assemble parts 1..count into the object and verify it.

        Raises:
            BlobNotFoundError: a part is missing.
            BlobMismatchError: the assembled bytes are not the announced object.
        """

    def abort_multipart(self, upload_id: str) -> None:
        """Forget an upload and its parts."""

    def stat(self, sha256: str) -> BlobStat | None:
        """The stored object's size and write time, or None when it is not stored."""

    def delete_unless(self, sha256: str, keep: Callable[[BlobStat], bool]) -> bool:
        """Delete the object unless `keep`, asked once no reader can reach it, says to keep it.

        Returns whether it was deleted. A writer storing the same object concurrently either
        puts a new file in place (which stays) or is seen by `keep` (the old one is put back).
        """

    def leftovers(self) -> Iterator[Leftover]:
        """Temporary files and unfinished multipart uploads."""

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Remove it unless it was written to at or after `written_before`; whether it was."""


@dataclasses.dataclass(frozen=True)
class LfsObjectRecord:
    """An LFS object a repo may reference: uploaded or verified for that repo."""

    repo_id: int
    sha256: str
    size: int
    created_at: dt.datetime


class LfsIndex(Protocol):
    """Which repos may reference which LFS objects (the access and garbage-collection index)."""

    def link(self, repo_id: int, sha256: str, size: int) -> None:
        """Record that the repo may reference the object, whose bytes were verified for it.

        Idempotent; a link of another size (left by an older version) takes this size.
        """

    def linked_size(self, repo_id: int, sha256: str) -> int | None:
        """The object's size if the repo may reference it, else None."""

    def list(self, repo_id: int, offset: int, limit: int) -> list[LfsObjectRecord]:
        """One page of a repo's objects, newest first."""

    def unlink(self, repo_id: int, digests: Sequence[str]) -> int:
        """Forget objects for a repo; how many links were removed."""

    def unlink_if(self, repo_id: int, sha256: str, size: int) -> bool:
        """Delete the link if it still names `size` (a concurrent fix wins); whether it did."""

    def linked_digests(self) -> set[str]:
        """Every object some repo may reference."""

    def usage(self, repo_ids: Collection[int]) -> dict[int, int]:
        """Total size of each repo's objects, in bytes (0 for a repo without any), in one query."""

    def is_linked(self, sha256: str) -> bool:
        """Whether some repo may reference the object."""

    def records(self) -> Iterator[LfsObjectRecord]:
        """Every link of every repo, by object then repo (read in pages, for fsck)."""


# --- metadata records ---------------------------------------------------------------------------


class AccountKind(enum.StrEnum):
    """Users and organizations share one namespace."""

    USER = "user"
    ORG = "org"


class Role(enum.StrEnum):
    """A member's role in an organization, or a token's role; ordered by power."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Whether this role includes `needed`."""
        order = [Role.READ, Role.WRITE, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclasses.dataclass(frozen=True)
class Account:
    """A user or an organization."""

    id: int
    name: str
    kind: AccountKind
    fullname: str
    email: str | None
    is_admin: bool
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Membership:
    """A user's role in an organization."""

    org: Account
    user: Account
    role: Role


@dataclasses.dataclass(frozen=True)
class TokenRecord:
    """An access token as stored: only its hash, never the token itself."""

    id: int
    user_id: int
    name: str
    role: Role
    token_hash: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class RepoRecord:
    """A repo's row: identity, settings and what was derived from its default branch."""

    id: int
    type: str
    namespace: str
    name: str
    storage_key: str
    private: bool
    gated: str | None
    discussions_disabled: bool
    created_at: dt.datetime
    last_modified: dt.datetime
    head: str | None
    card_data: dict[str, object] | None
    library_name: str | None
    pipeline_tag: str | None
    sdk: str | None
    tags: tuple[str, ...]
    downloads: int
    likes: int

    @property
    def repo_id(self) -> str:
        """`namespace/name`."""
        return f"{self.namespace}/{self.name}"


@dataclasses.dataclass(frozen=True)
class RepoLookup:
    """What one repo id names, read by the same statements whatever they find.

    `repo` has the id, `moved` had it before a move, `owned` says an account has the namespace.
    """

    repo: RepoRecord | None
    moved: RepoRecord | None
    owned: bool


@dataclasses.dataclass(frozen=True)
class RepoQuery:
    """What a repo listing asks for; `visible_to` limits private repos to those namespaces."""

    type: str
    search: Sequence[str] = ()
    author: str | None = None
    tags: Sequence[str] = ()
    gated: bool | None = None
    pipeline_tag: str | None = None
    sort: str = "created_at"
    descending: bool = True
    offset: int = 0
    limit: int = 1000
    visible_namespaces: Sequence[str] | None = None


class MetadataStore(Protocol):
    """Everything that is not file content: accounts, tokens, repo rows."""

    def count_accounts(self) -> int:
        """How many users and organizations exist."""

    def create_account(
        self, name: str, kind: AccountKind, fullname: str, email: str | None, is_admin: bool
    ) -> Account:
        """Create a user or organization (AlreadyExistsError if the name is taken)."""

    def get_account(self, name: str) -> Account | None:
        """The account with this name (case-insensitive), or None."""

    def get_account_by_id(self, account_id: int) -> Account | None:
        """The account with this id, or None."""

    def list_accounts(self, kind: AccountKind | None = None) -> list[Account]:
        """Accounts sorted by name."""

    def delete_account(self, account_id: int, *, with_repos: bool) -> list[RepoRecord]:
        """Delete an account with everything that names it, in one transaction.

        Memberships, tokens and redirects from old ids in its namespace go with it. The repos of
        its namespace go too when `with_repos` (the deleted rows are returned, for their git
        data to be removed); otherwise their presence refuses the deletion
        (`NamespaceNotEmptyError`), so that no repo outlives its owner.
        """

    def namespace_repos(self, namespace: str) -> list[RepoRecord]:
        """Every repo (of every type) in a namespace, by type and id."""

    def set_membership(self, org_id: int, user_id: int, role: Role) -> None:
        """Add a user to an organization, or change their role."""

    def remove_membership(self, org_id: int, user_id: int) -> bool:
        """Remove a user from an organization; whether they were a member."""

    def memberships_of(self, user_id: int) -> list[Membership]:
        """The organizations a user belongs to."""

    def members_of(self, org_id: int) -> list[Membership]:
        """The members of an organization."""

    def add_token(self, user_id: int, name: str, role: Role, token_hash: str) -> TokenRecord:
        """Store a new token hash."""

    def find_token(self, token_hash: str) -> tuple[TokenRecord, Account] | None:
        """The token with this hash and its user, or None."""

    def list_tokens(self, user_id: int) -> list[TokenRecord]:
        """A user's tokens, oldest first."""

    def delete_token(self, user_id: int, name: str) -> int:
        """Delete a user's tokens by name; how many were deleted."""

    def create_repo(
        self,
        type: str,
        namespace: str,
        name: str,
        storage_key: str,
        private: bool,
        sdk: str | None = None,
    ) -> RepoRecord:
        """Insert a repo row (AlreadyExistsError if the id is taken)."""

    def get_repo(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo with this id (case-insensitive), or None."""

    def get_repo_by_key(self, key: int) -> RepoRecord | None:
        """The repo whose row id is `key` (stable across moves), or None."""

    def get_redirect(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo that used to have this id before a move, or None."""

    def find_repo(self, type: str, namespace: str, name: str) -> RepoLookup:
        """The repo with this id, the one it redirects to, and whether the namespace is owned.

        The same statements run whether the repo exists or not, so that how long the answer
        takes does not tell one from the other.
        """

    def update_repo(self, repo_id: int, **values: object) -> RepoRecord:
        """Change columns of a repo row; `tags` replaces the repo's tags."""

    def move_repo(self, repo_id: int, namespace: str, name: str) -> RepoRecord:
        """Rename a repo, keeping a redirect from its old id (AlreadyExistsError if taken)."""

    def delete_repo(self, repo_id: int) -> None:
        """Delete a repo row, its tags and redirects."""

    def list_repos(self, query: RepoQuery) -> list[RepoRecord]:
        """One page of repos matching `query`."""


# --- jobs ---------------------------------------------------------------------------------------


class JobState(enum.StrEnum):
    """Where a job is in its life: queued → running → succeeded, failed or cancelled.

    A running job whose attempt fails with a retryable error goes back to queued, with a later
    `next_run_at`.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job will never run again."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclasses.dataclass(frozen=True)
class JobProgress:
    """How far a job got; totals are None while unknown."""

    files_done: int = 0
    files_total: int | None = None
    bytes_done: int = 0
    bytes_total: int | None = None


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One job: what to run (`kind`, `payload`), its state, and what its attempts did.

    `key` is the dedupe key given at enqueue time; `log_tail` holds the last lines logged, oldest
    first; `error` is why the last attempt failed. `started_at` is when the current (or last)
    attempt started; `next_run_at` when a queued job becomes due.
    """

    id: int
    kind: str
    key: str | None
    payload: dict[str, object]
    state: JobState
    attempts: int
    max_attempts: int
    progress: JobProgress
    error: str | None
    log_tail: tuple[str, ...]
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    next_run_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class NewJob:
    """A job to insert, queued and due at `next_run_at`."""

    kind: str
    key: str | None
    payload: dict[str, object]
    max_attempts: int
    created_at: dt.datetime
    next_run_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class JobOutcome:
    """How an attempt ended: a finished state, or QUEUED again (a retry due at `next_run_at`)."""

    state: JobState
    error: str | None = None
    next_run_at: dt.datetime | None = None


class JobStore(Protocol):
    """Job rows, claimed by workers under a lease (`owner` and `locked_until`).

    Every method is one transaction. A claim is exclusive across threads and processes: two
    workers never hold the same job, and a job whose lease ran out may be claimed again.
    """

    def add(self, job: NewJob) -> JobRecord:
        """Insert a queued job (AlreadyExistsError if a queued or running job holds its key)."""

    def get(self, job_id: int) -> JobRecord | None:
        """The job, or None."""

    def find_active(self, key: str) -> JobRecord | None:
        """The queued or running job holding `key`, or None."""

    def list(
        self, states: Sequence[JobState], kind: str | None, offset: int, limit: int
    ) -> list[JobRecord]:
        """One page of jobs in any of `states` (all when empty), newest first."""

    def end_abandoned(self, now: dt.datetime, error: str) -> int:
        """End running jobs whose lease expired and that may not run again; how many ended.

        Those asked to stop become cancelled; those without attempts left fail with `error`.
        """

    def claim(
        self, owner: str, now: dt.datetime, locked_until: dt.datetime, job_id: int | None = None
    ) -> JobRecord | None:
        """Take the first due job, or job `job_id` if it is due; None when none is.

        Due means queued with `next_run_at <= now`, or running with an expired lease. The job
        becomes running under `owner` until `locked_until`, and its attempts count up.
        """

    def renew(
        self,
        job_id: int,
        owner: str,
        locked_until: dt.datetime | None,
        progress: JobProgress | None,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Extend the lease, record progress and append log lines, if `owner` holds the job.

        Only the last `log_limit` lines are kept. None when `owner` no longer holds the job.
        """

    def finish(
        self,
        job_id: int,
        owner: str,
        outcome: JobOutcome,
        now: dt.datetime,
        log_lines: Sequence[str],
        log_limit: int,
    ) -> JobRecord | None:
        """Record how the attempt ended and release the lease, if `owner` still holds the job.

        None when it does not. The job's key is released unless the outcome queues it again; a
        job asked to stop is cancelled instead of queued again.
        """

    def request_cancel(self, job_id: int, now: dt.datetime) -> JobRecord | None:
        """Cancel a queued job at once, or flag a running one to stop; None if there is no job.

        A finished job is returned unchanged.
        """

    def next_due(self) -> dt.datetime | None:
        """When the earliest queued job becomes due (or the earliest lease expires)."""


# --- mirrors ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MirrorRecord:
    """A repo mirrored from an upstream hub, and how it is kept in sync.

    `repo_id` is the local repo's row (`repo_type` and `local_id` come from it). Empty
    `revisions` tracks every branch and tag; `include`/`exclude` are glob patterns limiting which
    LFS files a sync fetches. An `on_demand` mirror (pull-through) fetches LFS files when they
    are first downloaded, not when it syncs.
    """

    repo_id: int
    repo_type: str
    local_id: str
    upstream: str
    upstream_repo_id: str
    upstream_token: str | None
    revisions: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    schedule_seconds: int | None
    on_demand: bool
    created_at: dt.datetime
    synced_at: dt.datetime | None
    sync_error: str | None
    next_sync_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class NewMirror:
    """A mirror to record for an existing repo row."""

    repo_id: int
    upstream: str
    upstream_repo_id: str
    upstream_token: str | None
    revisions: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    schedule_seconds: int | None = None
    on_demand: bool = False
    next_sync_at: dt.datetime | None = None


class MirrorStore(Protocol):
    """The mirror configuration of mirrored repos (one per repo)."""

    def add(self, mirror: NewMirror) -> MirrorRecord:
        """Record a mirror (AlreadyExistsError if the repo is already one)."""

    def get(self, repo_id: int) -> MirrorRecord | None:
        """The mirror of the repo with this row id, or None."""

    def list_all(self) -> list[MirrorRecord]:
        """Every mirror, by repo type and id."""

    def update(self, repo_id: int, **values: object) -> MirrorRecord | None:
        """Change columns of a mirror; None if the repo is not a mirror."""

    def remove(self, repo_id: int) -> bool:
        """Forget a mirror (the repo stays); whether it was one."""


class HeldLock(Protocol):
    """A lock taken by `FetchArea.try_lock`, released by whoever holds it (any thread)."""

    def release(self) -> None:
        """Let the next holder in."""


class FetchArea(Protocol):
    """Locks shared by every process on the data dir, and objects being fetched from upstream.

    A pull-through download writes the object it fetches to a spool file as the bytes arrive, so
    readers in any process can follow it before it is verified and stored. A spool is named by
    its fetch (`name`, as a lock name), so fetches of one object for two repos never mix.
    """

    def try_lock(self, name: str) -> HeldLock | None:
        """Take the lock `name` if nobody holds it, without waiting."""

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock `name` for a block, waiting for it."""

    def locked(self, name: str) -> bool:
        """Whether someone (this process included) holds the lock `name`."""

    def spool(self, name: str) -> BinaryIO:
        """A new, empty spool file for the fetch `name`, open for writing."""

    def read_spool(self, name: str, offset: int, limit: int) -> bytes:
        """Up to `limit` bytes of the spool file `name` from `offset` (none if there is none)."""

    def drop_spool(self, name: str) -> None:
        """Remove the spool file `name`, if any."""
