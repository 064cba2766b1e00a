"""The `modelhub` command: one click group, one module per command group, imported lazily."""

from __future__ import annotations

import click

from modelhub import __version__
from modelhub.cli import server


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="modelhub")
def cli() -> None:
    """modelhub: a self-hosted hub that speaks the Hugging Face Hub protocol."""


cli.add_command(server.serve)
cli.add_command(server.admin)


def main() -> None:
    """Console entry point."""
    cli()
