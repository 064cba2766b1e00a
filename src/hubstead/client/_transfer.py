"""The download engine: fetch a file's bytes fast, and prove they are right while they arrive.

`Transfer` assembles a file in its `.incomplete` path. A large file is cut into chunks fetched
by several connections at once (HTTP ranges, written in place into one preallocated file, read
from sockets straight into a buffer: see `_bodies.py`); a small one, or one from a server that
answers a range with 200, comes in a single stream. The bytes are verified while they arrive,
not in a second pass: the digest (sha256 for an LFS etag, the git blob sha1 for a regular file)
follows the contiguous prefix of the file as it fills in, in a thread of its own that reads back
from the page cache what the connections wrote. A download resumes from an existing
`.incomplete`: its bytes are hashed as they are read back, and if the final digest does not
match, the file is fetched again from scratch. Unverified bytes never leave the `.incomplete`
path. Every request is retried with backoff on connection errors, 429 and 5xx, resuming where
it stopped; an interrupted download keeps its contiguous prefix for the next attempt.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import re
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from hubstead.client._bodies import Body, HttpxBody, SocketPool, is_redirect, sockets_usable
from hubstead.client._config import ClientConfig
from hubstead.client._digests import EtagVerifier
from hubstead.client._http import (
    RETRY_STATUSES,
    HubSession,
    announce_retry,
    backoff,
    raise_for_status,
    retry_delay,
)
from hubstead.client._progress import Progress
from hubstead.errors import HfHubHTTPError, IntegrityError

MiB = 1024 * 1024
DEFAULT_CONNECTIONS = 8
MIN_CHUNK_SIZE = 16 * MiB
MAX_CHUNK_SIZE = 256 * MiB
_CHUNKS_PER_CONNECTION = 4  # more chunks than connections: a slow connection delays less
_HASH_BLOCK = 8 * MiB
_INLINE_LIMIT = 8 * MiB  # smaller files come in one stream, hashed without extra threads
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclasses.dataclass(frozen=True)
class TransferOptions:
    """How many connections a large file is fetched with, and in which chunk size.

    Args:
        connections: parallel range requests per file (1: a single stream).
        chunk_size: bytes per range request; None chooses from the file size (at least 16 MiB,
            about four chunks per connection, at most 256 MiB).
        sockets: read large files with `http.client` where it behaves as httpx would (False:
            always httpx).
    """

    connections: int = DEFAULT_CONNECTIONS
    chunk_size: int | None = None
    sockets: bool = True

    @classmethod
    def resolve(
        cls, connections: int | None, chunk_size: int | None, config: ClientConfig
    ) -> TransferOptions:
        """Options from the arguments, else from the client's configuration.

        Raises:
            ValueError: a value that is not a positive integer.
        """
        options = cls(
            connections or config.download_connections or DEFAULT_CONNECTIONS,
            chunk_size if chunk_size is not None else config.download_chunk_size,
        )
        if options.connections < 1 or (options.chunk_size is not None and options.chunk_size < 1):
            raise ValueError(f"connections and chunk_size must be positive: {options}")
        return options

    def chunks(self, start: int, size: int) -> list[tuple[int, int]]:
        """The inclusive byte ranges that fetch `start..size-1`."""
        remaining = size - start
        chunk = self.chunk_size or min(
            MAX_CHUNK_SIZE,
            max(MIN_CHUNK_SIZE, math.ceil(remaining / (self.connections * _CHUNKS_PER_CONNECTION))),
        )
        return [(s, min(s + chunk, size) - 1) for s in range(start, size, chunk)]


@dataclasses.dataclass
class _Chunk:
    start: int
    end: int  # inclusive
    written: int = 0

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class _RangesIgnored(Exception):
    """The server answered a range request with the whole file."""


class Transfer:
    """One file fetched from `url` into `path` (its `.incomplete` file), verified.

    Args:
        session: the hub session (auth only to the hub's host, retry policy).
        url: where the bytes are (the resolve URL or the blob it redirects to).
        path: the `.incomplete` file; resumed if it exists.
        etag: the file's etag (its sha256 or git blob sha1).
        size: the file's size, if known (needed for parallel ranges).
        name: the file's name, for messages.
    """

    def __init__(
        self,
        session: HubSession,
        url: str,
        path: Path,
        *,
        etag: str,
        size: int | None,
        name: str,
        token: str | bool | None = None,
        headers: Mapping[str, str] | None = None,
        options: TransferOptions | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.session = session
        self.url = url
        self.path = path
        self.size = size
        self.name = name
        self.token = token
        self.headers = {**(headers or {}), "Accept-Encoding": "identity"}
        self.options = options or TransferOptions()
        self.progress: Progress = progress or (lambda _: None)
        self.verifier = EtagVerifier(etag, size)
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._sockets: SocketPool | None = None
        self._hash_buffer: memoryview | None = None

    def run(self) -> None:
        """Fetch and verify; afterwards `path` holds exactly the file.

        Raises:
            IntegrityError: the bytes do not match the etag, even fetched afresh (removed).
            HfHubHTTPError: the server refused a request.
            httpx.TransportError: the connection failed beyond the retries.
        """
        resumed = self._attempt(resume=True)
        problem = self.verifier.problem()
        if problem is not None and resumed:
            # The partial file on disk was wrong (or overwritten): fetch it all again.
            self._attempt(resume=False)
            problem = self.verifier.problem()
        if problem is not None:
            self.path.unlink(missing_ok=True)
            raise IntegrityError(f"Download of {self.name} from {self.url} is corrupt: {problem}")

    def _attempt(self, *, resume: bool) -> bool:
        """One pass over the file; True if it started from bytes already on disk."""
        self.verifier.reset()
        self._stop.clear()
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            start = os.fstat(descriptor).st_size if resume else 0
            if self.size is not None and start > self.size:
                start = 0
            if start == 0:
                os.ftruncate(descriptor, 0)
            if self.size is not None and start == self.size:
                self.progress(start)
                self._hash_from_disk(descriptor, 0, start)
                return start > 0
            if self.size is None or self.size - start <= _INLINE_LIMIT:
                self._inline(descriptor, start)
            else:
                self._threaded(descriptor, start)
            return start > 0
        finally:
            os.close(descriptor)

    # --- small files: one stream, hashed as it arrives ------------------------------------------

    def _inline(self, descriptor: int, start: int) -> None:
        """Fetch from `start` to the end in one stream, hashing inline; resumes on failure.

        No thread is started, which keeps a snapshot of many small files cheap. The bytes already
        on disk are hashed once the server has agreed to send the rest.
        """
        response: Body | None = None
        self.progress(start)
        offset, attempt, prefix_pending = start, 0, start > 0
        while True:
            try:
                if response is None:
                    response = self._open(offset, None)
                if response.status_code == 200 and offset:
                    # The server ignores ranges: start over from byte 0.
                    os.ftruncate(descriptor, 0)
                    self.verifier.reset()
                    self.progress(-offset)
                    offset, prefix_pending = 0, False
                elif response.status_code == 206:
                    _check_content_range(response, offset)
                if prefix_pending:
                    self._hash_from_disk(descriptor, 0, start)
                    prefix_pending = False
                for data in response.pieces():
                    _write(descriptor, data, offset)
                    self.verifier.update(data)
                    offset += len(data)
                    self.progress(len(data))
                if self.size is not None and offset < self.size:
                    raise httpx.RemoteProtocolError(f"{self.name}: the body ended at byte {offset}")
                return
            except httpx.TransportError as exc:
                if not self._may_retry(attempt, exc):
                    raise
                attempt += 1
            finally:
                if response is not None:
                    response.close()
                    response = None

    # --- large files: connections receive, this thread hashes ----------------------------------

    def _threaded(self, descriptor: int, start: int) -> None:
        """Fetch in chunks (several connections) or one stream, in worker threads.

        Meanwhile this thread hashes the contiguous prefix of the file as it fills in, reading
        back what the workers wrote (from the page cache), so hashing and receiving overlap.
        """
        assert self.size is not None
        plan = self.options.chunks(start, self.size)
        if self.options.connections == 1:
            plan = [(start, self.size - 1)]
        chunks = [_Chunk(first, last) for first, last in plan]
        if self.options.sockets and sockets_usable(self.session, self.url):
            self._sockets = SocketPool(self.session)
        sockets = self._sockets
        try:
            self._fetch_chunks(descriptor, start, chunks)
        finally:
            self._sockets = None
            if sockets is not None:
                sockets.close()

    def _fetch_chunks(self, descriptor: int, start: int, chunks: list[_Chunk]) -> None:
        assert self.size is not None
        probe = self._open(start, chunks[0].end if len(chunks) > 1 else None)
        try:
            if probe.status_code == 200:
                # The whole file (asked for, or the server ignores ranges): one stream.
                start, chunks = 0, [_Chunk(0, self.size - 1)]
                os.ftruncate(descriptor, 0)
            else:
                _check_content_range(probe, start)
            if len(chunks) > 1:
                _preallocate(descriptor, self.size)
        except BaseException:
            probe.close()
            raise
        self.progress(start)
        workers = min(self.options.connections, len(chunks))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="hubstead-download")
        futures: list[Future[None]] = []
        try:
            futures.append(pool.submit(self._worker, descriptor, chunks[0], probe))
            futures.extend(pool.submit(self._worker, descriptor, c, None) for c in chunks[1:])
            hashed = 0
            while hashed < self.size:
                frontier = self._wait_for_progress(chunks, hashed, futures)
                hashed = self._hash_from_disk(descriptor, hashed, frontier)
            for future in futures:
                future.result()
        except BaseException:
            # Stop the connections, then keep only the prefix they completed, for a resume.
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            os.ftruncate(descriptor, _frontier(chunks, self.size))
            raise
        finally:
            pool.shutdown(wait=True)

    def _wait_for_progress(
        self, chunks: list[_Chunk], hashed: int, futures: list[Future[None]]
    ) -> int:
        """Block until a block more of contiguous prefix is written; re-raise a worker's failure."""
        assert self.size is not None
        wanted = min(hashed + _HASH_BLOCK, self.size)
        with self._changed:
            while (frontier := _frontier(chunks, self.size)) < wanted:
                for future in futures:
                    if future.done() and future.exception() is not None:
                        future.result()
                self._changed.wait(timeout=1.0)
        return frontier

    def _worker(self, descriptor: int, chunk: _Chunk, response: Body | None) -> None:
        try:
            self._fetch_chunk(descriptor, chunk, response)
        finally:
            with self._changed:
                self._changed.notify_all()

    def _fetch_chunk(self, descriptor: int, chunk: _Chunk, response: Body | None) -> None:
        """Fetch one chunk, resuming within it after a failure."""
        attempt = 0
        while chunk.written < chunk.length and not self._stop.is_set():
            try:
                if response is None:
                    response = self._open(chunk.start + chunk.written, chunk.end)
                    if response.status_code != 206:
                        raise _RangesIgnored
                    _check_content_range(response, chunk.start + chunk.written)
                for data in response.pieces():
                    if self._stop.is_set():
                        return
                    piece = data[: chunk.length - chunk.written]
                    _write(descriptor, piece, chunk.start + chunk.written)
                    before, chunk.written = chunk.written, chunk.written + len(piece)
                    if chunk.written == chunk.length or (
                        before // _HASH_BLOCK != chunk.written // _HASH_BLOCK
                    ):
                        # Wake the hasher only when a whole block more may be ready.
                        with self._changed:
                            self._changed.notify_all()
                    self.progress(len(piece))
                    if chunk.written == chunk.length:
                        break
                if chunk.written < chunk.length:
                    raise httpx.RemoteProtocolError(
                        f"{self.name}: range {chunk.start}-{chunk.end} ended early"
                    )
            except httpx.TransportError as exc:
                if not self._may_retry(attempt, exc):
                    raise
                attempt += 1
            except _RangesIgnored:
                # Not the response itself: reading its body would read the whole file.
                raise HfHubHTTPError(
                    f"{self.url} stopped honouring range requests while downloading {self.name}"
                ) from None
            finally:
                if response is not None:
                    response.close()
                    response = None

    # --- plumbing -----------------------------------------------------------------------------

    def _open(self, start: int, end: int | None) -> Body:
        """Send the GET (with a Range unless it is the whole file); the caller closes it.

        Connection errors, 429 and 5xx are retried with backoff (honouring Retry-After).

        Raises:
            HfHubHTTPError: the server refused (after the retries, for 429 and 5xx).
            httpx.TransportError: the connection failed on every attempt.
        """
        headers = dict(self.headers)
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        attempt = 0
        while True:
            try:
                response = self._send(headers)
            except httpx.TransportError as exc:
                if not self._may_retry(attempt, exc):
                    raise
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.session.max_retries:
                delay = retry_delay(response.response(), attempt)
                response.close()
                attempt += 1
                self._announce(f"HTTP {response.status_code}", delay, attempt)
                self._pause(delay)
                continue
            if response.status_code >= 400:
                failed = response.response()
                response.close()
                raise_for_status(failed, f"download {self.name}")
            return response

    def _send(self, headers: dict[str, str]) -> Body:
        """One GET: through this transfer's sockets when it has them, else through httpx."""
        sockets = self._sockets
        if sockets is not None:
            body = sockets.get(self.url, headers, self.token)
            if not is_redirect(body.status_code):
                return body
            # Redirects are httpx's to follow (it drops the token on the way to another host);
            # the other workers switch too. The pool's idle connections close at the end.
            body.close()
            self._sockets = None
        return HttpxBody(self.session.stream("GET", self.url, token=self.token, headers=headers))

    def _may_retry(self, attempt: int, error: httpx.TransportError) -> bool:
        """Wait before attempt `attempt + 1` and say yes, or say no if none is left."""
        if attempt >= self.session.max_retries or self._stop.is_set():
            return False
        delay = backoff(attempt)
        self._announce(f"{type(error).__name__}: {error}", delay, attempt + 1)
        self._pause(delay)
        return True

    def _announce(self, reason: str, delay: float, attempt: int) -> None:
        announce_retry(f"Download of {self.name}", reason, delay, attempt, self.session.max_retries)

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _hash_from_disk(self, descriptor: int, start: int, end: int) -> int:
        """Hash bytes `start..end-1` of the file as written; return `end`."""
        if self._hash_buffer is None:
            # One buffer for the whole download: a fresh 8 MiB per read costs page faults.
            self._hash_buffer = memoryview(bytearray(_HASH_BLOCK))
        offset = start
        while offset < end:
            view = self._hash_buffer[: min(_HASH_BLOCK, end - offset)]
            count = os.preadv(descriptor, [view], offset)
            if not count:
                raise IntegrityError(f"{self.path} shrank while {self.name} was downloading")
            self.verifier.update(view[:count])
            offset += count
        return end


def _write(descriptor: int, data: bytes | memoryview, offset: int) -> None:
    """Write all of `data` at `offset` (`pwrite` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(descriptor, view, offset)
        view, offset = view[written:], offset + written


def _frontier(chunks: list[_Chunk], size: int) -> int:
    """How many bytes from the first chunk's start on are written without a gap."""
    for chunk in chunks:
        if chunk.written < chunk.length:
            return chunk.start + chunk.written
    return size


def _check_content_range(response: Body, start: int) -> None:
    found = response.header("content-range")
    match = _CONTENT_RANGE.match(found or "")
    if match is None or int(match.group(1)) != start:
        raise httpx.RemoteProtocolError(
            f"asked for bytes from {start}, got Content-Range {found!r}"
        )


def _preallocate(descriptor: int, size: int) -> None:
    """Reserve the whole file up front (fails early when the disk is too small)."""
    try:
        os.posix_fallocate(descriptor, 0, size)
    except (AttributeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:  # say so now, not halfway
            raise
        os.ftruncate(descriptor, max(size, os.fstat(descriptor).st_size))
