"""Sending deliveries: the job that POSTs a payload, and what each attempt records.

Each delivery is one job (`webhooks.deliver`), so endpoints are called from the job runners,
never from the request that caused the event, and a failed attempt is retried with the
runner's backoff. An endpoint that does not connect, times out, or answers 408, 429 or 5xx is
tried again until the attempts run out, and so is a host that does not resolve; any other
answer outside 2xx, and a URL that now resolves to a refused address, fail the delivery at
once. Only the status line and headers are read: a slow or endless body cannot hold a runner.
"""

from __future__ import annotations

import json
import time

from hubstead.server import errors
from hubstead.server.domain.webhooks import Attempt, DeliveryRecord, DeliveryState
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.jobs import JobService
from hubstead.server.services.webhooks.targets import TargetPolicy, UnresolvedHostError
from hubstead.server.storage import webhook_endpoints
from hubstead.server.storage.webhooks import WebhookStore

KIND = "webhooks.deliver"
_RETRYABLE_STATUSES = frozenset({408, 429})


class DeliveryQueue:
    """Queues the job that sends a delivery."""

    def __init__(self, jobs: JobService, *, max_attempts: int) -> None:
        self._jobs = jobs
        self._max_attempts = max_attempts

    def send(self, delivery: DeliveryRecord) -> None:
        """Queue the delivery's job (once: a job already queued for it is kept)."""
        self._jobs.enqueue(
            KIND,
            {"delivery": delivery.id},
            key=f"webhook-delivery:{delivery.id}",
            max_attempts=self._max_attempts,
        )


class DeliverySender:
    """POSTs deliveries to their webhooks' endpoints and records each attempt."""

    def __init__(
        self,
        store: WebhookStore,
        policy: TargetPolicy,
        *,
        timeout_seconds: float,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._policy = policy
        self._timeout = timeout_seconds
        self._clock = clock

    def attempt(self, delivery_id: int, *, last: bool) -> DeliveryRecord | None:
        """Try to send a pending delivery once; `last` says no retry follows a failure.

        Returns:
            The delivery after the attempt; None when it or its webhook is gone (deleted
            meanwhile: nothing to send). A delivery that is not pending is returned as it is.

        Raises:
            UpstreamUnavailableError: the attempt failed and may succeed later (it is recorded
                as pending unless `last`).
            HubError: the attempt failed for good (recorded as failed).
        """
        delivery = self._store.get_delivery(delivery_id)
        if delivery is None or delivery.state is not DeliveryState.PENDING:
            return delivery
        webhook = self._store.get_by_id(delivery.webhook_id)
        if webhook is None:
            return None
        if webhook.disabled:
            return self._store.record_attempt(
                delivery.id,
                Attempt(DeliveryState.CANCELLED, self._clock(), error="the webhook is disabled"),
            )
        try:
            target = self._policy.check_url(webhook.url)
        except UnresolvedHostError as exc:
            self._record(delivery, None, None, exc.message, retryable=True, last=last)
            raise errors.UpstreamUnavailableError(exc.message) from exc
        except errors.InvalidRequestError as exc:
            self._record(delivery, None, None, exc.message, retryable=False, last=last)
            raise
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hubstead-webhooks",
            "Host": target.host_header,
            "X-Hubstead-Delivery": delivery.object_id,
            "X-Hubstead-Event": delivery.event,
        }
        if webhook.secret is not None:
            headers["X-Webhook-Secret"] = webhook.secret
        body = json.dumps(delivery.payload).encode()
        started = time.monotonic()
        try:
            status = webhook_endpoints.post(
                target.pinned_url,
                body,
                headers,
                sni_hostname=target.host if target.scheme == "https" else None,
                timeout_seconds=self._timeout,
            )
        except webhook_endpoints.EndpointUnreachableError as exc:
            error = f"{webhook.url}: {exc}"
            self._record(delivery, None, None, error, retryable=True, last=last)
            raise errors.UpstreamUnavailableError(error) from exc
        latency = round((time.monotonic() - started) * 1000)
        if 200 <= status < 300:
            return self._store.record_attempt(
                delivery.id,
                Attempt(DeliveryState.SUCCEEDED, self._clock(), status, latency),
            )
        error = f"{webhook.url} answered {status}"
        retryable = status >= 500 or status in _RETRYABLE_STATUSES
        self._record(delivery, status, latency, error, retryable=retryable, last=last)
        if retryable:
            raise errors.UpstreamUnavailableError(error)
        raise errors.HubError(error)

    def _record(
        self,
        delivery: DeliveryRecord,
        status: int | None,
        latency: int | None,
        error: str,
        *,
        retryable: bool,
        last: bool,
    ) -> None:
        state = DeliveryState.PENDING if retryable and not last else DeliveryState.FAILED
        self._store.record_attempt(
            delivery.id, Attempt(state, self._clock(), status, latency, error)
        )
