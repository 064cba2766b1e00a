"""Files of a revision: tree listings, paths-info and the content behind `resolve`.

A file is regular (its bytes are the git blob) or LFS (the blob is a git-lfs pointer naming a
sha256 object in the blob store); `FileInfo` reports the real size either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from hubstead.protocol import (
    LFS_POINTER_MAX_SIZE,
    lookup_path_problem,
    parse_lfs_pointer,
    path_problem,
)
from hubstead.server import errors
from hubstead.server.domain.git import CommitRecord, EntryKind, TreeEntry
from hubstead.server.services.repos import RepoHandle
from hubstead.server.storage.errors import PathNotFoundError
from hubstead.server.storage.git_objects import GitObjectStore

_SHOWN_PATH = 200


@dataclasses.dataclass(frozen=True)
class LfsInfo:
    """The LFS object a pointer file names."""

    sha256: str
    size: int
    pointer_size: int


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """A file or folder at a revision; `size` is the content's real size."""

    path: str
    kind: EntryKind
    oid: str
    size: int
    lfs: LfsInfo | None = None
    last_commit: CommitRecord | None = None


@dataclasses.dataclass(frozen=True)
class FileContent:
    """What `resolve` serves: the file's description and, for regular files, its bytes."""

    commit_id: str
    info: FileInfo
    data: bytes | None


def describe(git: GitObjectStore, key: str, entries: Sequence[TreeEntry]) -> list[FileInfo]:
    """FileInfo for tree entries, reading the small blobs that may be LFS pointers."""
    result = []
    for entry in entries:
        lfs = None
        if entry.kind is EntryKind.FILE and entry.size < LFS_POINTER_MAX_SIZE:
            pointer = parse_lfs_pointer(git.read_blob(key, entry.oid))
            if pointer is not None:
                lfs = LfsInfo(pointer[0], pointer[1], entry.size)
        size = lfs.size if lfs else entry.size
        result.append(FileInfo(entry.path, entry.kind, entry.oid, size, lfs))
    return result


def normalize_path(path: str) -> str:
    """A repo path to look up, without surrounding slashes, checked for traversal.

    Raises:
        InvalidRequestError: the path is absolute, climbs out, or enters `.git`.
    """
    return _normalize(path, lookup_path_problem)


def normalize_new_path(path: str) -> str:
    """A repo path to write, without surrounding slashes, checked with `protocol.path_problem`.

    Raises:
        InvalidRequestError: the path breaks the rule every write path applies (traversal, a
            name some file system reads as `.git`, too long or too deep).
    """
    return _normalize(path, path_problem)


def _normalize(path: str, rule: Callable[[str], str | None]) -> str:
    stripped = path.strip("/")
    if stripped == "":
        return ""
    problem = rule(stripped)
    if problem is not None or path.startswith("/"):
        message = f"Invalid path {shown_path(path)!r}: {problem or 'absolute path'}"
        raise errors.InvalidRequestError(message)
    return stripped


def shown_path(path: str) -> str:
    """`path` as an error message names it: at most 200 characters of it."""
    return path if len(path) <= _SHOWN_PATH else path[:_SHOWN_PATH] + "..."


class FileService:
    """Reads files and listings of a resolved revision."""

    def __init__(self, git: GitObjectStore) -> None:
        self._git = git

    def tree(
        self,
        handle: RepoHandle,
        path: str,
        *,
        recursive: bool,
        expand: bool,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[FileInfo]:
        """Entries under folder `path` (all descendants when recursive), in git tree order.

        `offset` and `limit` select a window of the listing; only that window is described
        (LFS pointers read) and, with `expand`, given its last commits.

        Raises:
            EntryNotFoundError: `path` is not a folder at this revision.
        """
        folder = normalize_path(path)
        key = handle.repo.storage_key
        try:
            window = self._git.list_tree(key, handle.commit_id, folder, recursive, offset, limit)
        except PathNotFoundError:
            raise errors.EntryNotFoundError(
                f"Folder {folder!r} does not exist at revision {handle.revision}",
                commit_id=handle.commit_id,
            ) from None
        infos = describe(self._git, key, window)
        return self.with_last_commits(handle, infos) if expand else infos

    def with_last_commits(self, handle: RepoHandle, infos: Sequence[FileInfo]) -> list[FileInfo]:
        """The same entries, each with the last commit that changed it."""
        last = self._git.last_commits(
            handle.repo.storage_key, handle.commit_id, [info.path for info in infos]
        )
        return [dataclasses.replace(info, last_commit=last.get(info.path)) for info in infos]

    def paths_info(
        self, handle: RepoHandle, paths: Sequence[str], *, expand: bool
    ) -> list[FileInfo]:
        """Entries for the paths that exist, in request order; missing paths are left out.

        Raises:
            InvalidRequestError: a path is malformed.
        """
        key = handle.repo.storage_key
        entries = []
        for path in dict.fromkeys(normalize_path(p) for p in paths):
            entry = self._git.entry(key, handle.commit_id, path) if path else None
            if entry is not None:
                entries.append(entry)
        infos = describe(self._git, key, entries)
        return self.with_last_commits(handle, infos) if expand else infos

    def read(self, handle: RepoHandle, path: str) -> FileContent:
        """A file for `resolve`: its description, and its bytes when it is a regular file.

        Raises:
            EntryNotFoundError: no file at `path` in this revision.
        """
        clean = normalize_path(path)
        key = handle.repo.storage_key
        entry = self._git.entry(key, handle.commit_id, clean) if clean else None
        if entry is None or entry.kind is not EntryKind.FILE:
            raise errors.EntryNotFoundError(
                f"Entry not found: {path!r} at revision {handle.revision}",
                commit_id=handle.commit_id,
            )
        data = self._git.read_blob(key, entry.oid)
        pointer = parse_lfs_pointer(data) if entry.size < LFS_POINTER_MAX_SIZE else None
        if pointer is not None:
            info = FileInfo(clean, entry.kind, entry.oid, pointer[1], LfsInfo(*pointer, entry.size))
            return FileContent(handle.commit_id, info, None)
        return FileContent(
            handle.commit_id, FileInfo(clean, entry.kind, entry.oid, entry.size), data
        )
