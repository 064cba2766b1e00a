"""The outbox thread: the background work that follows hub events, one thread per process.

It turns recorded hub events into webhook deliveries (`services/webhooks/dispatch.py`) and
Space builds (`services/spaces/builds.py`), each reader from its own cursor, and supervises
the Space apps this process started (`SpaceBuilder.supervise`: stop the ones paused, rebuilt
elsewhere or idle). It wakes when a transaction of this process records an event
(`Database.subscribe`), and otherwise every `poll_seconds`, for events recorded by other
processes (a worker's mirror sync, a CLI command) and for idle apps.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from hubstead.server.domain.hub_events import TOPIC
from hubstead.server.services.registry import Services

logger = logging.getLogger("hubstead.outbox")


class OutboxThread:
    """One background thread running the outbox readers and the Space supervisor."""

    def __init__(self, services: Services, *, poll_seconds: float = 5.0) -> None:
        self._services = services
        self._poll = poll_seconds
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hubstead-outbox", daemon=True)

    def start(self) -> OutboxThread:
        """Start: first what was recorded while no reader ran."""
        self._services.database.subscribe(TOPIC, self.wake)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Read the outbox now (a database listener: called after a commit recorded an event)."""
        self._wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current pass."""
        self._services.database.unsubscribe(TOPIC, self.wake)
        self._stopping.set()
        self._wakeup.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> OutboxThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _loop(self) -> None:
        services = self._services
        steps = (
            ("dispatch hub events to webhooks", services.webhook_dispatch.dispatch_pending),
            ("queue Space builds", services.space_builds.enqueue_pending),
            ("supervise Space apps", services.space_builds.supervise),
        )
        while not self._stopping.is_set():
            # Cleared before the pass: an event recorded from now on sets it again.
            self._wakeup.clear()
            for what, step in steps:
                try:
                    step()
                except Exception:  # the database is away: the next wake or poll tries again
                    logger.exception("could not %s", what)
            self._wakeup.wait(self._poll)
