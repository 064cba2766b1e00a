"""One file into the Hugging Face cache or a local dir: the steps behind `hf_hub_download`.

The same files on disk as `huggingface_hub` writes (see `cache.py` and `_local_dir.py`), so
either client finds what the other downloaded. The bytes come through `_transfer.Transfer`
(parallel ranges, verified while downloading, resumable).

Without the hub (`HF_HUB_OFFLINE`, `local_files_only=True`, or the hub unreachable or failing)
a branch or tag name is served from the commit `refs/` recorded when it was last resolved.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import httpx

from hubstead import __version__
from hubstead.client import _local_dir
from hubstead.client._digests import is_sha256
from hubstead.client._files import FileMethods
from hubstead.client._locate import FileMetadata, fetch_metadata
from hubstead.client._progress import ProgressBars, bars_enabled
from hubstead.client._transfer import Transfer, TransferOptions
from hubstead.client._urls import resolve_url
from hubstead.client.cache import (
    COMMIT_HASH,
    RepoCache,
    file_lock,
    tag_cache_dir,
    try_to_load_from_cache,
)
from hubstead.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from hubstead.protocol import HEADER_REPO_COMMIT

logger = logging.getLogger(__name__)
DEFAULT_ETAG_TIMEOUT = 10.0
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Downloader:
    """Everything one download call shares: the client, the repo, the options.

    Built by `HfApi.hf_hub_download` and `HfApi.snapshot_download`; not public.
    """

    api: FileMethods
    repo_id: str
    repo_type: str | None
    cache: RepoCache
    token: str | bool | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    etag_timeout: float = DEFAULT_ETAG_TIMEOUT
    local_files_only: bool = False
    options: TransferOptions = dataclasses.field(default_factory=TransferOptions)
    progress: bool | None = None

    @property
    def offline(self) -> bool:
        """No request may be sent (`local_files_only` or `HF_HUB_OFFLINE`)."""
        return self.local_files_only or self.api.config.offline

    # --- into the cache -----------------------------------------------------------------------

    def to_cache(
        self,
        filename: str,
        revision: str,
        *,
        force: bool = False,
        known: FileMetadata | None = None,
        bars: ProgressBars | None = None,
    ) -> Path:
        """The file's snapshot entry in the cache, downloaded if needed.

        Args:
            filename: the path in the repo.
            revision: a branch, tag or commit hash.
            force: download again even if cached.
            known: the file's metadata when already known (a snapshot's listing): no HEAD.
            bars: the snapshot's progress bars, if any.

        Raises:
            RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError,
            LocalEntryNotFoundError: see `_metadata`.
            IntegrityError: the bytes did not match the etag.
        """
        cache = self.cache
        if COMMIT_HASH.match(revision) and not force:
            pointer = cache.pointer_path(revision, filename)
            if pointer.exists():
                return pointer
        metadata = known or self._metadata(
            filename, revision, force=force, on_disk=lambda: self._in_cache(filename, revision)
        )
        if isinstance(metadata, Path):
            return metadata
        pointer = cache.pointer_path(metadata.commit_hash, filename)
        if not force and pointer.exists():
            with contextlib.suppress(OSError):
                cache.write_ref(revision, metadata.commit_hash)
            return pointer
        cache.folder.mkdir(parents=True, exist_ok=True)
        tag_cache_dir(cache.cache_dir)
        cache.write_ref(revision, metadata.commit_hash)
        blob = cache.blob_path(metadata.etag)
        blob.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(cache.lock_path(metadata.etag)):
            # Another process may have fetched it while we waited for the lock.
            if force or not blob.exists():
                self._fetch(metadata, filename, cache.incomplete_path(metadata.etag), blob, bars)
            cache.link(metadata.commit_hash, filename, metadata.etag)
        return pointer

    # --- into a local dir ---------------------------------------------------------------------

    def to_local_dir(
        self,
        local_dir: Path,
        filename: str,
        revision: str,
        *,
        force: bool = False,
        known: FileMetadata | None = None,
        bars: ProgressBars | None = None,
    ) -> Path:
        """The file in `local_dir` (same path as in the repo), downloaded if needed.

        A file already there is kept when its recorded etag (or, for an LFS file without a
        record, its sha256) is the hub's; a copy in the cache is copied rather than downloaded.

        Raises:
            HfHubHTTPError, LocalEntryNotFoundError, IntegrityError: as for `to_cache`.
        """
        paths = _local_dir.download_paths(local_dir, filename)
        recorded = _local_dir.read_metadata(local_dir, filename)
        present = paths.file_path.is_file()
        if (
            not force
            and present
            and recorded is not None
            and COMMIT_HASH.match(revision)
            and recorded.commit_hash == revision
        ):
            return paths.file_path
        metadata = known or self._metadata(
            filename, revision, force=force, on_disk=lambda: _existing(paths.file_path)
        )
        if isinstance(metadata, Path):
            return metadata
        if not force and present and _is_current(paths.file_path, recorded, metadata.etag):
            _local_dir.write_metadata(local_dir, filename, metadata.commit_hash, metadata.etag)
            return paths.file_path
        cached = None if force else self._cached_copy(filename, metadata.commit_hash)
        with file_lock(paths.lock_path):
            if cached is not None:
                shutil.copyfile(cached, paths.file_path)
            else:
                incomplete = paths.incomplete_path(metadata.etag)
                self._fetch(metadata, filename, incomplete, paths.file_path, bars)
        _local_dir.write_metadata(local_dir, filename, metadata.commit_hash, metadata.etag)
        return paths.file_path

    # --- shared steps -------------------------------------------------------------------------

    def url(self, filename: str, revision: str) -> str:
        """The file's resolve URL."""
        return resolve_url(
            self.api.endpoint, self.repo_id, filename, repo_type=self.repo_type, revision=revision
        )

    def ask(
        self,
        question: Callable[[bool], T],
        on_disk: Callable[[], Path | None],
        *,
        force: bool = False,
    ) -> T | Path | Exception:
        """The hub's answer to `question`, else the copy `on_disk()` finds, else why neither.

        `question(retry)` is asked once without retries, so that a copy on disk is served at
        once when the hub is down; with nothing on disk (or with `force`), a transient failure
        is asked again with retries before giving up.

        Raises:
            RevisionNotFoundError, RemoteEntryNotFoundError: the hub says so.
            httpx.ProxyError: the proxy refused (not a reason to serve a cached copy).
        """
        answer = self._answer(question, retry=False)
        if not isinstance(answer, Exception):
            return answer
        found = None if force else on_disk()
        if found is not None:
            return found
        if _transient(answer) and not self.offline:
            return self._answer(question, retry=True)
        return answer

    def _answer(self, question: Callable[[bool], T], *, retry: bool) -> T | Exception:
        """`question(retry)`, or the error that kept the hub from answering (final ones raise)."""
        if self.offline:
            return OfflineModeIsEnabled(
                f"Cannot ask the hub about {self.repo_id}: offline (HF_HUB_OFFLINE or "
                "local_files_only)."
            )
        try:
            return question(retry)
        except (RevisionNotFoundError, RemoteEntryNotFoundError, httpx.ProxyError):
            raise
        except (httpx.TransportError, HfHubHTTPError, OfflineModeIsEnabled) as exc:
            return exc

    def _metadata(
        self, filename: str, revision: str, *, force: bool, on_disk: Callable[[], Path | None]
    ) -> FileMetadata | Path:
        """The file's metadata from the hub, or, when the hub cannot say, `on_disk()`'s copy.

        Raises:
            RevisionNotFoundError, RemoteEntryNotFoundError: the hub says so (the missing file
                is remembered in `.no_exist/`).
            RepositoryNotFoundError, GatedRepoError: the hub refused and nothing is on disk.
            LocalEntryNotFoundError: offline or unreachable, and nothing is on disk.
            ValueError: `force_download` without the hub.
        """
        answer = self.ask(
            lambda retry: self._fetch_metadata(filename, revision, retry=retry),
            on_disk,
            force=force,
        )
        if not isinstance(answer, Exception):
            return answer
        explained = _explain(
            answer,
            f"{filename} of {self.repo_id}",
            force=force,
            local_files_only=self.local_files_only,
        )
        if explained is answer:
            raise answer
        raise explained from answer

    def _in_cache(self, filename: str, revision: str) -> Path | None:
        """The cached snapshot entry for a revision (a branch or tag through `refs/`), if any.

        Raises:
            LocalEntryNotFoundError: offline, and the hub said earlier that the file is not there.
        """
        commit = self.cache.commit_for(revision)
        if commit is None:
            return None
        pointer = self.cache.pointer_path(commit, filename)
        if pointer.exists():
            return pointer
        if self.offline and self.cache.is_marked_missing(commit, filename):
            raise LocalEntryNotFoundError(
                f"{filename} is not in {self.repo_id} at commit {commit} (the hub said so "
                "earlier, and the answer is cached in .no_exist/)."
            )
        return None

    def _fetch_metadata(self, filename: str, revision: str, *, retry: bool) -> FileMetadata:
        """HEAD the file; a file the hub says is missing is remembered in `.no_exist/`."""
        try:
            return fetch_metadata(
                self.api.session,
                self.url(filename, revision),
                token=self.token,
                timeout=self.etag_timeout,
                headers=self.headers,
                retry=retry,
            )
        except RemoteEntryNotFoundError as exc:
            response = exc.response
            commit = response.headers.get(HEADER_REPO_COMMIT) if response is not None else None
            if commit is not None:
                self.cache.mark_missing(commit, filename)
                with contextlib.suppress(OSError):
                    self.cache.write_ref(revision, commit)
            raise

    def _fetch(
        self,
        metadata: FileMetadata,
        filename: str,
        incomplete: Path,
        destination: Path,
        bars: ProgressBars | None,
    ) -> None:
        """Download into `incomplete`, verify, then move to `destination`."""
        with contextlib.ExitStack() as stack:
            if bars is None:
                enabled = bars_enabled(self.progress, self.api.config.progress_bars)
                bars = stack.enter_context(ProgressBars(enabled))
            bar = bars.file(filename, metadata.size)
            Transfer(
                self.api.session,
                metadata.location,
                incomplete,
                etag=metadata.etag,
                size=metadata.size,
                name=filename,
                token=self.token,
                headers=self.headers,
                options=self.options,
                progress=bar,
            ).run()
            bar.close()
        os.replace(incomplete, destination)

    def _cached_copy(self, filename: str, commit: str) -> Path | None:
        found = try_to_load_from_cache(
            self.repo_id,
            filename,
            cache_dir=self.cache.cache_dir,
            revision=commit,
            repo_type=self.repo_type,
        )
        return Path(found) if isinstance(found, str) else None


def _existing(path: Path) -> Path | None:
    """A file already in a local dir, served as is when the hub cannot be asked."""
    if not path.is_file():
        return None
    logger.warning("The hub could not be asked about %s: using the file already there.", path)
    return path


def _is_current(path: Path, recorded: _local_dir.LocalDownloadMetadata | None, etag: str) -> bool:
    """Whether the file in a local dir is the `etag` the hub has now."""
    if recorded is not None:
        return recorded.etag == etag
    if not is_sha256(etag):
        return False
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest() == etag


def _transient(error: Exception) -> bool:
    """A failure worth retrying: the network, a timeout, 429 or 5xx."""
    if isinstance(error, httpx.TransportError):
        return True
    status = getattr(error, "status_code", None) or 0
    return isinstance(error, HfHubHTTPError) and (status == 429 or status >= 500)


def is_refusal(error: Exception) -> bool:
    """Whether the hub refused (no such repo, gated, bad token) rather than failed to answer."""
    return isinstance(error, RepositoryNotFoundError | GatedRepoError) or (
        isinstance(error, HfHubHTTPError) and error.status_code == 401
    )


def _explain(error: Exception, what: str, *, force: bool, local_files_only: bool) -> Exception:
    """The exception to raise when the hub could not say and `what` (a file) is not on disk."""
    if force:
        if local_files_only:
            return ValueError("Cannot pass force_download=True and local_files_only=True together.")
        return ValueError(f"force_download=True needs the hub, which failed: {error}")
    if local_files_only:
        return LocalEntryNotFoundError(
            f"{what} is not in the local cache, and local_files_only=True keeps the hub out of "
            "it. To look it up on the hub, set local_files_only=False."
        )
    if is_refusal(error):
        return error
    if isinstance(error, OfflineModeIsEnabled):
        return LocalEntryNotFoundError(
            f"{what} is not in the local cache, and offline mode (HF_HUB_OFFLINE) keeps the hub "
            "out of it. Unset HF_HUB_OFFLINE to fetch it."
        )
    return LocalEntryNotFoundError(
        f"{what} is not in the local cache, and the hub could not be asked about it "
        f"({type(error).__name__}: {error}). Check your connection and HF_ENDPOINT, then try "
        "again."
    )


def request_headers(
    headers: Mapping[str, str] | None,
    library_name: str | None,
    library_version: str | None,
    user_agent: Mapping[str, str] | str | None,
) -> dict[str, str]:
    """Extra request headers, with the library and user agent details added to `User-Agent`."""
    extra = dict(headers or {})
    parts = []
    if library_name:
        parts.append(f"{library_name}/{library_version or 'None'}")
    if isinstance(user_agent, Mapping):
        parts.extend(f"{key}/{value}" for key, value in user_agent.items())
    elif user_agent:
        parts.append(user_agent)
    if parts:
        extra.setdefault("User-Agent", "; ".join([f"hubstead/{__version__}", *parts]))
    return extra
