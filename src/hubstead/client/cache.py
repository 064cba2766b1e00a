"""The Hugging Face cache layout, shared file for file with `huggingface_hub`.

A file one client downloads, the other finds, online or offline, and several processes may
share one cache: each blob is fetched under an exclusive `fcntl.flock` on
`.locks/<repo folder>/<etag>.lock` (the lock `huggingface_hub`'s `filelock` takes, so the two
clients wait for each other too), and only verified bytes are renamed into `blobs/`.

    <cache>/models--ns--name/
    ├── blobs/<etag>                    the bytes (etag: sha256 for LFS, git blob sha1 otherwise)
    ├── blobs/<etag>.incomplete         a download in progress (resumed from what is there)
    ├── refs/<branch or tag>            the commit the name pointed to when last asked
    ├── snapshots/<commit>/<path>       relative symlink to ../../blobs/<etag>
    └── .no_exist/<commit>/<path>       empty: the hub said the file is not at that commit
    <cache>/.locks/models--ns--name/<etag>.lock

Scanning and deleting (for `hubstead cache`) are in `hubstead.client.cache_scan`; the
`local_dir` layout is in `hubstead.client._local_dir`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from hubstead.client._config import load_config
from hubstead.client._paths import validate_filename
from hubstead.client._urls import repo_type_of, validate_repo_id
from hubstead.protocol import DEFAULT_BRANCH

COMMIT_HASH = re.compile(r"^[0-9a-f]{40}$")
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)


class _CachedNoExist:
    """The type of `CACHED_NO_EXIST`."""

    def __repr__(self) -> str:
        return "CACHED_NO_EXIST"


CACHED_NO_EXIST = _CachedNoExist()
"""What `try_to_load_from_cache` returns for a file the hub said is not at that commit."""


def repo_folder_name(*, repo_id: str, repo_type: str | None) -> str:
    """The repo's folder in the cache: `models--namespace--name`."""
    segment = f"{repo_type_of(repo_type).value}s"
    return "--".join([segment, *validate_repo_id(repo_id).split("/")])


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created group-writable, so users can share a cache).

    `flock` locks belong to the open file, so threads of one process exclude each other too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def tag_cache_dir(directory: Path) -> None:
    """Write `CACHEDIR.TAG` so backup tools skip the directory (best effort)."""
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        with contextlib.suppress(OSError):
            tag.write_text(CACHEDIR_TAG, encoding="utf-8")


class RepoCache:
    """The cache folder of one repo, and the paths and small records inside it.

    Args:
        cache_dir: the hub cache (`HF_HUB_CACHE`).
        repo_id: `namespace/name`.
        repo_type: model, dataset or space (None: model).
    """

    def __init__(self, cache_dir: Path, repo_id: str, repo_type: str | None) -> None:
        self.cache_dir = cache_dir
        self.name = repo_folder_name(repo_id=repo_id, repo_type=repo_type)
        self.folder = cache_dir / self.name

    def blob_path(self, etag: str) -> Path:
        """Where the bytes of `etag` live."""
        return self.folder / "blobs" / etag

    def incomplete_path(self, etag: str) -> Path:
        """Where a download of `etag` is assembled."""
        return self.folder / "blobs" / f"{etag}.incomplete"

    def lock_path(self, etag: str) -> Path:
        """The lock serializing downloads of `etag` into this repo's folder."""
        return self.cache_dir / ".locks" / self.name / f"{etag}.lock"

    def pointer_path(self, commit: str, filename: str) -> Path:
        """The snapshot entry of `filename` at `commit`."""
        return self.folder / "snapshots" / commit / _local(filename)

    def snapshot_path(self, commit: str) -> Path:
        """The snapshot folder of `commit`."""
        return self.folder / "snapshots" / commit

    def no_exist_path(self, commit: str, filename: str) -> Path:
        """The marker saying `filename` is not at `commit`."""
        return self.folder / ".no_exist" / commit / _local(filename)

    def read_ref(self, revision: str) -> str | None:
        """The commit a branch or tag pointed to when last resolved, if recorded."""
        try:
            return (self.folder / "refs" / revision).read_text(encoding="utf-8").strip() or None
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def commit_for(self, revision: str) -> str | None:
        """`revision` if it is a commit hash, else the commit recorded for it in `refs/`."""
        return revision if COMMIT_HASH.match(revision) else self.read_ref(revision)

    def write_ref(self, revision: str, commit: str) -> None:
        """Record that `revision` (a branch or tag) points at `commit`.

        Written only when it changes (a read-only cache keeps working), and atomically, so a
        concurrent reader never sees a half-written ref.
        """
        if revision == commit or self.read_ref(revision) == commit:
            return
        path = self.folder / "refs" / revision
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        temporary.write_text(commit, encoding="utf-8")
        os.replace(temporary, path)

    def mark_missing(self, commit: str, filename: str) -> None:
        """Remember that the hub has no `filename` at `commit` (best effort)."""
        marker = self.no_exist_path(commit, filename)
        with contextlib.suppress(OSError):
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()

    def is_marked_missing(self, commit: str, filename: str) -> bool:
        """Whether the hub said `filename` is not at `commit`."""
        return self.no_exist_path(commit, filename).is_file()

    def link(self, commit: str, filename: str, etag: str) -> Path:
        """Point the snapshot entry of `filename` at `commit` to the blob; return the entry.

        A relative symlink (`../../blobs/<etag>`, one more `..` per folder level) keeps working
        when the cache is moved. Where symlinks are not possible the blob is copied.
        """
        pointer = self.pointer_path(commit, filename)
        blob = self.blob_path(etag)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.relpath(blob, pointer.parent)
        with contextlib.suppress(OSError):
            if os.readlink(pointer) == target:
                return pointer
        with contextlib.suppress(FileNotFoundError):
            pointer.unlink()
        try:
            os.symlink(target, pointer)
        except FileExistsError:
            # Another process linked it between our unlink and symlink: same blob, nothing to do.
            if pointer.resolve() != blob.resolve():
                raise
        except OSError:
            shutil.copyfile(blob, pointer)
        return pointer


def try_to_load_from_cache(
    repo_id: str,
    filename: str,
    cache_dir: str | os.PathLike[str] | None = None,
    revision: str | None = None,
    repo_type: str | None = None,
) -> str | _CachedNoExist | None:
    """The cached path of a file at a revision, without any request.

    Args:
        repo_id: `namespace/name`.
        filename: the path in the repo.
        cache_dir: the hub cache (default `HF_HUB_CACHE`, else `~/.cache/huggingface/hub`).
        revision: a branch, tag (resolved through `refs/`) or commit hash; default main.
        repo_type: model, dataset or space.

    Returns:
        The path; `CACHED_NO_EXIST` if the hub said the file is not at that commit; None if
        nothing is known.
    """
    root = Path(cache_dir) if cache_dir is not None else load_config().hub_cache
    cache = RepoCache(root, repo_id, repo_type)
    validate_filename(filename)
    if not cache.folder.is_dir():
        return None
    commit = cache.commit_for(revision or DEFAULT_BRANCH)
    if commit is None:
        return None
    if cache.is_marked_missing(commit, filename):
        return CACHED_NO_EXIST
    pointer = cache.pointer_path(commit, filename)
    return str(pointer) if pointer.is_file() else None


def _local(filename: str) -> str:
    return os.path.join(*validate_filename(filename).split("/"))
