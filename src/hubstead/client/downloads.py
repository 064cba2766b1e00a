"""`hf_hub_download` and `snapshot_download`, with `huggingface_hub`'s names, arguments and results.

A file lands in the Hugging Face cache (the path returned is its snapshot entry) or, with
`local_dir`, at the same path in a plain folder; either client finds what the other downloaded.
A snapshot lists the repo once at the resolved commit and fetches the files in parallel, without
a HEAD per small file (the listing already gives each file's etag and size).

Large files are fetched with several connections (`connections`, `chunk_size`, or
`HUBSTEAD_DOWNLOAD_CONNECTIONS` and `HUBSTEAD_DOWNLOAD_CHUNK_SIZE`), verified while they arrive,
and resumed after an interruption (see `_transfer.py`). `progress=False` turns the bars off
(they are also off when stderr is not a terminal, or with `HF_HUB_DISABLE_PROGRESS_BARS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hubstead.client._downloader import (
    DEFAULT_ETAG_TIMEOUT,
    Downloader,
    is_refusal,
    request_headers,
)
from hubstead.client._files import FileMethods
from hubstead.client._locate import FileMetadata
from hubstead.client._paths import filter_paths, validate_filename
from hubstead.client._progress import ProgressBars, bars_enabled
from hubstead.client._transfer import TransferOptions
from hubstead.client._urls import api_repo_path, quote_revision
from hubstead.client.cache import RepoCache
from hubstead.client.models import RepoFile
from hubstead.errors import HfHubHTTPError, LocalEntryNotFoundError
from hubstead.protocol import DEFAULT_BRANCH

__all__ = ["DownloadMethods", "hf_hub_download", "snapshot_download"]

PathLike = str | Path


class DownloadMethods(FileMethods):
    """Download methods of `HfApi`; the functions `hf_hub_download` and `snapshot_download`."""

    def hf_hub_download(
        self,
        repo_id: str,
        filename: str,
        *,
        subfolder: str | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        cache_dir: PathLike | None = None,
        local_dir: PathLike | None = None,
        force_download: bool = False,
        etag_timeout: float = DEFAULT_ETAG_TIMEOUT,
        token: str | bool | None = None,
        local_files_only: bool = False,
        headers: Mapping[str, str] | None = None,
        progress: bool | None = None,
        connections: int | None = None,
        chunk_size: int | None = None,
    ) -> str:
        """`hubstead.hf_hub_download` with this client's hub, token and cache (see there).

        Raises:
            HfHubHTTPError, LocalEntryNotFoundError, IntegrityError, HFValidationError: as
                for `hubstead.hf_hub_download`.
        """
        path = validate_filename(f"{subfolder}/{filename}" if subfolder else filename)
        downloader = self._downloader(
            repo_id,
            repo_type,
            cache_dir,
            token=token,
            headers=headers,
            etag_timeout=etag_timeout,
            local_files_only=local_files_only,
            options=TransferOptions.resolve(connections, chunk_size, self.config),
            progress=progress,
        )
        rev = revision or DEFAULT_BRANCH
        if local_dir is not None:
            folder = Path(local_dir).expanduser().resolve()
            return str(downloader.to_local_dir(folder, path, rev, force=force_download))
        return str(downloader.to_cache(path, rev, force=force_download))

    def snapshot_download(
        self,
        repo_id: str,
        *,
        repo_type: str | None = None,
        revision: str | None = None,
        cache_dir: PathLike | None = None,
        local_dir: PathLike | None = None,
        etag_timeout: float = DEFAULT_ETAG_TIMEOUT,
        force_download: bool = False,
        token: str | bool | None = None,
        local_files_only: bool = False,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        max_workers: int = 8,
        headers: Mapping[str, str] | None = None,
        progress: bool | None = None,
        connections: int | None = None,
        chunk_size: int | None = None,
    ) -> str:
        """`hubstead.snapshot_download` with this client's hub, token and cache (see there).

        Raises:
            HfHubHTTPError, LocalEntryNotFoundError, IntegrityError: as for
                `hubstead.snapshot_download`.
        """
        options = TransferOptions.resolve(connections, chunk_size, self.config)
        downloader = self._downloader(
            repo_id,
            repo_type,
            cache_dir,
            token=token,
            headers=headers,
            etag_timeout=etag_timeout,
            local_files_only=local_files_only,
            options=options,
            progress=progress,
        )
        rev = revision or DEFAULT_BRANCH
        folder = Path(local_dir).expanduser().resolve() if local_dir is not None else None
        answer = downloader.ask(
            lambda retry: _listing(downloader, rev, retry=retry),
            lambda: _cached_snapshot(downloader, rev, folder),
        )
        if isinstance(answer, Exception):
            explained = _unlisted(downloader, rev, answer)
            if explained is answer:
                raise answer
            raise explained from answer
        if isinstance(answer, Path):
            return str(answer)
        commit, files = answer
        by_path = {entry.path: entry for entry in files}
        wanted = list(
            filter_paths(by_path, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns)
        )
        if folder is None:
            downloader.cache.folder.mkdir(parents=True, exist_ok=True)
            downloader.cache.write_ref(rev, commit)
        total = sum(_size(by_path[path]) for path in wanted)
        enabled = bars_enabled(progress, self.config.progress_bars)
        with (
            ProgressBars(enabled, total_files=len(wanted), total_bytes=total) as bars,
            ThreadPoolExecutor(max(1, max_workers), thread_name_prefix="hubstead-snapshot") as pool,
        ):

            def fetch(path: str) -> None:
                entry = by_path[path]
                known = _known_metadata(downloader, entry, commit, options)
                if folder is not None:
                    downloader.to_local_dir(
                        folder, path, commit, force=force_download, known=known, bars=bars
                    )
                else:
                    downloader.to_cache(path, commit, force=force_download, known=known, bars=bars)
                bars.settle(path, _size(entry))

            for future in [pool.submit(fetch, path) for path in wanted]:
                future.result()
        if folder is not None:
            return str(folder)
        return str(downloader.cache.snapshot_path(commit))

    def _downloader(
        self,
        repo_id: str,
        repo_type: str | None,
        cache_dir: PathLike | None,
        *,
        token: str | bool | None,
        headers: Mapping[str, str] | None,
        etag_timeout: float,
        local_files_only: bool,
        options: TransferOptions,
        progress: bool | None,
    ) -> Downloader:
        root = Path(cache_dir) if cache_dir is not None else self.config.hub_cache
        return Downloader(
            api=self,
            repo_id=repo_id,
            repo_type=repo_type,
            cache=RepoCache(root.expanduser().resolve(), repo_id, repo_type),
            token=token,
            headers=dict(headers or {}),
            etag_timeout=etag_timeout,
            local_files_only=local_files_only,
            options=options,
            progress=progress,
        )


def hf_hub_download(
    repo_id: str,
    filename: str,
    *,
    subfolder: str | None = None,
    repo_type: str | None = None,
    revision: str | None = None,
    library_name: str | None = None,
    library_version: str | None = None,
    cache_dir: PathLike | None = None,
    local_dir: PathLike | None = None,
    user_agent: Mapping[str, str] | str | None = None,
    force_download: bool = False,
    etag_timeout: float = DEFAULT_ETAG_TIMEOUT,
    token: str | bool | None = None,
    local_files_only: bool = False,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    progress: bool | None = None,
    connections: int | None = None,
    chunk_size: int | None = None,
) -> str:
    """Download a file (unless cached) and return its local path.

    Args:
        repo_id: `namespace/name`.
        filename: the file's path in the repo (under `subfolder`, if given).
        subfolder: a folder of the repo the filename is relative to.
        repo_type: model (default), dataset or space.
        revision: a branch, tag or commit hash; default main.
        library_name: added to the User-Agent, with `library_version`.
        library_version: see `library_name`.
        cache_dir: the hub cache; default `HF_HUB_CACHE`, else `$HF_HOME/hub`.
        local_dir: put the file at its repo path under this folder instead of the cache.
        user_agent: more User-Agent details (a mapping or a string).
        force_download: download even if the file is cached.
        etag_timeout: seconds to wait for the hub's answer about the file.
        token: a token; False for none; default `HF_TOKEN` or the stored login.
        local_files_only: never send a request: the cached copy or an error.
        headers: extra request headers.
        endpoint: the hub; default `HF_ENDPOINT`, else huggingface.co.
        progress: draw progress bars (default: when stderr is a terminal).
        connections: parallel connections for a large file (default 8).
        chunk_size: bytes per range request (default: from the file size, at least 16 MiB).

    Returns:
        The path of the file: its snapshot entry in the cache, or its path in `local_dir`.

    Raises:
        RepositoryNotFoundError: no such repo, or not visible with this token.
        RevisionNotFoundError: no such revision.
        RemoteEntryNotFoundError: no such file at the revision.
        LocalEntryNotFoundError: offline (or the hub unreachable) and the file is not cached.
        IntegrityError: the bytes did not match their etag, even after fetching them again.
        HFValidationError: a malformed repo id or filename.
    """
    with _client(endpoint, token, cache_dir) as api:
        return api.hf_hub_download(
            repo_id,
            filename,
            subfolder=subfolder,
            repo_type=repo_type,
            revision=revision,
            cache_dir=cache_dir,
            local_dir=local_dir,
            force_download=force_download,
            etag_timeout=etag_timeout,
            local_files_only=local_files_only,
            headers=request_headers(headers, library_name, library_version, user_agent),
            progress=progress,
            connections=connections,
            chunk_size=chunk_size,
        )


def snapshot_download(
    repo_id: str,
    *,
    repo_type: str | None = None,
    revision: str | None = None,
    cache_dir: PathLike | None = None,
    local_dir: PathLike | None = None,
    library_name: str | None = None,
    library_version: str | None = None,
    user_agent: Mapping[str, str] | str | None = None,
    etag_timeout: float = DEFAULT_ETAG_TIMEOUT,
    force_download: bool = False,
    token: str | bool | None = None,
    local_files_only: bool = False,
    allow_patterns: list[str] | str | None = None,
    ignore_patterns: list[str] | str | None = None,
    max_workers: int = 8,
    headers: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    progress: bool | None = None,
    connections: int | None = None,
    chunk_size: int | None = None,
) -> str:
    """Download every file of a repo at a revision (or those the patterns select).

    Args:
        repo_id: `namespace/name`.
        repo_type: model (default), dataset or space.
        revision: a branch, tag or commit hash; default main.
        cache_dir: the hub cache; default `HF_HUB_CACHE`, else `$HF_HOME/hub`.
        local_dir: put the files under this folder instead of the cache.
        library_name: added to the User-Agent, with `library_version`.
        library_version: see `library_name`.
        user_agent: more User-Agent details.
        etag_timeout: seconds to wait for the hub's answer about a file.
        force_download: download even the files that are cached.
        token: a token; False for none; default `HF_TOKEN` or the stored login.
        local_files_only: never send a request: the cached snapshot or an error.
        allow_patterns: only paths matching one of these wildcards (`*` crosses `/`).
        ignore_patterns: no path matching one of these.
        max_workers: files downloaded at once.
        headers: extra request headers.
        endpoint: the hub; default `HF_ENDPOINT`, else huggingface.co.
        progress: draw progress bars (default: when stderr is a terminal).
        connections: parallel connections for each large file (default 8).
        chunk_size: bytes per range request (default: from the file size).

    Returns:
        The snapshot folder in the cache, or `local_dir`.

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError: as for `hf_hub_download`.
        LocalEntryNotFoundError: offline (or the hub unreachable) and no cached snapshot.
    """
    with _client(endpoint, token, cache_dir) as api:
        return api.snapshot_download(
            repo_id,
            repo_type=repo_type,
            revision=revision,
            cache_dir=cache_dir,
            local_dir=local_dir,
            etag_timeout=etag_timeout,
            force_download=force_download,
            local_files_only=local_files_only,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            max_workers=max_workers,
            headers=request_headers(headers, library_name, library_version, user_agent),
            progress=progress,
            connections=connections,
            chunk_size=chunk_size,
        )


def _client(
    endpoint: str | None, token: str | bool | None, cache_dir: PathLike | None
) -> DownloadMethods:
    """A client for one module-level call: the download methods are all it needs."""
    return DownloadMethods(endpoint=endpoint, token=token, cache_dir=cache_dir)


def _listing(downloader: Downloader, revision: str, *, retry: bool) -> tuple[str, list[RepoFile]]:
    """The commit `revision` is, and the files at that commit.

    Raises:
        RevisionNotFoundError: the hub has no such revision.
        HfHubHTTPError, httpx.TransportError: the hub could not say.
    """
    api, token = downloader.api, downloader.token
    path = f"{api_repo_path(downloader.repo_type, downloader.repo_id)}/revision/"
    response = api.session.send(
        "GET", api.session.url(path + quote_revision(revision)), token=token, retry=retry
    )
    commit = response.json().get("sha")
    if not isinstance(commit, str):
        raise HfHubHTTPError(
            f"The hub did not say which commit {revision!r} is.", response=response
        )
    entries = api.list_repo_tree(
        downloader.repo_id,
        recursive=True,
        revision=commit,
        repo_type=downloader.repo_type,
        token=token,
    )
    return commit, [e for e in entries if isinstance(e, RepoFile)]


def _cached_snapshot(downloader: Downloader, revision: str, folder: Path | None) -> Path | None:
    """The snapshot (or `local_dir`) already on disk for `revision`, if any."""
    if folder is not None:
        return folder if folder.is_dir() and any(folder.iterdir()) else None
    commit = downloader.cache.commit_for(revision)
    if commit is not None and downloader.cache.snapshot_path(commit).is_dir():
        return downloader.cache.snapshot_path(commit)
    return None


def _unlisted(downloader: Downloader, revision: str, error: Exception) -> Exception:
    """The exception to raise when the hub could not list the files and none are on disk."""
    what = f"No snapshot of {downloader.repo_id} at {revision!r} is in the local cache"
    if downloader.offline:
        return LocalEntryNotFoundError(
            f"{what}, and offline mode (local_files_only or HF_HUB_OFFLINE) keeps the hub out of "
            "it."
        )
    if is_refusal(error):
        return error
    return LocalEntryNotFoundError(
        f"{what}, and the hub could not list the files ({type(error).__name__}: {error}). "
        "Check your connection and HF_ENDPOINT, then try again."
    )


def _known_metadata(
    downloader: Downloader, entry: RepoFile, commit: str, options: TransferOptions
) -> FileMetadata | None:
    """A file's metadata from the listing, or None to HEAD it first.

    A file fetched in several ranges is HEADed once, so the ranges go straight to the blob URL
    instead of each being redirected there.
    """
    size = _size(entry)
    if len(options.chunks(0, size)) > 1 and options.connections > 1:
        return None
    etag = entry.lfs.sha256 if entry.lfs else entry.blob_id
    return FileMetadata(commit, etag, downloader.url(entry.path, commit), size)


def _size(entry: RepoFile) -> int:
    return entry.lfs.size if entry.lfs else entry.size
