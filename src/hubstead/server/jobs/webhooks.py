"""Webhook jobs.

`webhooks.deliver` sends one delivery (`services/webhooks/deliveries.py`); a retryable failure
is retried with the runner's backoff until the job's attempts run out. Deliveries are made
from hub events by the outbox thread (`jobs/outbox.py`).
"""

from __future__ import annotations

import logging

from hubstead.server.jobs.runner import JobContext

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
