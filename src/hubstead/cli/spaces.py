"""`hubstead spaces`: a Space's runtime, logs and controls, its secrets and variables.

`runtime` shows the stage (and why, for an error stage); `logs` prints the run log (`--build`:
the last build's) and with `--follow` keeps printing new lines until interrupted; `restart`
(`--factory`: without caches), `pause` and `sleep-time` change the app. A secret's value is
read from standard input (a hidden prompt on a terminal), never from the command line, where
shell history and the process list would keep it. Data (tables, `--json` documents, log lines)
goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from hubstead.cli._client import open_api, token_option
from hubstead.cli._errors import reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client.models import SpaceRuntime

_description_option = click.option("--description", help="What the entry is for.")


@click.group()
def spaces() -> None:
    """Manage Spaces: their runtime, logs, secrets and variables."""


def _show_runtime(space_id: str, runtime: SpaceRuntime, as_json: bool) -> None:
    if as_json:
        emit_json(runtime.raw)
        return
    click.echo(f"{space_id}: {runtime.stage}")
    click.echo(f"hardware: {runtime.requested_hardware or '-'}")
    sleep = "never" if runtime.sleep_time is None else f"after {runtime.sleep_time} s idle"
    click.echo(f"sleeps: {sleep}")
    if runtime.error_message:
        click.echo(f"error: {runtime.error_message}")


@spaces.command("runtime")
@click.argument("space_id")
@token_option
@json_option
@reports_client_errors
def runtime(space_id: str, token: str | None, as_json: bool) -> None:
    """Show the stage, hardware and sleep time of SPACE_ID's app."""
    with open_api(token) as api:
        found = api.get_space_runtime(space_id)
    _show_runtime(space_id, found, as_json)


@spaces.command("logs")
@click.argument("space_id")
@click.option("--build", is_flag=True, help="The last build's log, not the app's.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@token_option
@reports_client_errors
def logs(space_id: str, build: bool, follow: bool, token: str | None) -> None:
    """Print the run log of SPACE_ID's app (or its last build's)."""
    with open_api(token) as api:
        try:
            for line in api.fetch_space_logs(space_id, build=build, follow=follow):
                click.echo(line, nl=False)
        except KeyboardInterrupt:
            return


@spaces.command("restart")
@click.argument("space_id")
@click.option("--factory", is_flag=True, help="Rebuild without any cache.")
@token_option
@json_option
@reports_client_errors
def restart(space_id: str, factory: bool, token: str | None, as_json: bool) -> None:
    """Build SPACE_ID again and start its app (a paused Space too)."""
    with open_api(token) as api:
        found = api.restart_space(space_id, factory_reboot=factory)
    click.echo(f"Restarting {space_id}{' from scratch' if factory else ''}.", err=True)
    _show_runtime(space_id, found, as_json)


@spaces.command("pause")
@click.argument("space_id")
@token_option
@json_option
@reports_client_errors
def pause(space_id: str, token: str | None, as_json: bool) -> None:
    """Stop SPACE_ID's app until it is restarted."""
    with open_api(token) as api:
        found = api.pause_space(space_id)
    click.echo(f"Paused {space_id}; `hubstead spaces restart` starts it again.", err=True)
    _show_runtime(space_id, found, as_json)


@spaces.command("sleep-time")
@click.argument("space_id")
@click.argument("seconds", type=int)
@token_option
@json_option
@reports_client_errors
def sleep_time(space_id: str, seconds: int, token: str | None, as_json: bool) -> None:
    """Stop SPACE_ID's app after SECONDS without requests (-1: never)."""
    with open_api(token) as api:
        found = api.set_space_sleep_time(space_id, seconds)
    _show_runtime(space_id, found, as_json)


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
