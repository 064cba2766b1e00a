"""`HfApi` methods about webhooks: the caller's webhooks, and (hubstead) their delivery log.

`list_webhook_deliveries` and `redeliver_webhook` are hubstead extensions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from hubstead.client import models
from hubstead.client._api_base import ApiBase

_ROOT = "api/settings/webhooks"


class WebhookMethods(ApiBase):
    """Webhook methods of `HfApi`."""

    def list_webhooks(self, *, token: bool | str | None = None) -> list[models.WebhookInfo]:
        """Your webhooks, oldest first.

        Raises:
            HfHubHTTPError: no token (401).
        """
        return [models.WebhookInfo.from_json(w) for w in self._get(_ROOT, token=token)]

    def get_webhook(
        self, webhook_id: str, *, token: bool | str | None = None
    ) -> models.WebhookInfo:
        """One of your webhooks (without its secret).

        Raises:
            HfHubHTTPError: no such webhook of yours (404).
        """
        return models.WebhookInfo.from_json(self._get(_path(webhook_id), token=token)["webhook"])

    def create_webhook(
        self,
        *,
        url: str | None = None,
        job_id: str | None = None,
        watched: Sequence[dict[str, str] | models.WebhookWatchedItem],
        domains: Sequence[str] | None = None,
        secret: str | None = None,
        token: bool | str | None = None,
    ) -> models.WebhookInfo:
        """Create a webhook that POSTs the events of what it watches to `url`.

        `domains` default to both, `repo` and `discussion`. The answer is the only place the
        secret shows again.

        Raises:
            ValueError: no `url`, or a `job_id` (webhooks that start Jobs are not available).
            HfHubHTTPError: a refused URL, watched entry, domain or secret (400), a read
                token (403).
        """
        if job_id is not None or url is None:
            raise ValueError(
                "create_webhook needs a url (webhooks that start Jobs need huggingface.co)"
            )
        body: dict[str, Any] = {
            "url": url,
            "watched": _watched(watched),
            "domains": list(domains) if domains is not None else ["repo", "discussion"],
        }
        if secret is not None:
            body["secret"] = secret
        answer = self._send("POST", _ROOT, json=body, token=token)
        return models.WebhookInfo.from_json(answer["webhook"])

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        watched: Sequence[dict[str, str] | models.WebhookWatchedItem] | None = None,
        domains: Sequence[str] | None = None,
        secret: str | None = None,
        token: bool | str | None = None,
    ) -> models.WebhookInfo:
        """Change what you pass of a webhook.

        No `watched` keeps what it watches; `secret=""` removes the secret.

        Raises:
            HfHubHTTPError: as `create_webhook`, and 404 for no such webhook of yours.
        """
        body: dict[str, Any] = {"watched": _watched(watched or [])}
        for key, value in (("url", url), ("secret", secret)):
            if value is not None:
                body[key] = value
        if domains is not None:
            body["domains"] = list(domains)
        answer = self._send("POST", _path(webhook_id), json=body, token=token)
        return models.WebhookInfo.from_json(answer["webhook"])

    def enable_webhook(
        self, webhook_id: str, *, token: bool | str | None = None
    ) -> models.WebhookInfo:
        """Deliver events to the webhook again."""
        answer = self._send("POST", _path(webhook_id) + "/enable", token=token)
        return models.WebhookInfo.from_json(answer["webhook"])

    def disable_webhook(
        self, webhook_id: str, *, token: bool | str | None = None
    ) -> models.WebhookInfo:
        """Stop delivering events to the webhook (its pending deliveries are cancelled)."""
        answer = self._send("POST", _path(webhook_id) + "/disable", token=token)
        return models.WebhookInfo.from_json(answer["webhook"])

    def delete_webhook(self, webhook_id: str, *, token: bool | str | None = None) -> None:
        """Delete the webhook and its delivery log.

        Raises:
            HfHubHTTPError: no such webhook of yours (404).
        """
        self._send("DELETE", _path(webhook_id), token=token)

    def list_webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None, token: bool | str | None = None
    ) -> Iterator[models.WebhookDelivery]:
        """The webhook's deliveries, newest first, with how each went (hubstead).

        Raises:
            HfHubHTTPError: no such webhook of yours (404).
        """
        items = self.session.paginate(_path(webhook_id) + "/deliveries", token=token)
        for count, item in enumerate(items):
            if limit is not None and count >= limit:
                return
            yield models.WebhookDelivery.from_json(item)

    def redeliver_webhook(
        self, webhook_id: str, delivery_id: str, *, token: bool | str | None = None
    ) -> models.WebhookDelivery:
        """Send a finished delivery again, with the same payload (hubstead).

        Raises:
            HfHubHTTPError: no such delivery (404); one still pending, or a disabled webhook
                (409).
        """
        path = f"{_path(webhook_id)}/deliveries/{quote(delivery_id, safe='')}/redeliver"
        return models.WebhookDelivery.from_json(self._send("POST", path, token=token)["delivery"])


def _path(webhook_id: str) -> str:
    return f"{_ROOT}/{quote(webhook_id, safe='')}"


def _watched(
    watched: Sequence[dict[str, str] | models.WebhookWatchedItem],
) -> list[dict[str, str]]:
    return [
        dataclasses.asdict(w) if isinstance(w, models.WebhookWatchedItem) else dict(w)
        for w in watched
    ]
