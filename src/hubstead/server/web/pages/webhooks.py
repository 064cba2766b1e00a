"""The signed-in user's webhooks, and each one's delivery log.

Serves `GET /settings/webhooks` (the list and the creation form), `POST /settings/webhooks`
(create: target URL, watched repos and accounts, domains, an optional secret, shown on the
answering page only), `GET /settings/webhooks/{id}` (the webhook and its latest deliveries:
state, attempts, status code, latency, time), `POST /settings/webhooks/{id}/enable|disable|delete`
and `POST /settings/webhooks/{id}/deliveries/{delivery}/redeliver`.

Everything goes through `WebhookService`, as `http/webhooks.py` does; a URL the hub refuses to
call (loopback, private networks: `services/webhooks/targets.py`) is a form error (400).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.webhooks import Domain, Watch, WatchKind, WebhookRecord
from hubstead.server.http.context import call, param, services
from hubstead.server.services.webhooks.hooks import parse_watch
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in

DELIVERIES_SHOWN = 50
_MAX_WATCHED_TEXT = 20_000


async def _list_page(
    request: Request,
    caller: Visitor,
    *,
    status: int = 200,
    error: str | None = None,
    created: WebhookRecord | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    found = await call(services(request).webhooks.list, caller.identity)
    return await render(
        request,
        "webhooks/list.html",
        status,
        webhooks=found,
        error=error,
        created=created,
        values=values or {},
        kinds=[kind.value for kind in WatchKind],
        domains=[domain.value for domain in Domain],
    )


async def get_webhooks(request: Request) -> Response:
    """The user's webhooks, and the form to add one."""
    return await _list_page(request, await signed_in(request))


def parse_watched(text: str) -> list[Watch]:
    """Watched entries from lines of `<type> <name>` (`model alice/bert`, `user bob`).

    Raises:
        InvalidRequestError: a line without both, or an unknown type (`parse_watch`).
    """
    if len(text) > _MAX_WATCHED_TEXT:
        raise errors.InvalidRequestError("Too many watched entries")
    watched = []
    for line in text.splitlines():
        if not line.strip():
            continue
        kind, _, name = line.strip().partition(" ")
        watched.append(parse_watch(kind.lower(), name.strip()))
    return watched


async def post_webhook(request: Request) -> Response:
    """Create a webhook; its secret is on this answer only."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    domains = [domain.value for domain in Domain if form.get(f"domain_{domain.value}")]
    secret = form.get("secret", "").strip() or None
    if secret is None and form.get("generate_secret"):
        secret = secrets.token_urlsafe(24)
    try:
        watched = parse_watched(form.get("watched", ""))
        created = await call(
            services(request).webhooks.create,
            caller.identity,
            url=form.get("url", "").strip(),
            watched=watched,
            domains=domains,
            secret=secret,
        )
    except errors.InvalidRequestError as exc:
        return await _list_page(request, caller, status=400, error=exc.message, values=form)
    return await _list_page(request, caller, created=created)


async def get_webhook(request: Request) -> Response:
    """A webhook and its latest deliveries, newest first."""
    caller = await signed_in(request)
    return await _webhook_page(request, caller, param(request, "webhook_id"))


async def _webhook_page(
    request: Request, caller: Visitor, webhook_id: str, status: int = 200, error: str | None = None
) -> Response:
    hub = services(request)
    deliveries = await call(
        hub.webhooks.deliveries, caller.identity, webhook_id, offset=0, limit=DELIVERIES_SHOWN
    )
    webhook = await call(hub.webhooks.get, caller.identity, webhook_id)
    return await render(
        request,
        "webhooks/webhook.html",
        status,
        webhook=webhook,
        deliveries=deliveries,
        error=error,
    )


async def _set_disabled(request: Request, disabled: bool) -> Response:
    await signed_in(request)
    caller, _ = await csrf.read_form(request)
    webhook_id = param(request, "webhook_id")
    await call(services(request).webhooks.set_disabled, caller.identity, webhook_id, disabled)
    return RedirectResponse(f"/settings/webhooks/{webhook_id}", status_code=303)


async def post_enable(request: Request) -> Response:
    """Deliver events again."""
    return await _set_disabled(request, False)


async def post_disable(request: Request) -> Response:
    """Stop delivering; pending deliveries are cancelled."""
    return await _set_disabled(request, True)


async def post_delete(request: Request) -> Response:
    """Delete the webhook and its delivery log."""
    await signed_in(request)
    caller, _ = await csrf.read_form(request)
    await call(services(request).webhooks.delete, caller.identity, param(request, "webhook_id"))
    return RedirectResponse("/settings/webhooks", status_code=303)


async def post_redeliver(request: Request) -> Response:
    """Send a finished delivery again."""
    await signed_in(request)
    caller, _ = await csrf.read_form(request)
    webhook_id = param(request, "webhook_id")
    try:
        await call(
            services(request).webhooks.redeliver,
            caller.identity,
            webhook_id,
            param(request, "delivery_id"),
        )
    except errors.ConflictError as exc:
        return await _webhook_page(request, caller, webhook_id, 409, exc.message)
    return RedirectResponse(f"/settings/webhooks/{webhook_id}?redelivered=1", status_code=303)


_WEBHOOK = "/settings/webhooks/{webhook_id}"
routes = [
    Route("/settings/webhooks", get_webhooks, methods=["GET"]),
    Route("/settings/webhooks", post_webhook, methods=["POST"]),
    Route(_WEBHOOK, get_webhook, methods=["GET"]),
    Route(_WEBHOOK + "/enable", post_enable, methods=["POST"]),
    Route(_WEBHOOK + "/disable", post_disable, methods=["POST"]),
    Route(_WEBHOOK + "/delete", post_delete, methods=["POST"]),
    Route(_WEBHOOK + "/deliveries/{delivery_id}/redeliver", post_redeliver, methods=["POST"]),
]
