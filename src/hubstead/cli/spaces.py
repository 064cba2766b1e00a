"""`hubstead spaces secrets|variables list|add|delete`: a Space's secrets and variables.

A secret's value is read from standard input (a hidden prompt on a terminal), never from the
command line, where shell history and the process list would keep it. Data (tables, `--json`
documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
import sys

import click

from hubstead.cli._client import open_api, token_option
from hubstead.cli._errors import reports_client_errors
from hubstead.cli._output import emit_table, json_option

_description_option = click.option("--description", help="What the entry is for.")


@click.group()
def spaces() -> None:
    """Manage Spaces: their secrets and variables."""


@spaces.group()
def secrets() -> None:
    """A Space's secrets: write-only values, given to the Space as environment variables."""


@spaces.group()
def variables() -> None:
    """A Space's variables: environment variables anyone who may write to it can read."""


@secrets.command("list")
@click.argument("space_id")
@token_option
@json_option
@reports_client_errors
def list_secrets(space_id: str, token: str | None, as_json: bool) -> None:
    """List the secrets of SPACE_ID (keys and descriptions; values are never shown)."""
    with open_api(token) as api:
        found = api.get_space_secrets(space_id)
    rows = [dataclasses.asdict(s) for s in found.values()]
    emit_table(rows, as_json, ["key", "description", "updated_at"])


@secrets.command("add")
@click.argument("space_id")
@click.argument("key")
@_description_option
@token_option
@reports_client_errors
def add_secret(space_id: str, key: str, description: str | None, token: str | None) -> None:
    """Add or replace the secret KEY of SPACE_ID; its value is read from standard input."""
    if sys.stdin.isatty():
        value = click.prompt("Value", hide_input=True)
    else:
        value = sys.stdin.read().removesuffix("\n")
    with open_api(token) as api:
        api.add_space_secret(space_id, key, value, description=description)
    click.echo(f"Secret {key} set on {space_id}.", err=True)


@secrets.command("delete")
@click.argument("space_id")
@click.argument("key")
@token_option
@reports_client_errors
def delete_secret(space_id: str, key: str, token: str | None) -> None:
    """Delete the secret KEY of SPACE_ID."""
    with open_api(token) as api:
        api.delete_space_secret(space_id, key)
    click.echo(f"Secret {key} deleted from {space_id}.", err=True)


@variables.command("list")
@click.argument("space_id")
@token_option
@json_option
@reports_client_errors
def list_variables(space_id: str, token: str | None, as_json: bool) -> None:
    """List the variables of SPACE_ID."""
    with open_api(token) as api:
        found = api.get_space_variables(space_id)
    rows = [dataclasses.asdict(v) for v in found.values()]
    emit_table(rows, as_json, ["key", "value", "description", "updated_at"])


@variables.command("add")
@click.argument("space_id")
@click.argument("key")
@click.argument("value")
@_description_option
@token_option
@reports_client_errors
def add_variable(
    space_id: str, key: str, value: str, description: str | None, token: str | None
) -> None:
    """Add or replace the variable KEY of SPACE_ID."""
    with open_api(token) as api:
        api.add_space_variable(space_id, key, value, description=description)
    click.echo(f"Variable {key} set on {space_id}.", err=True)


@variables.command("delete")
@click.argument("space_id")
@click.argument("key")
@token_option
@reports_client_errors
def delete_variable(space_id: str, key: str, token: str | None) -> None:
    """Delete the variable KEY of SPACE_ID."""
    with open_api(token) as api:
        api.delete_space_variable(space_id, key)
    click.echo(f"Variable {key} deleted from {space_id}.", err=True)
