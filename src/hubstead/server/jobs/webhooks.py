"""Webhook jobs and the dispatch thread.

`webhooks.deliver` sends one delivery (`services/webhooks/deliveries.py`); a retryable failure
is retried with the runner's backoff until the job's attempts run out. `DispatchThread` turns
recorded hub events into deliveries in the background: it wakes when a transaction of this
process records an event (`Database.subscribe`), and otherwise every `poll_seconds`, for
events recorded by other processes (a worker's mirror sync, a CLI command).
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from hubstead.server.domain.hub_events import TOPIC
from hubstead.server.jobs.runner import JobContext
from hubstead.server.services.registry import Services

logger = logging.getLogger("hubstead.webhooks")


def run_delivery_job(context: JobContext) -> None:
    """Send the delivery once; let a failure raise, for the runner to retry or record."""
    job = context.job
    delivery = context.services.webhook_sender.attempt(
        int(context.payload["delivery"]), last=job.attempts >= job.max_attempts
    )
    if delivery is None:
        context.log("nothing to send: the delivery or its webhook was deleted")
    else:
        context.log(f"delivery {delivery.object_id}: {delivery.state.value}")


class DispatchThread:
    """One background thread running `services.webhook_dispatch.dispatch_pending`."""

    def __init__(self, services: Services, *, poll_seconds: float = 5.0) -> None:
        self._services = services
        self._poll = poll_seconds
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hubstead-webhooks", daemon=True)

    def start(self) -> DispatchThread:
        """Start dispatching: first what was recorded while no dispatcher ran."""
        self._services.database.subscribe(TOPIC, self.wake)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Dispatch now (a database listener: called after a commit recorded an event)."""
        self._wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current pass."""
        self._services.database.unsubscribe(TOPIC, self.wake)
        self._stopping.set()
        self._wakeup.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> DispatchThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass: an event recorded from now on sets it again.
            self._wakeup.clear()
            try:
                self._services.webhook_dispatch.dispatch_pending()
            except Exception:  # the database is away: the next wake or poll tries again
                logger.exception("could not dispatch hub events to webhooks")
            self._wakeup.wait(self._poll)
