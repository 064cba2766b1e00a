"""The `local_dir` layout: a repo's files in a plain folder, with what `huggingface_hub` records.

    <local_dir>/<path>                                         the file itself
    <local_dir>/.cache/huggingface/download/<path>.metadata    commit, etag, timestamp (3 lines)
    <local_dir>/.cache/huggingface/download/<path>.lock        held while the file is written
    <local_dir>/.cache/huggingface/download/<hash>.<etag>.incomplete    a download in progress

A metadata file is trusted only while the file is not newer than it: an edited file is checked
against the hub again. Both clients read and write these files the same way.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import os
import time
from pathlib import Path

from hubstead.client._paths import validate_filename
from hubstead.client.cache import file_lock, tag_cache_dir


@dataclasses.dataclass(frozen=True)
class LocalDownloadPaths:
    """The paths of one repo file in a local dir."""

    file_path: Path
    metadata_path: Path
    lock_path: Path

    def incomplete_path(self, etag: str) -> Path:
        """Where a download of the file is assembled (next to its metadata)."""
        return (
            self.metadata_path.parent / f"{_short_hash(self.metadata_path.name)}.{etag}.incomplete"
        )


@dataclasses.dataclass(frozen=True)
class LocalDownloadMetadata:
    """What was downloaded into a local dir: from which commit, with which etag, when."""

    filename: str
    commit_hash: str
    etag: str
    timestamp: float


def download_paths(local_dir: Path, filename: str) -> LocalDownloadPaths:
    """The paths of `filename` in `local_dir`; their folders are created.

    Raises:
        HFValidationError: `filename` would land outside `local_dir`.
    """
    relative = os.path.join(*validate_filename(filename).split("/"))
    metadata = _huggingface_dir(local_dir) / "download" / f"{relative}.metadata"
    paths = LocalDownloadPaths(
        file_path=local_dir / relative,
        metadata_path=metadata,
        lock_path=metadata.with_suffix(".lock"),
    )
    paths.file_path.parent.mkdir(parents=True, exist_ok=True)
    paths.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    return paths


def read_metadata(local_dir: Path, filename: str) -> LocalDownloadMetadata | None:
    """The recorded download of `filename`, or None if unknown, unreadable or outdated."""
    paths = download_paths(local_dir, filename)
    with file_lock(paths.lock_path):
        try:
            commit, etag, stamp = paths.metadata_path.read_text(encoding="utf-8").splitlines()[:3]
            metadata = LocalDownloadMetadata(filename, commit.strip(), etag.strip(), float(stamp))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # A metadata file we cannot parse is dropped; the file is checked against the hub.
            with contextlib.suppress(OSError):
                paths.metadata_path.unlink()
            return None
        try:
            modified = paths.file_path.stat().st_mtime
        except FileNotFoundError:
            return None
    # One second of slack: some filesystems store modification times coarsely.
    return metadata if modified - 1 <= metadata.timestamp else None


def write_metadata(local_dir: Path, filename: str, commit_hash: str, etag: str) -> None:
    """Record that `filename` in `local_dir` is `etag` from `commit_hash`, as of now."""
    paths = download_paths(local_dir, filename)
    with file_lock(paths.lock_path):
        paths.metadata_path.write_text(f"{commit_hash}\n{etag}\n{time.time()}\n", encoding="utf-8")


def _huggingface_dir(local_dir: Path) -> Path:
    """`<local_dir>/.cache/huggingface`, with its `.gitignore` (`*`) and `CACHEDIR.TAG`."""
    path = local_dir / ".cache" / "huggingface"
    path.mkdir(parents=True, exist_ok=True)
    tag_cache_dir(path)
    gitignore = path / ".gitignore"
    if not gitignore.exists():
        with contextlib.suppress(OSError):
            gitignore.write_text("*", encoding="utf-8")
    return path


def _short_hash(name: str) -> str:
    return base64.urlsafe_b64encode(
        hashlib.sha1(name.encode(), usedforsecurity=False).digest()
    ).decode()
