"""What commands print: human tables by default, JSON for scripts (`--json`), in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(command: F) -> F:
    """The `--json` flag, passed to the command as `as_json`."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def emit_json(value: Any) -> None:
    """Print a JSON document (dates and paths as strings)."""
    click.echo(json.dumps(value, indent=2, default=str))


def emit_table(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    """Print rows as an aligned table (or JSON); `(none)` on stderr for no rows."""
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("(none)", err=True)
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
