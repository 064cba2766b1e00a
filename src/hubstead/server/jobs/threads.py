"""In-process job execution: a few background threads that run due jobs.

`hubstead serve` runs jobs this way unless a Redis queue is configured, and `hubstead worker`
does when there is none. The threads wake as soon as a job is queued in this process, and
otherwise look for due jobs (queued by other processes, retries coming due, jobs whose worker
died) at least every `poll_seconds` of real time. When the next job is due is measured on the
job service's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from types import TracebackType

from hubstead.server.domain.jobs import JobRecord
from hubstead.server.jobs.runner import JobRunner

logger = logging.getLogger("hubstead.jobs")

_MIN_WAIT = 0.05


class JobThreads:
    """`threads` threads running `runner.run_once` until `stop`; a context manager."""

    def __init__(self, runner: JobRunner, *, threads: int = 1, poll_seconds: float = 5.0) -> None:
        self.runner = runner
        self._poll = poll_seconds
        self._wakeup = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"hubstead-jobs-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> JobThreads:
        """Start the threads."""
        self.runner.jobs.subscribe(self.wake)
        for thread in self._threads:
            thread.start()
        return self

    def wake(self, _job: JobRecord | None = None) -> None:
        """Look for due jobs now (a job listener: called when a job is queued)."""
        self._wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask running handlers to stop, and wait up to `timeout` seconds for the threads.

        A handler that does not stop in time is left to finish in its daemon thread; if the
        process exits first, its lease expires and another worker runs the job again.
        """
        self.runner.jobs.unsubscribe(self.wake)
        self.runner.stop()
        self._wakeup.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def __enter__(self) -> JobThreads:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self.runner.stopping:
            # Cleared before claiming: a job queued from now on sets it again and is not missed.
            self._wakeup.clear()
            if self.runner.run_once() is None and not self.runner.stopping:
                self._wakeup.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        """Seconds until the next job is due, at most `poll_seconds`."""
        try:
            due = self.runner.jobs.next_due()
        except Exception:
            logger.exception("could not look for due jobs")
            return self._poll
        if due is None:
            return self._poll
        seconds = (due - self.runner.jobs.now()) / dt.timedelta(seconds=1)
        return min(self._poll, max(_MIN_WAIT, seconds))
