"""Files of a revision: tree listings and paths-info, and the rules for the paths that name them.

A file is regular (its bytes are the git blob) or LFS (the blob is a git-lfs pointer naming a
sha256 object in the blob store); `FileInfo` reports the real size either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from hubstead.protocol import (
    RepoType,
    lookup_path_problem,
    may_be_lfs_pointer,
    parse_lfs_pointer,
    path_problem,
)
from hubstead.server import errors
from hubstead.server.domain.git import CommitRecord, EntryKind, TreeEntry
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoHandle, RepoService
from hubstead.server.storage.errors import PathNotFoundError
from hubstead.server.storage.git_objects import GitObjectStore

_SHOWN_PATH = 200


@dataclasses.dataclass(frozen=True)
class LfsInfo:
    """The LFS object a pointer file names, and its Xet hash when the hub holds it as a Xet file."""

    sha256: str
    size: int
    pointer_size: int
    xet_hash: str | None = None


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """A file or folder at a revision; `size` is the content's real size."""

    path: str
    kind: EntryKind
    oid: str
    size: int
    lfs: LfsInfo | None = None
    last_commit: CommitRecord | None = None


def describe(git: GitObjectStore, key: str, entries: Sequence[TreeEntry]) -> list[FileInfo]:
    """FileInfo for tree entries, reading the small blobs that may be LFS pointers."""
    result = []
    for entry in entries:
        lfs = None
        if entry.kind is EntryKind.FILE and may_be_lfs_pointer(entry.size):
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
    """Reads the listings of a revision: tree pages and paths-info."""

    def __init__(self, repos: RepoService, git: GitObjectStore, objects: LfsObjects) -> None:
        self._repos = repos
        self._git = git
        self._objects = objects

    def tree(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        path: str,
        *,
        recursive: bool,
        expand: bool,
        offset: int,
        limit: int,
    ) -> Page[FileInfo]:
        """A page of the entries under folder `path` (all descendants when recursive).

        Entries come in git tree order; only the page's are described (LFS pointers read)
        and, with `expand`, given their last commits.

        Raises:
            EntryNotFoundError: `path` is not a folder at this revision.
            InvalidRequestError: a malformed path.
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ, revision)
        folder = normalize_path(path)
        key = handle.repo.storage_key
        try:
            # One entry past the page tells whether another page follows.
            window = self._git.list_tree(
                key, handle.commit_id, folder, recursive, offset, limit + 1
            )
        except PathNotFoundError as exc:
            raise errors.EntryNotFoundError(
                f"Folder {folder!r} does not exist at revision {handle.revision}",
                commit_id=handle.commit_id,
            ) from exc
        page = Page.of(self._with_xet_hashes(describe(self._git, key, window)), limit)
        return Page(self._with_last_commits(handle, page.items), page.more) if expand else page

    def paths_info(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        paths: Sequence[str],
        *,
        expand: bool,
    ) -> list[FileInfo]:
        """Entries for the paths that exist, in request order; missing paths are left out.

        Raises:
            InvalidRequestError: a path is malformed.
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ, revision)
        key = handle.repo.storage_key
        entries = []
        for path in dict.fromkeys(normalize_path(p) for p in paths):
            entry = self._git.entry(key, handle.commit_id, path) if path else None
            if entry is not None:
                entries.append(entry)
        infos = self._with_xet_hashes(describe(self._git, key, entries))
        return self._with_last_commits(handle, infos) if expand else infos

    def _with_xet_hashes(self, infos: list[FileInfo]) -> list[FileInfo]:
        """The same entries, LFS files held as Xet files with their Xet hash (one query).

        A client that sees `xetHash` downloads through the CAS, so only files the CAS can
        reconstruct get one.
        """
        held = self._objects.xet_files({info.lfs.sha256 for info in infos if info.lfs})
        return [
            dataclasses.replace(info, lfs=dataclasses.replace(info.lfs, xet_hash=held[sha].hash))
            if info.lfs is not None
            and (sha := info.lfs.sha256) in held
            and held[sha].size == info.lfs.size
            else info
            for info in infos
        ]

    def _with_last_commits(self, handle: RepoHandle, infos: Sequence[FileInfo]) -> list[FileInfo]:
        """The same entries, each with the last commit that changed it."""
        last = self._git.last_commits(
            handle.repo.storage_key, handle.commit_id, [info.path for info in infos]
        )
        return [dataclasses.replace(info, last_commit=last.get(info.path)) for info in infos]
