"""`hubstead login`, `logout` and `whoami`: the stored token, shared with `hf auth login`."""

from __future__ import annotations

import sys

import click

from hubstead.cli._client import open_api, token_option
from hubstead.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from hubstead.cli._output import emit_json, json_option


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
    """Log in: check a token with the hub and store it.

    The hub is HF_ENDPOINT's. The token is stored where `hf auth login` stores it, so both
    clients share the login; HF_TOKEN, when set, still wins over it.
    """
    from hubstead.client import auth
    from hubstead.client._config import environment_token

    if not token:
        if not sys.stdin.isatty():
            raise CliError("No token: pass --token or set HF_TOKEN.", EXIT_USAGE)
        token = click.prompt("Token", hide_input=True, err=True)
    account = auth.login(token, add_to_git_credential=add_to_git_credential)
    access = (account.get("auth") or {}).get("accessToken") or {}
    role = f", {access['role']}" if access.get("role") else ""
    click.echo(f"Logged in as {account['name']} (token {access.get('displayName')!r}{role}).")
    if environment_token() not in (None, token):
        click.echo("Note: HF_TOKEN is set and is used instead of the stored token.", err=True)


@click.command()
@click.option("--token-name", help="Forget only this stored token [default: all of them].")
@reports_client_errors
def logout(token_name: str | None) -> None:
    """Log out: forget the stored token(s).

    Git credentials given by `login --add-to-git-credential` are erased too.
    """
    from hubstead.client import auth
    from hubstead.client._config import environment_token

    auth.logout(token_name)
    click.echo("Logged out." if token_name is None else f"Forgot token {token_name!r}.")
    if environment_token() is not None:
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
