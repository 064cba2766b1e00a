"""Webhook endpoints: the caller's webhooks under `/api/settings/webhooks`.

Serves `GET /api/settings/webhooks` (a bare array), `POST /api/settings/webhooks` (create),
`GET|POST|DELETE /api/settings/webhooks/{id}` (read, update — the Hub updates with POST —,
delete), `POST /api/settings/webhooks/{id}/enable|disable`, and, beyond the Hub's API, the
delivery log: `GET /api/settings/webhooks/{id}/deliveries` (Link-paginated, newest first) and
`POST /api/settings/webhooks/{id}/deliveries/{delivery}/redeliver`.

A webhook answers as `{"id", "url", "watched", "domains", "disabled", "hasSecret", "createdAt",
"updatedAt"}`; its `secret` only in the answer to the request that created it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.webhooks import DeliveryRecord, Watch, WebhookRecord
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    optional_body_string,
    param,
    read_json_object,
    services,
)
from hubstead.server.services.webhooks.hooks import parse_watch

_ROOT = "/api/settings/webhooks"
_WEBHOOK = _ROOT + "/{webhook_id}"
_PAGE_SIZE = 100


async def list_webhooks(request: Request) -> Response:
    """The caller's webhooks."""
    found = await call(services(request).webhooks.list, await identity(request))
    return JSONResponse([_webhook(w) for w in found])


async def create_webhook(request: Request) -> Response:
    """Add a webhook; the answer is the only one that shows its secret."""
    body = await read_json_object(request)
    _refuse_jobs(body)
    url = optional_body_string(body, "url")
    if url is None:
        raise errors.InvalidRequestError("A webhook needs a 'url' to send its deliveries to")
    record = await call(
        services(request).webhooks.create,
        await identity(request),
        url=url,
        watched=_watched(body) or [],
        domains=_domains(body),
        secret=optional_body_string(body, "secret"),
    )
    return JSONResponse({"webhook": _webhook(record, with_secret=True)})


async def get_webhook(request: Request) -> Response:
    """One of the caller's webhooks."""
    record = await call(
        services(request).webhooks.get, await identity(request), param(request, "webhook_id")
    )
    return JSONResponse({"webhook": _webhook(record)})


async def update_webhook(request: Request) -> Response:
    """Change a webhook: what the body gives (an empty `watched` keeps the watched entries)."""
    body = await read_json_object(request)
    _refuse_jobs(body)
    record = await call(
        services(request).webhooks.update,
        await identity(request),
        param(request, "webhook_id"),
        url=optional_body_string(body, "url"),
        watched=_watched(body),
        domains=_domains(body),
        secret=optional_body_string(body, "secret"),
    )
    return JSONResponse({"webhook": _webhook(record)})


async def enable_webhook(request: Request) -> Response:
    """Deliver events again."""
    return await _set_disabled(request, False)


async def disable_webhook(request: Request) -> Response:
    """Stop delivering; pending deliveries are cancelled."""
    return await _set_disabled(request, True)


async def _set_disabled(request: Request, disabled: bool) -> Response:
    record = await call(
        services(request).webhooks.set_disabled,
        await identity(request),
        param(request, "webhook_id"),
        disabled,
    )
    return JSONResponse({"webhook": _webhook(record)})


async def delete_webhook(request: Request) -> Response:
    """Delete a webhook and its delivery log."""
    await call(
        services(request).webhooks.delete, await identity(request), param(request, "webhook_id")
    )
    return JSONResponse({})


async def list_deliveries(request: Request) -> Response:
    """A page of the webhook's deliveries, newest first."""
    offset = decode_cursor(request)
    limit = int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)
    page = await call(
        services(request).webhooks.deliveries,
        await identity(request),
        param(request, "webhook_id"),
        offset=offset,
        limit=limit,
    )
    items = [_delivery(d) for d in page]
    return JSONResponse(items, headers=next_link(request, offset + limit) if page.more else {})


async def redeliver(request: Request) -> Response:
    """Send a finished delivery again."""
    delivery = await call(
        services(request).webhooks.redeliver,
        await identity(request),
        param(request, "webhook_id"),
        param(request, "delivery_id"),
    )
    return JSONResponse({"delivery": _delivery(delivery)}, status_code=202)


def _refuse_jobs(body: dict[str, Any]) -> None:
    if body.get("jobSourceId") is not None or body.get("secrets") is not None:
        raise errors.InvalidRequestError(
            "Webhooks that start Jobs are not available on this hub: give a 'url' instead"
        )


def _watched(body: dict[str, Any]) -> list[Watch] | None:
    watched = body.get("watched")
    if watched is None:
        return None
    if not isinstance(watched, list) or not all(isinstance(w, dict) for w in watched):
        raise errors.InvalidRequestError(
            '\'watched\' must be a list of {"type": ..., "name": ...} objects'
        )
    return [parse_watch(w.get("type"), w.get("name")) for w in watched]


def _domains(body: dict[str, Any]) -> list[str] | None:
    domains = body.get("domains")
    if domains is None:
        return None
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise errors.InvalidRequestError("'domains' must be a list of strings")
    return domains


def _webhook(record: WebhookRecord, *, with_secret: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": record.object_id,
        "url": record.url,
        "watched": [{"type": w.kind.value, "name": w.name} for w in record.watched],
        "domains": [d.value for d in record.domains],
        "disabled": record.disabled,
        "hasSecret": record.secret is not None,
        "createdAt": payloads.date(record.created_at),
        "updatedAt": payloads.date(record.updated_at),
    }
    if with_secret and record.secret is not None:
        answer["secret"] = record.secret
    return answer


def _delivery(delivery: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": delivery.object_id,
        "event": delivery.event,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "statusCode": delivery.status_code,
        "latencyMs": delivery.latency_ms,
        "error": delivery.error,
        "createdAt": payloads.date(delivery.created_at),
        "attemptedAt": None
        if delivery.attempted_at is None
        else payloads.date(delivery.attempted_at),
        "payload": delivery.payload,
    }


routes = [
    Route(_ROOT, list_webhooks, methods=["GET"]),
    Route(_ROOT, create_webhook, methods=["POST"]),
    Route(_WEBHOOK, get_webhook, methods=["GET"]),
    Route(_WEBHOOK, update_webhook, methods=["POST"]),
    Route(_WEBHOOK, delete_webhook, methods=["DELETE"]),
    Route(_WEBHOOK + "/enable", enable_webhook, methods=["POST"]),
    Route(_WEBHOOK + "/disable", disable_webhook, methods=["POST"]),
    Route(_WEBHOOK + "/deliveries", list_deliveries, methods=["GET"]),
    Route(_WEBHOOK + "/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]),
]
