"""A clock that moves only when a test says so, for services built with `build_services(clock=)`.

Leases, due times, retry delays and expiries are measured on it, so a test that needs a lease
to run out or a retry to come due calls `advance` instead of sleeping: the outcome never
depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dt
import threading


class ManualClock:
    """The current UTC time as far as the services know: it changes only with `advance`.

    It starts at the real time of its creation, so that whatever outside the hub works in real
    time (arq defers a message until a job's due time) sees times that make sense. It may be
    read from any thread.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock `seconds` forward; the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now
