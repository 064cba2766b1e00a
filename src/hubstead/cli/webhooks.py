"""`hubstead webhooks ...`: your webhooks, and what each delivery did.

A watched entry is `TYPE:NAME`: `user:alice`, `org:acme`, `model:acme/bert`, `dataset:...`,
`space:...`. Data (tables, `--json` documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._client import confirm_or_require_yes, limit_option, open_api, token_option
from hubstead.cli._errors import reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client.models import WebhookInfo

_DOMAINS = ("repo", "discussion")
_WATCH_TYPES = ("user", "org", "model", "dataset", "space")


def _parse_watched(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[dict[str, str]]:
    """`--watch TYPE:NAME` values as the API's watched entries."""
    watched = []
    for value in values:
        kind, sep, name = value.partition(":")
        if not sep or kind not in _WATCH_TYPES or not name:
            raise click.BadParameter(
                f"{value!r} is not TYPE:NAME with TYPE one of {', '.join(_WATCH_TYPES)}"
            )
        watched.append({"type": kind, "name": name})
    return watched


_watch_option = click.option(
    "--watch",
    "watched",
    multiple=True,
    callback=_parse_watched,
    help="What to watch, as TYPE:NAME (user:alice, org:acme, model:acme/bert); repeatable.",
)
_domain_option = click.option(
    "--domain",
    "domains",
    multiple=True,
    type=click.Choice(_DOMAINS),
    help="Which events: repo (content, settings, create, delete, move), discussion "
    "(threads, pull requests, comments); repeatable; default both.",
)


@click.group()
def webhooks() -> None:
    """Create and manage your webhooks, and read their delivery logs."""


@webhooks.command("list")
@token_option
@json_option
@reports_client_errors
def list_webhooks(token: str | None, as_json: bool) -> None:
    """List your webhooks."""
    with open_api(token) as api:
        found = api.list_webhooks()
    if as_json:
        emit_json([dataclasses.asdict(w) for w in found])
        return
    emit_table([_row(w) for w in found], False, ["id", "url", "watched", "domains", "state"])


@webhooks.command("info")
@click.argument("webhook_id")
@token_option
@json_option
@reports_client_errors
def info(webhook_id: str, token: str | None, as_json: bool) -> None:
    """Show a webhook."""
    with open_api(token) as api:
        webhook = api.get_webhook(webhook_id)
    if as_json:
        emit_json(dataclasses.asdict(webhook))
        return
    for key, value in _row(webhook).items():
        click.echo(f"{key}: {value}")


@webhooks.command("create")
@click.option("--url", required=True, help="Where deliveries are POSTed.")
@_watch_option
@_domain_option
@click.option("--secret", help="Sent as X-Webhook-Secret with each delivery; shown only now.")
@token_option
@json_option
@reports_client_errors
def create(
    url: str,
    watched: list[dict[str, str]],
    domains: tuple[str, ...],
    secret: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Create a webhook; prints its id."""
    if not watched:
        raise click.UsageError("Watch at least one thing: --watch TYPE:NAME")
    with open_api(token) as api:
        webhook = api.create_webhook(
            url=url,
            watched=watched,
            domains=list(domains) or None,
            secret=secret,
        )
    if as_json:
        emit_json(dataclasses.asdict(webhook))
        return
    click.echo(webhook.id)
    click.echo(f"Created webhook {webhook.id} for {url}.", err=True)


@webhooks.command("update")
@click.argument("webhook_id")
@click.option("--url", help="A new endpoint.")
@_watch_option
@_domain_option
@click.option("--secret", help="A new secret (an empty one removes it).")
@token_option
@reports_client_errors
def update(
    webhook_id: str,
    url: str | None,
    watched: list[dict[str, str]],
    domains: tuple[str, ...],
    secret: str | None,
    token: str | None,
) -> None:
    """Change a webhook: what you give replaces what it had (--watch replaces the list)."""
    with open_api(token) as api:
        api.update_webhook(
            webhook_id,
            url=url,
            watched=watched or None,
            domains=list(domains) or None,
            secret=secret,
        )
    click.echo(f"Updated webhook {webhook_id}.", err=True)


@webhooks.command("enable")
@click.argument("webhook_id")
@token_option
@reports_client_errors
def enable(webhook_id: str, token: str | None) -> None:
    """Deliver events to a disabled webhook again."""
    with open_api(token) as api:
        api.enable_webhook(webhook_id)
    click.echo(f"Enabled webhook {webhook_id}.", err=True)


@webhooks.command("disable")
@click.argument("webhook_id")
@token_option
@reports_client_errors
def disable(webhook_id: str, token: str | None) -> None:
    """Stop delivering events (pending deliveries are cancelled)."""
    with open_api(token) as api:
        api.disable_webhook(webhook_id)
    click.echo(f"Disabled webhook {webhook_id}.", err=True)


@webhooks.command("delete")
@click.argument("webhook_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@token_option
@reports_client_errors
def delete(webhook_id: str, yes: bool, token: str | None) -> None:
    """Delete a webhook and its delivery log."""
    confirm_or_require_yes(f"Delete webhook {webhook_id} and its delivery log?", yes)
    with open_api(token) as api:
        api.delete_webhook(webhook_id)
    click.echo(f"Deleted webhook {webhook_id}.", err=True)


@webhooks.command("deliveries")
@click.argument("webhook_id")
@limit_option
@token_option
@json_option
@reports_client_errors
def deliveries(webhook_id: str, limit: int, token: str | None, as_json: bool) -> None:
    """List a webhook's deliveries, newest first: state, attempts, answer and latency."""
    with open_api(token) as api:
        found = list(api.list_webhook_deliveries(webhook_id, limit=limit or None))
    if as_json:
        emit_json([dataclasses.asdict(d) for d in found])
        return
    rows: list[dict[str, Any]] = [
        {
            "id": d.id,
            "event": d.event,
            "state": d.state,
            "attempts": d.attempts,
            "status": "" if d.status_code is None else d.status_code,
            "latency": "" if d.latency_ms is None else f"{d.latency_ms} ms",
            "error": d.error or "",
        }
        for d in found
    ]
    emit_table(rows, False, ["id", "event", "state", "attempts", "status", "latency", "error"])


@webhooks.command("redeliver")
@click.argument("webhook_id")
@click.argument("delivery_id")
@token_option
@reports_client_errors
def redeliver(webhook_id: str, delivery_id: str, token: str | None) -> None:
    """Send a finished delivery again, with the same payload."""
    with open_api(token) as api:
        api.redeliver_webhook(webhook_id, delivery_id)
    click.echo(f"Queued delivery {delivery_id} again.", err=True)


def _row(webhook: WebhookInfo) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url or "",
        "watched": ", ".join(f"{w.type}:{w.name}" for w in webhook.watched),
        "domains": ", ".join(webhook.domains),
        "state": "disabled" if webhook.disabled else "enabled",
    }
