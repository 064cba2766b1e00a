"""A Space's build and run logs: bounded storage, and the buffered writers runners write to.

A runner calls a `LogWriter` (a `LogSink`) from its own threads, once per line of output. The
writer numbers the lines and keeps them in memory until a flush writes them in one transaction:
every second (one shared flusher thread walks the open writers) and when the writer is closed.
What an app prints is bounded twice: each line is cut to `MAX_LINE_BYTES` (marked), and a
writer holds at most `keep` lines between flushes, the store at most `keep` per log, so a flood
of output costs a fixed amount of memory and database, and the last lines are what stays.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import weakref

from hubstead.server.domain.spaces import LogKind, LogLine
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.storage.spaces import SpaceLogStore

logger = logging.getLogger("hubstead.spaces")

MAX_LINE_BYTES = 4096
TRUNCATED = " [line truncated]"
FLUSH_SECONDS = 1.0


def bounded_line(text: str) -> str:
    """The line without its newline, cut to `MAX_LINE_BYTES` of UTF-8 (marked when cut).

    What no database stores is replaced: NULs dropped, lone surrogates (undecodable output) `?`.
    """
    data = text.rstrip("\r\n").replace("\x00", "").encode("utf-8", errors="replace")
    if len(data) <= MAX_LINE_BYTES:
        return data.decode("utf-8")
    return data[:MAX_LINE_BYTES].decode("utf-8", errors="ignore") + TRUNCATED


class LogWriter:
    """Takes one log's lines from any thread; writes them in batches. Call `close` at the end."""

    def __init__(
        self,
        store: SpaceLogStore,
        repo_id: int,
        kind: LogKind,
        *,
        first: int,
        keep: int,
        clock: Clock,
    ) -> None:
        self._store = store
        self._repo_id = repo_id
        self._kind = kind
        self._keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # batches are written in order
        self._pending: collections.deque[LogLine] = collections.deque(maxlen=keep)
        self._next = first
        self._start: int | None = first
        self._recent: collections.deque[str] = collections.deque(maxlen=20)
        self.closed = False

    def __call__(self, text: str) -> None:
        """Add a line (the `LogSink` call)."""
        line = bounded_line(text)
        with self._lock:
            self._pending.append(LogLine(self._next, self._clock(), line))
            self._recent.append(line)
            self._next += 1

    def last_lines(self, count: int = 10) -> list[str]:
        """The last lines written, newest last (for an error message)."""
        with self._lock:
            return list(self._recent)[-count:]

    def flush(self) -> None:
        """Write what is pending, in one transaction."""
        with self._flushing:
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
            if batch:
                self._store.append(self._repo_id, self._kind, batch, self._keep, start=self._start)
                self._start = None

    def close(self) -> None:
        """Flush and stop being flushed."""
        self.closed = True
        self.flush()


class SpaceLogs:
    """Opens writers on fresh logs and reads what they wrote."""

    def __init__(self, store: SpaceLogStore, *, keep: int, clock: Clock = utcnow) -> None:
        self._store = store
        self._keep = keep
        self._clock = clock
        self._open: weakref.WeakSet[LogWriter] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None

    def start(self, repo_id: int, kind: LogKind) -> LogWriter:
        """A writer on a new log that replaces the old one (a new build, a new start of the app).

        The old lines go when the first new ones are written; the numbers go on from the old
        log's, so a follower sees the new lines come.
        """
        first = self._store.next_seq(repo_id, kind)
        writer = LogWriter(
            self._store, repo_id, kind, first=first, keep=self._keep, clock=self._clock
        )
        with self._lock:
            self._open.add(writer)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="hubstead-space-logs", daemon=True
                )
                self._flusher.start()
        return writer

    def lines(
        self, repo_id: int, kind: LogKind, after: int = -1, limit: int = 1000
    ) -> list[LogLine]:
        """Up to `limit` lines numbered above `after`, oldest first."""
        return self._store.lines(repo_id, kind, after, limit)

    def _flush_loop(self) -> None:
        """Flush the open writers every `FLUSH_SECONDS`; end when none is open."""
        while True:
            time.sleep(FLUSH_SECONDS)
            with self._lock:
                writers = [w for w in self._open if not w.closed]
                if not writers:
                    self._flusher = None  # the next `start` starts another
                    return
            for writer in writers:
                try:
                    writer.flush()
                except Exception:  # the database is away: this batch is lost, not the log
                    logger.exception("could not write a Space's log lines")
