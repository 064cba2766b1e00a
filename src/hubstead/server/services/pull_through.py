"""Pull-through downloads: an LFS file of an on-demand mirror, fetched from upstream as it is read.

The first download of an object that an on-demand mirror does not hold yet (not linked to it,
even if another repo stored the same digest) starts one fetch from upstream, in a background
thread that holds the lock of that repo's fetch of that object (`FetchArea`: shared by every
process on the data dir). The fetch writes the bytes to a spool file as they arrive, and to a
blob writer that keeps them only once their sha256 is verified. Every reader of the object, the
one that started the fetch as well as any other in any process, follows the spool file, so one
upstream transfer serves them all. The last byte is held back until the object is verified and
stored: a client never receives the whole of wrong bytes. A reader whose fetch failed reports
why; a reader that followed someone else's failed fetch tries once itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.syncs import SyncService
from hubstead.server.services.upstreams import Source, WantedObject, store_verified, wrong_bytes
from hubstead.server.storage.blobs import BlobStore
from hubstead.server.storage.errors import BlobMismatchError
from hubstead.server.storage.fetches import FetchArea, HeldLock
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.mirrors import MirrorStore

logger = logging.getLogger("hubstead.mirror")

_PIECE = 1024 * 1024
_POLL_SECONDS = 0.02
_STALL_SECONDS = 120.0


class PullThroughService:
    """Serves LFS objects of on-demand mirrors, fetching each from upstream once."""

    def __init__(
        self,
        store: MirrorStore,
        syncs: SyncService,
        blobs: BlobStore,
        index: LfsIndex,
        area: FetchArea,
    ) -> None:
        self._store = store
        self._syncs = syncs
        self._blobs = blobs
        self._index = index
        self._area = area

    def pending(self, repo: RepoRecord, path: str, sha256: str, size: int) -> bool:
        """Whether the object must be fetched from upstream before it can be served.

        True for an on-demand mirror that does not hold it yet. Holding means the object is
        linked to the repo: bytes another repo stored under that digest do not count, since a
        pointer (which upstream writes) is no proof of having them; they are fetched and
        verified, then linked.

        Raises:
            NotFoundError: a registered mirror that does not hold it (its include/exclude
                patterns leave the file out, or no sync fetched it yet).
        """
        if self._holds(repo, sha256, size):
            return False
        mirror = self._store.get(repo.id)
        if mirror is None:
            return False
        if not mirror.on_demand:
            raise errors.NotFoundError(
                f"{path} ({size} bytes) of {repo.repo_id} is not on this mirror: its "
                "include/exclude patterns leave it out, or no sync has fetched it yet"
            )
        return True

    def stream(
        self,
        repo: RepoRecord,
        commit_id: str,
        path: str,
        sha256: str,
        size: int,
        start: int,
        end: int,
    ) -> Iterator[bytes]:
        """Bytes `start` to `end` (inclusive) of an object `pending` said to fetch.

        Nothing runs until the first item is asked for; failures before the first bytes are
        raised then, so the caller can still answer with an error status.

        Raises:
            UpstreamUnavailableError: upstream cannot be reached, stalled, or sent wrong bytes.
            UpstreamNotFoundError, UpstreamDeniedError: see `Upstream.download`.
            LocalStorageError: the blob store could not be written.
            NotFoundError: the repo is no longer a mirror.
        """
        mirror = self._store.get(repo.id)
        if mirror is None:
            raise errors.NotFoundError(f"{repo.repo_id} is no longer a mirror")
        source = self._syncs.source(mirror)
        return self._follow(repo, source, WantedObject(sha256, size, commit_id, path), start, end)

    def _follow(
        self, repo: RepoRecord, source: Source, obj: WantedObject, start: int, end: int
    ) -> Iterator[bytes]:
        # Per repo and object: another repo's fetch of the same digest (from another upstream)
        # is no proof that this repo's upstream has those bytes, so it is not followed.
        lock = _fetch_name(repo, obj)
        position = start
        fetch: Future[None] | None = None
        progress_at = time.monotonic()
        while position <= end:
            if self._holds(repo, obj.sha256, obj.size):
                yield from self._stored(obj.sha256, position, end)
                return
            # The last byte of the object waits for it to be verified and stored.
            limit = min(end, obj.size - 2) + 1 - position
            data = self._area.read_spool(lock, position, min(limit, _PIECE)) if limit else b""
            if data:
                position += len(data)
                progress_at = time.monotonic()
                yield data
                continue
            if fetch is not None and fetch.done():
                if not self._holds(repo, obj.sha256, obj.size):
                    raise _failure(fetch, obj)
                continue
            if fetch is None and not self._area.locked(lock):
                held = self._area.try_lock(lock)
                if held is not None:
                    fetch = self._start(held, repo, source, obj)
                    progress_at = time.monotonic()
                continue
            if time.monotonic() - progress_at > _STALL_SECONDS:
                raise errors.UpstreamUnavailableError(
                    f"The download of {obj.path} from {source.endpoint} stalled"
                )
            time.sleep(_POLL_SECONDS)

    def _holds(self, repo: RepoRecord, sha256: str, size: int) -> bool:
        """Whether the object is stored and linked to the repo (verified for it)."""
        return self._index.linked_size(repo.id, sha256) == size == self._blobs.size(sha256)

    def _stored(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        with self._blobs.open(sha256) as file:
            file.seek(start)
            remaining = end + 1 - start
            while remaining > 0 and (chunk := file.read(min(_PIECE, remaining))):
                remaining -= len(chunk)
                yield chunk

    def _start(
        self, held: HeldLock, repo: RepoRecord, source: Source, obj: WantedObject
    ) -> Future[None]:
        """Fetch the object in a thread of its own, so it completes if its readers leave."""
        future: Future[None] = Future()

        def run() -> None:
            try:
                if not self._holds(repo, obj.sha256, obj.size):  # fetched while we took the lock
                    self._fetch(repo, source, obj)
                future.set_result(None)
            except BaseException as exc:
                logger.warning("pull-through of %s (%s) failed: %s", obj.path, obj.sha256, exc)
                future.set_exception(exc)
            finally:
                self._area.drop_spool(_fetch_name(repo, obj))
                held.release()

        threading.Thread(target=run, name=f"hubstead-pull-{obj.sha256[:12]}", daemon=True).start()
        return future

    def _fetch(self, repo: RepoRecord, source: Source, obj: WantedObject) -> None:
        try:
            writer = self._blobs.writer(obj.sha256, obj.size)
            try:
                with (
                    self._area.spool(_fetch_name(repo, obj)) as spool,
                    self._syncs.upstream.download(source, obj.commit_id, obj.path) as chunks,
                ):
                    for chunk in chunks:
                        try:
                            writer.write(chunk)
                        except BlobMismatchError as exc:
                            raise wrong_bytes(obj, exc) from None
                        spool.write(chunk)
            except BaseException:
                writer.abort()
                raise
            store_verified(self._index, repo, obj, writer.commit)
        except OSError as exc:  # upstream failures arrive as UpstreamErrors: this is our disk
            raise errors.LocalStorageError(
                f"Cannot store {obj.path} ({obj.sha256}): {exc}"
            ) from exc


def _fetch_name(repo: RepoRecord, obj: WantedObject) -> str:
    """The name of the lock and spool of one repo's fetch of one object."""
    return f"object-{repo.id}-{obj.sha256}"


def _failure(fetch: Future[None], obj: WantedObject) -> errors.HubError:
    exc = fetch.exception()
    if isinstance(exc, errors.HubError):
        return exc
    return errors.UpstreamUnavailableError(
        f"The download of {obj.path} from upstream failed: {exc}"
    )
