"""What the Hugging Face cache holds, and removing repos or revisions from it.

`scan_cache_dir` reads the layout described in `cache.py` (the names follow
`huggingface_hub.scan_cache_dir`): each repo folder, its snapshots (revisions), the refs that
point at them and the blobs they use. Sizes count each blob once. Deleting removes refs and
snapshots before the blobs that only they used, so an interrupted deletion never leaves a
snapshot entry pointing at a missing blob.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections import defaultdict
from pathlib import Path

from hubstead.client._config import load_config
from hubstead.client.cache import COMMIT_HASH
from hubstead.errors import CacheNotFound
from hubstead.protocol import RepoType

_REPO_TYPES = {t.api_segment: t.value for t in RepoType}


@dataclasses.dataclass(frozen=True)
class CachedFileInfo:
    """One file of a cached revision."""

    file_name: str
    file_path: Path
    blob_path: Path
    size_on_disk: int


@dataclasses.dataclass(frozen=True)
class CachedRevisionInfo:
    """One cached commit of a repo: its files and the refs pointing at it."""

    commit_hash: str
    snapshot_path: Path
    files: tuple[CachedFileInfo, ...]
    refs: tuple[str, ...]
    size_on_disk: int
    last_modified: float

    @property
    def nb_files(self) -> int:
        """How many files the snapshot has."""
        return len(self.files)


@dataclasses.dataclass(frozen=True)
class CachedRepoInfo:
    """One cached repo: its revisions and blobs."""

    repo_id: str
    repo_type: str
    repo_path: Path
    revisions: tuple[CachedRevisionInfo, ...]
    size_on_disk: int
    nb_files: int
    last_accessed: float
    last_modified: float

    @property
    def refs(self) -> dict[str, str]:
        """Each ref (branch or tag) and the commit it pointed to when last resolved."""
        return {ref: rev.commit_hash for rev in self.revisions for ref in rev.refs}


@dataclasses.dataclass(frozen=True)
class HFCacheInfo:
    """The whole cache: the repos that could be read, and what could not."""

    cache_dir: Path
    repos: tuple[CachedRepoInfo, ...]
    size_on_disk: int
    warnings: tuple[str, ...]

    def repo(self, repo_id: str, repo_type: str | None = None) -> CachedRepoInfo | None:
        """The cached repo with this id and type, if any."""
        wanted = repo_type or "model"
        return next((r for r in self.repos if r.repo_id == repo_id and r.repo_type == wanted), None)


def scan_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> HFCacheInfo:
    """Read what the cache holds.

    Folders that are not a readable cached repo are reported in `warnings`, not raised.

    Args:
        cache_dir: the hub cache; default `HF_HUB_CACHE`, else `$HF_HOME/hub`.

    Raises:
        CacheNotFound: the cache directory does not exist.
    """
    root = Path(cache_dir if cache_dir is not None else load_config().hub_cache)
    root = root.expanduser().resolve()
    if not root.is_dir():
        raise CacheNotFound(f"Cache directory not found: {root} (set HF_HUB_CACHE?)", root)
    repos: list[CachedRepoInfo] = []
    warnings: list[str] = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or folder.name == "CACHEDIR.TAG":
            continue
        try:
            repos.append(_scan_repo(folder))
        except ValueError as exc:
            warnings.append(str(exc))
    size = sum(repo.size_on_disk for repo in repos)
    return HFCacheInfo(root, tuple(repos), size, tuple(warnings))


def delete_from_cache(
    cache_dir: str | os.PathLike[str],
    repo_id: str,
    *,
    repo_type: str | None = None,
    revisions: list[str] | None = None,
) -> int:
    """Remove a cached repo, or some of its revisions; return the bytes freed.

    Args:
        cache_dir: the hub cache.
        repo_id: the repo.
        repo_type: model (default), dataset or space.
        revisions: commit hashes or ref names to remove; None removes the whole repo.

    Raises:
        CacheNotFound: the cache, the repo or a revision is not in it.
    """
    info = scan_cache_dir(cache_dir)
    repo = info.repo(repo_id, repo_type)
    if repo is None:
        raise CacheNotFound(
            f"{repo_type or 'model'} {repo_id} is not in the cache {info.cache_dir}",
            info.cache_dir,
        )
    doomed = _select(info.cache_dir, repo, revisions)
    keep = [rev for rev in repo.revisions if rev not in doomed]
    if not keep:
        freed = repo.size_on_disk
        shutil.rmtree(repo.repo_path)
        lock_dir = info.cache_dir / ".locks" / repo.repo_path.name
        shutil.rmtree(lock_dir, ignore_errors=True)
        return freed
    kept_blobs = {file.blob_path for rev in keep for file in rev.files}
    freed_blobs: dict[Path, int] = {}
    for rev in doomed:
        for ref in rev.refs:
            with contextlib.suppress(FileNotFoundError):
                (repo.repo_path / "refs" / ref).unlink()
        shutil.rmtree(rev.snapshot_path, ignore_errors=True)
        shutil.rmtree(repo.repo_path / ".no_exist" / rev.commit_hash, ignore_errors=True)
        for file in rev.files:
            if file.blob_path not in kept_blobs:
                freed_blobs[file.blob_path] = file.size_on_disk
    for blob in freed_blobs:
        with contextlib.suppress(FileNotFoundError):
            blob.unlink()
    return sum(freed_blobs.values())


def _select(
    cache_dir: Path, repo: CachedRepoInfo, revisions: list[str] | None
) -> list[CachedRevisionInfo]:
    if revisions is None:
        return list(repo.revisions)
    selected = []
    for wanted in revisions:
        commit = wanted if COMMIT_HASH.match(wanted) else repo.refs.get(wanted)
        match = next((rev for rev in repo.revisions if rev.commit_hash == commit), None)
        if match is None:
            raise CacheNotFound(f"Revision {wanted!r} of {repo.repo_id} is not cached", cache_dir)
        selected.append(match)
    return selected


def _scan_repo(folder: Path) -> CachedRepoInfo:
    """One repo folder.

    Raises:
        ValueError: the folder is not a cached repo (the message says why).
    """
    prefix, _, rest = folder.name.partition("--")
    if not folder.is_dir() or prefix not in _REPO_TYPES or not rest:
        raise ValueError(f"Not a cached repo: {folder}")
    snapshots = folder / "snapshots"
    if not snapshots.is_dir():
        raise ValueError(f"No snapshots folder in cached repo: {folder}")
    refs_by_commit: dict[str, list[str]] = defaultdict(list)
    refs = folder / "refs"
    if refs.is_dir():
        for ref in sorted(p for p in refs.rglob("*") if p.is_file()):
            commit = ref.read_text(encoding="utf-8").strip()
            refs_by_commit[commit].append(ref.relative_to(refs).as_posix())
    blob_stats: dict[Path, os.stat_result] = {}
    revisions = []
    for snapshot in sorted(p for p in snapshots.iterdir() if p.is_dir()):
        files = []
        for entry in sorted(p for p in snapshot.rglob("*") if not p.is_dir()):
            blob = (
                Path(os.path.abspath(entry.parent / os.readlink(entry)))
                if entry.is_symlink()
                else entry
            )
            if not blob.exists():
                raise ValueError(f"Missing blob (broken symlink) in cached repo: {entry}")
            stat = blob_stats.setdefault(blob, blob.stat())
            name = entry.relative_to(snapshot).as_posix()
            files.append(CachedFileInfo(name, entry, blob, stat.st_size))
        used = {file.blob_path for file in files}
        revisions.append(
            CachedRevisionInfo(
                commit_hash=snapshot.name,
                snapshot_path=snapshot,
                files=tuple(files),
                refs=tuple(refs_by_commit.get(snapshot.name, ())),
                size_on_disk=sum(blob_stats[blob].st_size for blob in used),
                last_modified=max(
                    (blob_stats[b].st_mtime for b in used), default=snapshot.stat().st_mtime
                ),
            )
        )
    stats = list(blob_stats.values())
    return CachedRepoInfo(
        repo_id=rest.replace("--", "/"),
        repo_type=_REPO_TYPES[prefix],
        repo_path=folder,
        revisions=tuple(revisions),
        size_on_disk=sum(s.st_size for s in stats),
        nb_files=len(blob_stats),
        last_accessed=max((s.st_atime for s in stats), default=folder.stat().st_atime),
        last_modified=max((s.st_mtime for s in stats), default=folder.stat().st_mtime),
    )
