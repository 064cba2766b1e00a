"""Sliding-window counters of failed attempts, kept in this process's memory.

Each key (an account name, a client address) remembers the times of its recent failures; a
key with `limit` failures in the last `window` seconds is refused until the oldest of them
leaves the window. Being in memory, the counts are per server process and start again at a
restart (docs/security.md says what that means behind several processes). That is deliberate,
`serve --workers N` included: a shared counter would cost a database write per failed sign-in,
and N processes only multiply the limit by N.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

# Keys idle for a whole window are forgotten when this many are held, so that a flood of
# addresses cannot grow the table without bound.
_PRUNE_AT = 10_000


class SlidingWindow:
    """Failures per key within the last `window` seconds, against a limit."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        times = self._failures.setdefault(key, collections.deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        return times

    def exhausted(self, key: str) -> bool:
        """Whether `key` has used up its failures in the window."""
        with self._lock:
            return len(self._recent(key, self._clock())) >= self._limit

    def fail(self, key: str) -> None:
        """Count one failure for `key` now."""
        with self._lock:
            now = self._clock()
            if len(self._failures) >= _PRUNE_AT:
                for idle in [k for k, t in self._failures.items() if not self._recent(k, now)]:
                    del self._failures[idle]
            self._recent(key, now).append(now)
