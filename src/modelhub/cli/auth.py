"""`modelhub login`, `logout` and `whoami`: the stored token, shared with `hf auth login`."""

from __future__ import annotations

import os
import sys

import click

from modelhub.cli._client import open_api, token_option
from modelhub.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from modelhub.cli._output import emit_json, json_option


@click.command()
@click.option(
    "--token",
    envvar="HF_TOKEN",
    metavar="TOKEN",
    help="The token to store [default: HF_TOKEN; asked for when stdin is a terminal].",
)
@click.option(
    "--add-to-git-credential",
    is_flag=True,
    help="Also give the token to git's credential helper, for git over HTTPS.",
)
@reports_client_errors
def login(token: str | None, add_to_git_credential: bool) -> None:
    """Check a token with the hub (HF_ENDPOINT) and store it for later commands."""
    from modelhub.client import auth

    if not token:
        if not sys.stdin.isatty():
            raise CliError("No token: pass --token or set HF_TOKEN.", EXIT_USAGE)
        token = click.prompt("Token", hide_input=True, err=True)
    account = auth.login(token, add_to_git_credential=add_to_git_credential)
    access = (account.get("auth") or {}).get("accessToken") or {}
    role = f", {access['role']}" if access.get("role") else ""
    click.echo(f"Logged in as {account['name']} (token {access.get('displayName')!r}{role}).")
    if os.environ.get("HF_TOKEN", token) != token:
        click.echo("Note: HF_TOKEN is set and is used instead of the stored token.", err=True)


@click.command()
@click.option("--token-name", help="Forget only this stored token [default: all of them].")
@reports_client_errors
def logout(token_name: str | None) -> None:
    """Forget the stored token(s) (and git credentials given by login)."""
    from modelhub.client import auth

    auth.logout(token_name)
    click.echo("Logged out." if token_name is None else f"Forgot token {token_name!r}.")
    if os.environ.get("HF_TOKEN"):
        click.echo("Note: HF_TOKEN is still set and still logs you in.", err=True)


@click.command()
@token_option
@json_option
@reports_client_errors
def whoami(token: str | None, as_json: bool) -> None:
    """Show the account behind the token, and its organizations."""
    with open_api(token) as api:
        account = api.whoami()
        endpoint = api.endpoint
    if as_json:
        emit_json(account)
        return
    click.echo(account["name"])
    orgs = [org["name"] for org in account.get("orgs") or ()]
    if orgs:
        click.echo(f"orgs: {', '.join(orgs)}")
    click.echo(f"hub:  {endpoint}", err=True)
