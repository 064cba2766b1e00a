"""`hubstead access ...`: access requests to gated repos.

A user asks with `request`; the repo's managers (writers of its namespace) `list` the requests
by status and `accept`, `reject`, `cancel` (back to pending) or `grant` access. Data (tables,
`--json` documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
from itertools import islice

import click

from hubstead.cli._client import limit_option, open_api, repo_type_option, token_option
from hubstead.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

_STATUSES = ("pending", "accepted", "rejected")


@click.group()
def access() -> None:
    """Ask for access to gated repos; list, accept, reject, cancel and grant requests."""


@access.command("request")
@click.argument("repo_id")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="An answer to the repo's gate form (repeatable).",
)
@repo_type_option
@token_option
@reports_client_errors
def request(repo_id: str, fields: tuple[str, ...], repo_type: str, token: str | None) -> None:
    """Ask for access to the files of the gated repo REPO_ID."""
    answers = dict(_field(value) for value in fields)
    with open_api(token) as api:
        asked = api.request_access(repo_id, fields=answers, repo_type=repo_type)
    state = {
        "accepted": "Access granted",
        "pending": "Access requested; waiting for the repo's managers",
        "rejected": "Your access request was rejected",
    }
    click.echo(f"{state.get(asked.status, asked.status)}: {repo_id}.", err=True)


@access.command("list")
@click.argument("repo_id")
@click.option(
    "--status",
    type=click.Choice(_STATUSES),
    default="pending",
    show_default=True,
    help="Which requests.",
)
@repo_type_option
@limit_option
@token_option
@json_option
@reports_client_errors
def list_requests(
    repo_id: str, status: str, repo_type: str, limit: int, token: str | None, as_json: bool
) -> None:
    """List the access requests of REPO_ID in one status, oldest first."""
    with open_api(token) as api:
        listing = {
            "pending": api.list_pending_access_requests,
            "accepted": api.list_accepted_access_requests,
            "rejected": api.list_rejected_access_requests,
        }[status](repo_id, repo_type=repo_type)
        found = list(islice(listing, limit or None))
    if as_json:
        emit_json([dataclasses.asdict(r) for r in found])
        return
    rows = [
        {
            "user": r.username,
            "fullname": r.fullname,
            "email": r.email or "",
            "status": r.status,
            "requested": r.timestamp.date(),
            "fields": ", ".join(f"{k}={v}" for k, v in (r.fields or {}).items()),
        }
        for r in found
    ]
    emit_table(rows, False, ["user", "fullname", "email", "status", "requested", "fields"])


@access.command("accept")
@click.argument("repo_id")
@click.argument("user")
@repo_type_option
@token_option
@reports_client_errors
def accept(repo_id: str, user: str, repo_type: str, token: str | None) -> None:
    """Accept USER's access request to REPO_ID."""
    with open_api(token) as api:
        api.accept_access_request(repo_id, user, repo_type=repo_type)
    click.echo(f"Accepted {user}'s access request to {repo_id}.", err=True)


@access.command("reject")
@click.argument("repo_id")
@click.argument("user")
@click.option("--reason", help="Shown to the user (at most 200 characters).")
@repo_type_option
@token_option
@reports_client_errors
def reject(repo_id: str, user: str, reason: str | None, repo_type: str, token: str | None) -> None:
    """Reject USER's access request to REPO_ID (access ends)."""
    with open_api(token) as api:
        api.reject_access_request(repo_id, user, repo_type=repo_type, rejection_reason=reason)
    click.echo(f"Rejected {user}'s access request to {repo_id}.", err=True)


@access.command("cancel")
@click.argument("repo_id")
@click.argument("user")
@repo_type_option
@token_option
@reports_client_errors
def cancel(repo_id: str, user: str, repo_type: str, token: str | None) -> None:
    """Put USER's access request to REPO_ID back to pending (access ends)."""
    with open_api(token) as api:
        api.cancel_access_request(repo_id, user, repo_type=repo_type)
    click.echo(f"Moved {user}'s access request to {repo_id} back to pending.", err=True)


@access.command("grant")
@click.argument("repo_id")
@click.argument("user")
@repo_type_option
@token_option
@reports_client_errors
def grant(repo_id: str, user: str, repo_type: str, token: str | None) -> None:
    """Give USER access to the files of REPO_ID without a request of theirs."""
    with open_api(token) as api:
        api.grant_access(repo_id, user, repo_type=repo_type)
    click.echo(f"Granted {user} access to {repo_id}.", err=True)


def _field(value: str) -> tuple[str, str]:
    name, sep, answer = value.partition("=")
    if not sep or not name:
        raise CliError(f"A field is NAME=VALUE, not {value!r}", EXIT_USAGE)
    return name, answer
