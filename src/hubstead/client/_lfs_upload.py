"""LFS uploads: the batch API, then a `basic` or `multipart` transfer, then verify.

Files are hashed in a pool of threads; each time some hashes are ready, they are sent to the
batch API together, and the objects the hub does not hold yet start uploading while the next
files are still being hashed. A multipart object's parts go up in parallel, each read from the
file at its own offset and retried with backoff; parts the hub already received (an earlier,
interrupted attempt) are skipped. Transfer URLs are pre-signed: no `Authorization` goes to them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from hubstead.client._http import HubSession
from hubstead.client._progress import Progress, ProgressBars
from hubstead.client._upload_sources import UploadSource
from hubstead.client._urls import repo_type_of, validate_repo_id
from hubstead.errors import HfHubHTTPError

LFS_JSON = "application/vnd.git-lfs+json"
LFS_HEADERS = {"Accept": LFS_JSON, "Content-Type": LFS_JSON}
BATCH_OBJECTS = 256
_HASH_WORKERS = max(1, min(4, os.cpu_count() or 1))
_POLL_SECONDS = 0.2


class UploadCancelledError(Exception):
    """`LfsUploader.cancel` was called: the upload stopped early."""


@dataclasses.dataclass
class LfsFile:
    """A file to store through LFS; `sha256` is filled in once it is hashed."""

    path_in_repo: str
    source: UploadSource
    sha256: str | None = None


class _Body:
    """A request body that re-reads its bytes from the source each time it is sent.

    httpx iterates the body once per attempt, so a retried request sends the bytes again
    without them ever being held in memory; the progress bar takes back what a failed attempt
    had counted.
    """

    def __init__(self, source: UploadSource, offset: int, length: int, progress: Progress):
        self._source = source
        self._offset = offset
        self._length = length
        self._progress = progress
        self._counted = 0

    def __iter__(self) -> Iterator[bytes]:
        self._progress(-self._counted)
        self._counted = 0
        for chunk in self._source.chunks(self._offset, self._length):
            yield chunk
            self._counted += len(chunk)
            self._progress(len(chunk))


class LfsUploader:
    """Stores files in a repo's LFS storage, ready to be committed.

    Args:
        session: the hub session (its token goes to the batch and verify endpoints only).
        repo_id, repo_type, revision: the repo (and branch) the objects are for.
        token: the token for this call (`None`: the session's).
        num_workers: objects (and, separately, parts) in flight at once.
        progress_bars: draw a progress bar (the caller decides: see `_progress.bars_enabled`).
    """

    def __init__(
        self,
        session: HubSession,
        repo_id: str,
        *,
        repo_type: str | None,
        revision: str | None,
        token: str | bool | None = None,
        num_workers: int = 5,
        progress_bars: bool = True,
    ) -> None:
        prefix = repo_type_of(repo_type).url_prefix
        self._batch_url = session.url(
            f"{prefix}{validate_repo_id(repo_id)}.git/info/lfs/objects/batch"
        )
        self._session = session
        self._revision = revision
        self._token = token
        self._num_workers = max(1, num_workers)
        self._progress_bars = progress_bars
        self._lock = threading.Lock()
        # Files waiting for an object in flight, by oid; None once the object is stored.
        self._objects: dict[str, list[LfsFile] | None] = {}
        self._cancelled = threading.Event()

    def upload(
        self, files: Sequence[LfsFile], on_stored: Callable[[LfsFile], None] | None = None
    ) -> None:
        """Hash (where needed) and store every file; `on_stored(file)` as each one is stored.

        `on_stored` may be called from worker threads. On the first failure, uploads not
        started are cancelled, those in flight finish, and the failure is raised.

        Raises:
            HfHubHTTPError: a step was refused (the message names it, with the hub's answer).
            httpx.TransportError: the hub could not be reached.
            OSError: a file could not be read.
        """
        if not files:
            return
        total = sum(f.source.size for f in files)
        description = f"Uploading {len(files)} LFS file{'s' if len(files) > 1 else ''}"
        with ProgressBars(self._progress_bars) as bars:
            progress = bars.file(description, total)
            hashers = ThreadPoolExecutor(_HASH_WORKERS, thread_name_prefix="lfs-hash")
            movers = ThreadPoolExecutor(self._num_workers, thread_name_prefix="lfs-upload")
            self._parts = ThreadPoolExecutor(self._num_workers, thread_name_prefix="lfs-part")
            try:
                self._run(files, on_stored or _ignore, hashers, movers, progress)
            finally:
                for pool in (hashers, movers, self._parts):
                    pool.shutdown(wait=True, cancel_futures=True)

    def cancel(self) -> None:
        """Start no more uploads; `upload` raises `UploadCancelledError` once in-flight ones end."""
        self._cancelled.set()

    def _run(
        self,
        files: Sequence[LfsFile],
        on_stored: Callable[[LfsFile], None],
        hashers: ThreadPoolExecutor,
        movers: ThreadPoolExecutor,
        progress: Progress,
    ) -> None:
        hashing: dict[Future[str], LfsFile] = {
            hashers.submit(f.source.sha256): f for f in files if f.sha256 is None
        }
        ready = [f for f in files if f.sha256 is not None]
        transfers: set[Future[None]] = set()
        while ready or hashing or transfers:
            if self._cancelled.is_set():
                raise UploadCancelledError
            if ready:
                group, ready = ready[:BATCH_OBJECTS], ready[BATCH_OBJECTS:]
                for file, item in self._batch(self._new_objects(group, on_stored)):
                    transfers.add(movers.submit(self._transfer, file, item, on_stored, progress))
                continue
            pending: list[Future[Any]] = [*hashing, *transfers]
            done, _ = wait(pending, _POLL_SECONDS, FIRST_COMPLETED)
            for future in done:
                if future in hashing:
                    file = hashing.pop(future)
                    file.sha256 = future.result()
                    ready.append(file)
                else:
                    transfers.discard(future)
                    future.result()

    def _new_objects(
        self, group: list[LfsFile], on_stored: Callable[[LfsFile], None]
    ) -> list[LfsFile]:
        """The files of `group` whose object is not already on its way (one upload per oid)."""
        new = []
        for file in group:
            assert file.sha256 is not None
            with self._lock:
                if file.sha256 not in self._objects:
                    self._objects[file.sha256] = [file]
                    new.append(file)
                    continue
                waiting = self._objects[file.sha256]
                if waiting is not None:
                    waiting.append(file)  # told when the upload in flight ends
                    continue
            on_stored(file)  # the same content was stored earlier in this upload
        return new

    def _batch(self, files: list[LfsFile]) -> list[tuple[LfsFile, dict[str, Any]]]:
        """Ask the batch API what to do with each object."""
        if not files:
            return []
        body: dict[str, Any] = {
            "operation": "upload",
            "transfers": ["basic", "multipart"],
            "objects": [{"oid": f.sha256, "size": f.source.size} for f in files],
            "hash_algo": "sha256",
        }
        if self._revision is not None:
            body["ref"] = {"name": self._revision}
        response = self._session.send(
            "POST",
            self._batch_url,
            action="get LFS upload instructions (batch)",
            json=body,
            headers=LFS_HEADERS,
            token=self._token,
        )
        answers = response.json().get("objects")
        if not isinstance(answers, list):
            raise HfHubHTTPError("Malformed LFS batch answer: no 'objects'", response=response)
        by_oid = {a.get("oid"): a for a in answers if isinstance(a, dict)}
        planned = []
        for file in files:
            item = by_oid.get(file.sha256)
            if item is None:
                raise HfHubHTTPError(
                    f"The LFS batch answer says nothing about {file.path_in_repo}",
                    response=response,
                )
            error = item.get("error")
            if isinstance(error, dict):
                message = str(error.get("message"))
                raise HfHubHTTPError(
                    f"The hub refused to store {file.path_in_repo} through LFS: {message} "
                    f"(code {error.get('code')})",
                    response=response,
                    server_message=message,
                )
            planned.append((file, item))
        return planned

    def _transfer(
        self,
        file: LfsFile,
        item: dict[str, Any],
        on_stored: Callable[[LfsFile], None],
        progress: Progress,
    ) -> None:
        actions = item.get("actions") or {}
        upload, verify = actions.get("upload"), actions.get("verify")
        if upload is None:
            progress(file.source.size)  # the hub already holds it
        else:
            header = {str(k): str(v) for k, v in (upload.get("header") or {}).items()}
            if "chunk_size" in header:
                self._multipart(file, str(upload["href"]), header, progress)
            else:
                self._basic(file, str(upload["href"]), header, progress)
        if verify is not None:
            verify_header = {str(k): str(v) for k, v in (verify.get("header") or {}).items()}
            self._session.send(
                "POST",
                str(verify["href"]),
                action=f"verify the LFS upload of {file.path_in_repo}",
                json={"oid": file.sha256, "size": file.source.size},
                headers={**LFS_HEADERS, **verify_header},
                token=self._token,
            )
        assert file.sha256 is not None
        with self._lock:
            waiting = self._objects.get(file.sha256) or [file]
            self._objects[file.sha256] = None
        for stored in waiting:
            on_stored(stored)

    def _basic(self, file: LfsFile, href: str, header: dict[str, str], progress: Progress) -> None:
        size = file.source.size
        self._session.send(
            "PUT",
            href,
            action=f"upload {file.path_in_repo} to LFS storage",
            content=_Body(file.source, 0, size, progress),
            headers={**header, "Content-Length": str(size)},
            token=False,
        )

    def _multipart(
        self, file: LfsFile, href: str, header: dict[str, str], progress: Progress
    ) -> None:
        size = file.source.size
        chunk_size = int(header["chunk_size"])
        urls = sorted((int(k), v) for k, v in header.items() if k.isdigit())
        total = len(urls)
        if chunk_size <= 0 or total != math.ceil(size / chunk_size):
            raise HfHubHTTPError(
                f"Malformed multipart instructions for {file.path_in_repo}: {total} parts of "
                f"{chunk_size} bytes for {size} bytes"
            )
        received = self._received_parts(href)
        etags: dict[int, str] = {}
        futures: dict[Future[str], int] = {}
        for number, url in urls:
            offset = (number - 1) * chunk_size
            length = min(chunk_size, size - offset)
            if received.get(number) == length:
                progress(length)
                continue
            part = (number, total, offset, length)
            futures[self._parts.submit(self._put_part, file, url, part, progress)] = number
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                etags[futures[future]] = future.result()
        finally:
            for future in futures:
                future.cancel()
        parts = [{"partNumber": n, "etag": etags.get(n, "")} for n, _ in urls]
        self._session.send(
            "POST",
            href,
            action=f"complete the multipart LFS upload of {file.path_in_repo}",
            json={"oid": file.sha256, "parts": parts},
            headers=LFS_HEADERS,
            token=False,
        )

    def _put_part(
        self,
        file: LfsFile,
        url: str,
        part: tuple[int, int, int, int],
        progress: Progress,
    ) -> str:
        number, total, offset, length = part
        response = self._session.send(
            "PUT",
            url,
            action=f"upload part {number}/{total} of {file.path_in_repo} to LFS storage",
            content=_Body(file.source, offset, length, progress),
            headers={"Content-Length": str(length)},
            token=False,
        )
        return str(response.headers.get("etag", ""))

    def _received_parts(self, href: str) -> dict[int, int]:
        """The parts an earlier attempt left with the hub (empty if it cannot say)."""
        try:
            response = self._session.request(
                "GET", href, token=False, headers={"Accept": LFS_JSON}, retry=False
            )
        except httpx.TransportError:
            return {}
        if response.status_code != 200:
            return {}
        try:
            parts = response.json().get("parts") or []
            return {int(p["partNumber"]): int(p["size"]) for p in parts}
        except (ValueError, TypeError, KeyError, AttributeError):
            return {}


def _ignore(file: LfsFile) -> None:
    """No-op callback."""
