"""The `WebhookStore` Protocol: users' webhooks, what they watch, and their deliveries.

A webhook goes with its owner, a delivery with its webhook. Watched entries are matched by kind
and by name ignoring case. Adding a delivery for an event a webhook already has one for adds
nothing, so dispatching an event twice delivers it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from hubstead.server.domain.webhooks import (
    Attempt,
    DeliveryRecord,
    Domain,
    NewDelivery,
    NewWebhook,
    Watch,
    WebhookRecord,
)


class WebhookStore(Protocol):
    """Webhooks and their deliveries."""

    def create(self, new: NewWebhook, limit: int) -> WebhookRecord:
        """Add a webhook, told of hub events recorded from now on.

        Raises:
            CapacityError: the owner has `limit` webhooks already.
            AlreadyExistsError: the object id is taken.
        """

    def get(self, object_id: str) -> WebhookRecord | None:
        """The webhook with this public id."""

    def get_by_id(self, webhook_id: int) -> WebhookRecord | None:
        """The webhook with this row id."""

    def list_owned(self, owner_id: int) -> list[WebhookRecord]:
        """The owner's webhooks, oldest first."""

    def replace(
        self,
        webhook_id: int,
        *,
        url: str,
        secret: str | None,
        domains: Sequence[Domain],
        watched: Sequence[Watch],
        disabled: bool,
        at: dt.datetime,
    ) -> WebhookRecord | None:
        """Set every changeable field; None when the webhook is gone."""

    def delete(self, webhook_id: int) -> bool:
        """Delete the webhook and its deliveries; False when it was gone."""

    def watching(
        self, watches: Sequence[Watch], domain: Domain, event_id: int
    ) -> list[WebhookRecord]:
        """The enabled webhooks that may be told of event `event_id`.

        Those in `domain`, created before the event, watching any of `watches`.
        """

    def add_deliveries(self, new: Sequence[NewDelivery]) -> list[DeliveryRecord]:
        """Add the deliveries whose webhook has none for their event yet; the ones added."""

    def get_delivery(self, delivery_id: int) -> DeliveryRecord | None:
        """The delivery with this row id."""

    def find_delivery(self, webhook_id: int, object_id: str) -> DeliveryRecord | None:
        """The webhook's delivery with this public id."""

    def list_deliveries(self, webhook_id: int, offset: int, limit: int) -> list[DeliveryRecord]:
        """The webhook's deliveries, newest first."""

    def record_attempt(self, delivery_id: int, attempt: Attempt) -> DeliveryRecord | None:
        """Keep how an attempt went; None when the delivery is gone.

        Every attempt is counted but a cancellation (nothing was sent).
        """

    def reset(self, delivery_id: int) -> DeliveryRecord | None:
        """Make a finished delivery pending again (to send it once more)."""
