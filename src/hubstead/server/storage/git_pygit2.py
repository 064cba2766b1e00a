"""Bare git repos through pygit2 (libgit2), in every git role.

`Pygit2GitStore` is the hub's `GitObjectStore`, `GitTransport`, `GitFetcher`, `GitUpkeep`,
`GitMerger` and `GitRewriter`.
Each repo lives at `<root>/<key[:2]>/<key>.git`. Objects are written freely (unreferenced
objects are harmless); refs only move through `update_ref`/`create_tag`, a compare-and-swap done
under an exclusive `flock` on the repo's lock file, or through a push (`receive_pack`, whose git
takes the same lock once the push is checked, to move its refs), so concurrent writers in
threads or processes never lose an update. Temporary files (request bodies, push hooks) live in
`<root>/.tmp`.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import errno
import fcntl
import functools
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pygit2
from pygit2.enums import AttrCheck, FileMode, ObjectType, SortMode

from hubstead.protocol import COMMIT_ID, DEFAULT_BRANCH, LFS_POINTER_MAX_SIZE, SHORT_COMMIT_ID
from hubstead.server.domain.git import (
    Author,
    CommitRecord,
    EntryKind,
    IncomingPush,
    MergeResult,
    PackService,
    PushCheck,
    PushedBlob,
    PushLimits,
    PushOutcome,
    Ref,
    RefUpdate,
    TreeEdit,
    TreeEntry,
)
from hubstead.server.domain.upkeep import Leftover
from hubstead.server.storage import (
    git_cli,
    git_merge_cli,
    git_packs,
    git_reach,
    git_remote,
    git_rewrite_pygit2,
    git_upkeep_fs,
)
from hubstead.server.storage.errors import (
    PathConflictError,
    PathNotFoundError,
    RefConflictError,
    RemoteError,
    RemoteFailure,
)
from hubstead.server.storage.git_merge import DIFF_MAX_BYTES

_LOCK_FILE = "hubstead-refs.lock"
# What a copy of a repo holds: its branches and tags, not its pull requests or conversions.
_COPIED_REFS = ("refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
# A loose ref is a file, written as `<name>.lock` first: each component must leave room for
# the suffix within the usual 255-byte file name limit, and libgit2 caps a ref name at 1024.
_MAX_REF_COMPONENT_BYTES = 250
_MAX_REF_BYTES = 1000
# Free space under which a failed libgit2 write is taken for a full disk (plus what it wrote).
_LOW_SPACE_BYTES = 1024 * 1024


_OPEN_PER_THREAD = 32
# The smallest batch of blobs `write_blobs` packs (measured: 1,000 blobs of 1-4 KiB take a
# quarter of the time as one pack than as loose objects; a pack costs every later lookup a bit).
PACK_MIN_BLOBS = 100


class _OpenRepos(threading.local):
    """The repos a thread opened lately, most recent last.

    Opening a repo reads its config and sets up its object database (a fifth of a millisecond),
    and one request may read a repo several times. libgit2 objects must not be shared between
    threads, hence one cache per thread. A cached handle stays right: loose refs and objects are
    read from disk at each lookup, and libgit2 reloads its pack list when an object is missing
    (after a push or a repack); storage keys are never reused, so a deleted repo's handle is
    simply never asked for again.
    """

    def __init__(self) -> None:
        self.repos: collections.OrderedDict[str, pygit2.Repository] = collections.OrderedDict()


class Pygit2GitStore:
    """Bare git repos under one root directory."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._temp = root / ".tmp"
        self._temp.mkdir(parents=True, exist_ok=True)
        self._opened = _OpenRepos()

    def path(self, key: str) -> Path:
        """Where the bare repo for `key` lives."""
        if not key.isalnum():
            raise ValueError(f"invalid storage key {key!r}")
        return self._root / key[:2] / f"{key}.git"

    def _open(self, key: str) -> pygit2.Repository:
        opened = self._opened.repos
        repo = opened.get(key)
        if repo is None:
            repo = opened[key] = pygit2.Repository(str(self.path(key)))
            if len(opened) > _OPEN_PER_THREAD:
                opened.popitem(last=False)
        else:
            opened.move_to_end(key)
        return repo

    @contextlib.contextmanager
    def _ref_lock(self, key: str) -> Iterator[pygit2.Repository]:
        with open(self.path(key) / _LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self._open(key)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def create(self, key: str, files: dict[str, bytes], author: Author, message: str) -> str:
        """Create the repo with a first commit on `main`."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _space_errors(self._root):
            repo = pygit2.init_repository(str(path), bare=True, initial_head=DEFAULT_BRANCH)
        (path / _LOCK_FILE).touch()
        edits = [TreeEdit(name, str(repo.create_blob(data))) for name, data in files.items()]
        commit_id = self.write_commit(key, None, edits, author, message)
        self.update_ref(key, f"refs/heads/{DEFAULT_BRANCH}", commit_id, None)
        return commit_id

    def create_copy(self, key: str, source_key: str) -> str:
        """An empty repo, then a local `git fetch` of the source's branches and tags."""
        self.init(key)
        git_remote.fetch(self.path(key), str(self.path(source_key)), None, _COPIED_REFS)
        main = self._open(key).references.get(f"refs/heads/{DEFAULT_BRANCH}")
        assert main is not None, "every repo has a main branch"
        return str(main.target)

    def delete(self, key: str) -> None:
        """Remove the repo directory."""
        self._opened.repos.pop(key, None)
        shutil.rmtree(self.path(key), ignore_errors=True)

    def resolve(self, key: str, revision: str) -> str | None:
        """Branch first, then tag, then full refs, then full or unambiguous short commit ids."""
        if "\0" in revision:  # libgit2 would read "main\0x" as "main"
            return None
        repo = self._open(key)
        candidates = [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        if revision.startswith("refs/"):
            candidates.insert(0, revision)
        for name in candidates:
            with contextlib.suppress(pygit2.InvalidSpecError, ValueError):
                ref = repo.references.get(name)
                if ref is not None:
                    return str(ref.peel(pygit2.Commit).id)
        # Ids are looked up among the commits the refs reach, never in the whole object
        # database (not revparse either: it would also try other refs with that name).
        if COMMIT_ID.match(revision):
            # The same walk whether the object is missing or unreachable: the time taken
            # tells nothing about what the object database holds.
            reachable = git_reach.reachable_commit(repo, pygit2.Oid(hex=revision))
            return revision if reachable else None
        if SHORT_COMMIT_ID.match(revision):
            return git_reach.commit_by_prefix(repo, revision)
        return None

    def commit(self, key: str, commit_id: str) -> CommitRecord:
        """The commit record for a full id."""
        return _record(self._open(key)[commit_id].peel(pygit2.Commit))

    def walk(
        self, key: str, commit_id: str, *, exclude: str | None = None
    ) -> Iterator[CommitRecord]:
        """Newest first, in topological order."""
        repo = self._open(key)
        walker = repo.walk(pygit2.Oid(hex=commit_id), SortMode.TOPOLOGICAL | SortMode.TIME)
        if exclude is not None:
            walker.hide(pygit2.Oid(hex=exclude))
        for commit in walker:
            yield _record(commit)

    def entry(self, key: str, commit_id: str, path: str) -> TreeEntry | None:
        """The entry at `path`; the root folder for an empty path."""
        repo = self._open(key)
        tree = repo[commit_id].peel(pygit2.Tree)
        if path == "":
            return TreeEntry("", EntryKind.DIRECTORY, str(tree.id), 0)
        obj = _lookup(tree, path)
        return _entry(repo, path, obj) if obj is not None else None

    def list_tree(
        self,
        key: str,
        commit_id: str,
        path: str,
        recursive: bool,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeEntry]:
        """Children (or all descendants) of the folder at `path`, or a window of them."""
        repo = self._open(key)
        tree = repo[commit_id].peel(pygit2.Tree)
        if path:
            folder = _lookup(tree, path)
            if not isinstance(folder, pygit2.Tree):
                raise PathNotFoundError(path)
            tree = folder
        walk = _walk(tree, f"{path}/" if path else "", recursive)
        end = None if limit is None else offset + limit
        # A file's size costs a read of its object header: only the window's are read.
        return [_entry(repo, name, obj) for name, obj in itertools.islice(walk, offset, end)]

    def read_blob(self, key: str, blob_id: str) -> bytes:
        """The blob's bytes."""
        return bytes(self._open(key).odb.read(blob_id)[1])

    def last_commits(
        self, key: str, commit_id: str, paths: Sequence[str]
    ) -> dict[str, CommitRecord]:
        """One walk of history that stops when every path has its last change."""
        repo = self._open(key)
        pending = set(paths)
        found: dict[str, CommitRecord] = {}
        walker = repo.walk(pygit2.Oid(hex=commit_id), SortMode.TOPOLOGICAL | SortMode.TIME)
        for commit in walker:
            if not pending:
                break
            parent_tree = commit.parents[0].tree if commit.parents else None
            for path in list(pending):
                if _entry_id(commit.tree, path) != _entry_id(parent_tree, path):
                    found[path] = _record(commit)
                    pending.discard(path)
        return found

    def attribute(self, key: str, commit_id: str, path: str, name: str) -> str | bool | None:
        """Attributes as git computes them from `.gitattributes` files at the commit."""
        repo = self._open(key)
        flags = AttrCheck.INDEX_ONLY | AttrCheck.INCLUDE_COMMIT
        value: str | bool | None = repo.get_attr(path, name, flags=flags, commit=commit_id)
        return value

    def write_blob(self, key: str, data: bytes) -> str:
        """Write one blob into the object database."""
        with _space_errors(self._root, len(data)):
            return str(self._open(key).create_blob(data))

    def write_blobs(self, key: str, blobs: Sequence[bytes]) -> list[str]:
        """A batch of `PACK_MIN_BLOBS` or more as one pack, a smaller one as loose objects.

        Packs pile up until `git gc` (the upkeep's `collect`) repacks the repo, and libgit2
        looks for an object in every pack: a few blobs go loose instead. Blobs the repo already
        has are written again (checking each would cost as much as packing it); gc keeps one.
        """
        if len(blobs) < PACK_MIN_BLOBS:
            return [self.write_blob(key, data) for data in blobs]
        return git_packs.write_pack(self.path(key) / "objects", blobs)

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
        """Apply `edits` to the parent's tree through an in-memory index, then commit."""
        repo = self._open(key)
        index = pygit2.Index()
        base = tree_from or parent_id
        if base is not None:
            index.read_tree(repo[base].peel(pygit2.Tree))
        _apply_edits(index, edits)
        signature = pygit2.Signature(author.name, author.email)
        parents = [pygit2.Oid(hex=parent_id)] if parent_id else []
        with _space_errors(self._root):
            tree_id = index.write_tree(repo)
            return str(repo.create_commit(None, signature, signature, message, tree_id, parents))

    def refs(self, key: str) -> list[Ref]:
        """All refs under `refs/`, peeled to commits."""
        repo = self._open(key)
        result = []
        for name in repo.references:
            if not name.startswith("refs/"):
                continue
            try:
                target = repo.references[name].peel(pygit2.Commit).id
            except (pygit2.InvalidSpecError, ValueError, KeyError):
                continue
            result.append(Ref(name, str(target)))
        return sorted(result, key=lambda ref: ref.name)

    def ref_target(self, key: str, name: str) -> str | None:
        """The ref's direct target."""
        ref = self._open(key).references.get(name)
        return str(ref.target) if ref is not None else None

    def valid_ref_name(self, name: str) -> bool:
        """Git's check-ref-format rules, and what loose ref files allow on disk."""
        try:
            encoded = name.encode()
        except UnicodeEncodeError:  # lone surrogates, which JSON bodies can carry
            return False
        # libgit2 sees a C string: "a\0b" would pass its check as "a".
        if b"\0" in encoded or len(encoded) > _MAX_REF_BYTES:
            return False
        if any(len(part) > _MAX_REF_COMPONENT_BYTES for part in encoded.split(b"/")):
            return False
        return bool(pygit2.reference_is_valid_name(name))

    def update_ref(self, key: str, name: str, new: str | None, expected: str | None) -> None:
        """Compare-and-swap under the repo's ref lock."""
        with self._ref_lock(key) as repo:
            ref = repo.references.get(name)
            current = str(ref.target) if ref is not None else None
            if current != expected:
                raise RefConflictError(f"{name} is at {current}, expected {expected}")
            if new is None:
                repo.references.delete(name)
            else:
                if current is None:
                    _check_no_nesting(repo, name)
                with _space_errors(self._root):
                    repo.references.create(name, new, force=True)

    def create_tag(
        self, key: str, name: str, target: str, author: Author, message: str | None
    ) -> str:
        """Lightweight tag, or annotated when a message is given."""
        ref_name = f"refs/tags/{name}"
        with self._ref_lock(key) as repo:
            if repo.references.get(ref_name) is not None:
                raise RefConflictError(f"{ref_name} exists")
            _check_no_nesting(repo, ref_name)
            if message:
                signature = pygit2.Signature(author.name, author.email)
                return str(repo.create_tag(name, target, ObjectType.COMMIT, signature, message))
            repo.references.create(ref_name, target)
            return target

    def merge_base(self, key: str, a: str, b: str) -> str | None:
        """libgit2's best common ancestor of the two commits."""
        return git_merge_cli.merge_base(self._open(key), a, b)

    def merge(
        self, key: str, target: str, source: str, author: Author, message: str
    ) -> MergeResult:
        """`git merge-tree`'s merge of the two commits, committed when clean; no ref moves."""
        with _space_errors(self._root):
            return git_merge_cli.merge(
                self.path(key), self._open(key), target, source, author, message
            )

    def diff(
        self, key: str, base: str | None, head: str, *, max_bytes: int = DIFF_MAX_BYTES
    ) -> str:
        """`git diff` from the commits' merge base to `head`, bounded."""
        return git_merge_cli.diff(self.path(key), self._open(key), base, head, max_bytes)

    def spool(self) -> BinaryIO:
        """An anonymous temporary file under the store's root."""
        return tempfile.TemporaryFile(dir=self._temp)

    def disk_usage(self, key: str) -> int:
        """The size of every file of the bare repo (a file vanishing meanwhile counts 0)."""
        return _folder_size(str(self.path(key)))

    def leftovers(self) -> Iterator[Leftover]:
        """Quarantines and temp files of every repo, and the store's own temp dir."""
        return git_upkeep_fs.leftovers(self._root, self._temp)

    def remove_leftover(self, leftover: Leftover, written_before: float) -> bool:
        """Delete a leftover not written to since `written_before`."""
        return git_upkeep_fs.remove_leftover(self._root, leftover, written_before)

    def unreachable(self, key: str, written_before: float) -> Leftover | None:
        """Loose objects no ref reaches (`git prune --dry-run`)."""
        return git_upkeep_fs.unreachable(self._root, self.path(key), written_before)

    def collect(self, key: str, written_before: float) -> None:
        """`git gc` with a prune date, under the ref lock."""
        with self._ref_lock(key):
            git_upkeep_fs.collect(self.path(key), written_before)

    def advertise_refs(self, key: str, service: PackService, protocol: str | None) -> bytes:
        """`git {service} --advertise-refs` on the repo."""
        return git_cli.advertise_refs(self.path(key), service, protocol)

    def upload_pack(
        self, key: str, request: BinaryIO, protocol: str | None
    ) -> Generator[bytes, None, None]:
        """`git upload-pack` on the repo, streamed; a v2 request for unreachable objects fails.

        Protocol v2's upload-pack serves any object it has by id, so its `want` lines are
        checked first (v0 and v1 are checked by git itself).
        """
        path = self.path(key)
        if protocol is not None and "version=2" in protocol:
            refused = git_reach.unreachable_wants(path, self._open(key), request)
            if refused:
                return _error_packet(f"upload-pack: not our ref {refused[0]}")
        return git_cli.upload_pack(path, request, protocol)

    def receive_pack(
        self,
        key: str,
        request: BinaryIO,
        check: PushCheck,
        protocol: str | None,
        limits: PushLimits,
    ) -> PushOutcome:
        """`git receive-pack`, its hook asking `check`, then holding the ref lock if accepted."""
        path = self.path(key)
        before: dict[str, str] | None = None

        with contextlib.ExitStack() as locked:

            def decide(quarantine: Path | None, updates: list[RefUpdate]) -> str | None:
                nonlocal before
                blobs = _pushed_blobs(path, quarantine)
                paths = functools.partial(_pushed_file_paths, path, quarantine)
                refusal = check(IncomingPush(tuple(updates), blobs, paths))
                if refusal is None:
                    # git moves the refs once the hook exits: from here until git is done.
                    before = _ref_targets(locked.enter_context(self._ref_lock(key)))
                return refusal

            output = git_cli.receive_pack(
                path, request, protocol, decide, limits, temp_dir=self._temp
            )
            if before is None:  # refused, or nothing for the hook to check: no ref moved
                return PushOutcome(output, ())
            after = _ref_targets(self._open(key))
        moved = [
            RefUpdate(name, before.get(name), after.get(name))
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        ]
        return PushOutcome(output, tuple(moved))

    def init(self, key: str) -> None:
        """An empty bare repo whose HEAD names `main`."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygit2.init_repository(str(path), bare=True, initial_head=DEFAULT_BRANCH)
        (path / _LOCK_FILE).touch()

    def remote_refs(self, url: str, token: str | None) -> dict[str, str]:
        """`git ls-remote` of the remote."""
        return git_remote.remote_refs(url, token)

    def fetch(self, key: str, url: str, token: str | None, refs: Mapping[str, str]) -> None:
        """`git fetch` of the named refs, then a check that every target arrived."""
        git_remote.fetch(self.path(key), url, token, sorted(refs))
        repo = self._open(key)
        moved = sorted(name for name, target in refs.items() if target not in repo)
        if moved:
            raise RemoteError(RemoteFailure.CHANGED, f"refs moved during the fetch: {moved}")

    def rewrite(
        self, key: str, drops: Callable[[bytes], bool]
    ) -> git_rewrite_pygit2.Pygit2HistoryRewrite:
        """A rewrite on a handle of its own, its writes reported as `_space_errors` does."""
        return git_rewrite_pygit2.Pygit2HistoryRewrite(
            pygit2.Repository(str(self.path(key))),
            drops,
            functools.partial(_space_errors, self._root),
        )

    def update_refs(self, key: str, updates: Sequence[RefUpdate]) -> None:
        """Check every ref, then delete and create, all under one hold of the ref lock."""
        with self._ref_lock(key) as repo:
            for update in updates:
                ref = repo.references.get(update.name)
                current = str(ref.target) if ref is not None else None
                if current != update.old:
                    raise RefConflictError(f"{update.name} is at {current}, expected {update.old}")
            # Deletions first: a deleted `refs/heads/a` may make room for `refs/heads/a/b`.
            for update in updates:
                if update.new is None and update.old is not None:
                    repo.references.delete(update.name)
            for update in updates:
                if update.new is not None:
                    repo.references.create(update.name, update.new, force=True)


def _error_packet(message: str) -> Generator[bytes, None, None]:
    """A pkt-line `ERR` answer, which git shows its user as a remote error."""
    line = f"ERR {message}\n".encode()
    yield f"{len(line) + 4:04x}".encode() + line


@contextlib.contextmanager
def _space_errors(root: Path, writing: int = 0) -> Iterator[None]:
    """Report a libgit2 write that failed for want of space as `OSError(ENOSPC)`.

    libgit2 loses the cause of a failed object write (its message may read "no error"): the
    write is taken to have failed for want of space when the message says so, or when the file
    system has less room left than the write needed (plus `_LOW_SPACE_BYTES`).
    """
    try:
        yield
    except pygit2.GitError as exc:
        message = str(exc)
        causes = (os.strerror(errno.ENOSPC), os.strerror(errno.EDQUOT))
        usage = os.statvfs(root)
        free = usage.f_bavail * usage.f_frsize
        if any(cause in message for cause in causes) or free < writing + _LOW_SPACE_BYTES:
            raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: {message}") from exc
        raise


def _ref_targets(repo: pygit2.Repository) -> dict[str, str]:
    return {name: str(repo.references[name].target) for name in repo.references}


def _pushed_blobs(repo: Path, quarantine: Path | None) -> tuple[PushedBlob, ...]:
    """The blobs among the objects of a push, held in its quarantine directory."""
    if quarantine is None:
        return ()
    if not quarantine.resolve().is_relative_to((repo / "objects").resolve()):
        raise ValueError(f"{quarantine} is not a quarantine of {repo}")
    odb = pygit2.Odb(str(quarantine))
    found = []
    for oid in odb:
        kind, size = odb.read_header(oid)
        if kind == ObjectType.BLOB:
            content = odb.read(oid)[1] if size < LFS_POINTER_MAX_SIZE else None
            found.append(PushedBlob(str(oid), size, content))
    return tuple(found)


def _pushed_file_paths(repo: Path, quarantine: Path | None) -> Iterator[str]:
    """The file paths of the trees of the commits a push sends (see `IncomingPush`)."""
    if quarantine is None:
        return
    pushed = pygit2.Odb(str(quarantine))
    repository = pygit2.Repository(str(repo))
    # The pushed trees may hold subtrees the repo already has: read both object databases.
    repository.odb.add_disk_alternate(str(quarantine))
    seen: dict[pygit2.Oid, tuple[int, int]] = {}
    for oid in pushed:
        if pushed.read_header(oid)[0] == ObjectType.COMMIT:
            yield from _file_paths(repository[oid].peel(pygit2.Tree), seen)


def _file_paths(root: pygit2.Tree, seen: dict[pygit2.Oid, tuple[int, int]]) -> Iterator[str]:
    """Paths of the files under `root`, walked with a stack (trees may be thousands deep).

    `seen` maps a tree already walked to the deepest level and longest prefix (in bytes) it
    was met at: met again no deeper and under no longer prefix, it holds no path that could
    break a bound the first walk did not, so it is not walked again.
    """
    pending: list[tuple[pygit2.Tree, str, int, int]] = [(root, "", 0, 0)]
    while pending:
        tree, prefix, depth, prefix_bytes = pending.pop()
        before = seen.get(tree.id)
        if before is not None and before[0] >= depth and before[1] >= prefix_bytes:
            continue
        seen[tree.id] = (
            (depth, prefix_bytes)
            if before is None
            else (max(depth, before[0]), max(prefix_bytes, before[1]))
        )
        for obj in tree:
            raw = obj.raw_name or b""  # only a root tree has no name
            path = prefix + raw.decode("utf-8", errors="surrogateescape")
            if isinstance(obj, pygit2.Tree):
                pending.append((obj, path + "/", depth + 1, prefix_bytes + len(raw) + 1))
            else:
                yield path


def _check_no_nesting(repo: pygit2.Repository, name: str) -> None:
    """Refuse `name` when a ref lives at one of its folders or inside it, as git does.

    Loose refs are files, so `refs/heads/a` and `refs/heads/a/b` cannot both exist.
    """
    for existing in repo.references:
        if existing.startswith(name + "/") or name.startswith(existing + "/"):
            raise RefConflictError(f"{name} conflicts with the existing ref {existing}")


def _walk(tree: pygit2.Tree, prefix: str, recursive: bool) -> Iterator[tuple[str, pygit2.Object]]:
    """The tree's entries with their paths, each folder before its content.

    A stack of the folders being listed, not recursion: a tree stored before paths were
    bounded may be thousands of levels deep.
    """
    pending: list[tuple[str, Iterator[pygit2.Object]]] = [(prefix, iter(tree))]
    while pending:
        folder, entries = pending[-1]
        obj = next(entries, None)
        if obj is None:
            pending.pop()
            continue
        path = folder + str(obj.name)
        yield path, obj
        if recursive and isinstance(obj, pygit2.Tree):
            pending.append((path + "/", iter(obj)))


def _apply_edits(index: pygit2.Index, edits: Sequence[TreeEdit]) -> None:
    files: dict[str, FileMode] = {entry.path: FileMode(entry.mode) for entry in index}
    folders: collections.Counter[str] = collections.Counter(
        prefix for path in files for prefix in _prefixes(path)
    )

    def remove(path: str) -> None:
        del files[path]
        index.remove(path)
        folders.subtract(_prefixes(path))

    for edit in edits:
        if edit.blob_id is None:
            inside = [p for p in files if p.startswith(edit.path + "/")]
            if edit.path in files:
                remove(edit.path)
            elif inside:
                for path in inside:
                    remove(path)
            else:
                raise PathNotFoundError(edit.path)
            continue
        if folders[edit.path] > 0 or any(p in files for p in _prefixes(edit.path)):
            raise PathConflictError(edit.path)
        mode = files.get(edit.path, FileMode.BLOB)
        if edit.path not in files:
            folders.update(_prefixes(edit.path))
        files[edit.path] = mode
        index.add(pygit2.IndexEntry(edit.path, pygit2.Oid(hex=edit.blob_id), mode))


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _lookup(tree: pygit2.Tree, path: str) -> pygit2.Object | None:
    """The object at a canonical path, or None.

    libgit2 forgives what we must not: it cuts a path at a NUL and accepts `dir/`.
    """
    if "\0" in path or "" in path.split("/"):
        return None
    try:
        return tree[path]
    except (KeyError, ValueError):
        return None


def _entry_id(tree: pygit2.Tree | None, path: str) -> pygit2.Oid | None:
    obj = _lookup(tree, path) if tree is not None else None
    return obj.id if obj is not None else None


def _entry(repo: pygit2.Repository, path: str, obj: pygit2.Object) -> TreeEntry:
    if isinstance(obj, pygit2.Tree):
        return TreeEntry(path, EntryKind.DIRECTORY, str(obj.id), 0)
    _, size = repo.odb.read_header(obj.id)
    return TreeEntry(path, EntryKind.FILE, str(obj.id), size)


def _folder_size(folder: str) -> int:
    """The bytes of the regular files under `folder`, symlinks not followed.

    `os.scandir` rather than `Path.rglob`: repo info reports this on every request, and the
    directory entries already tell files from folders, so each file costs one `stat`.
    """
    total = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_dir(follow_symlinks=False):
                    total += _folder_size(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def _record(commit: pygit2.Commit) -> CommitRecord:
    title, _, body = commit.message.partition("\n")
    offset = dt.timezone(dt.timedelta(minutes=commit.commit_time_offset))
    return CommitRecord(
        id=str(commit.id),
        title=title.strip(),
        message=body.strip(),
        author_name=commit.author.name,
        author_email=commit.author.email,
        date=dt.datetime.fromtimestamp(commit.commit_time, offset),
        parents=tuple(str(p) for p in commit.parent_ids),
        tree_id=str(commit.tree_id),
    )
