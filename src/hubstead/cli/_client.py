"""What the user commands share: the options naming a repo, a token and a cache, and the client.

The hub is the one `HF_ENDPOINT` names (or `HUBSTEAD_ENDPOINT`), as for the library; the token
is `--token`, else `HF_TOKEN`, else the one `hubstead login` (or `hf auth login`) stored.
Failed requests are retried as the library does (`HUBSTEAD_MAX_RETRIES`, default 5), each retry
announced on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hubstead.cli._errors import EXIT_USAGE, CliError
from hubstead.protocol import RepoType

if TYPE_CHECKING:
    from hubstead.client.api import HfApi

F = TypeVar("F", bound=Callable[..., Any])

REPO_TYPES = tuple(kind.value for kind in RepoType)


def token_option(command: F) -> F:
    """`--token`: the token for this command only."""
    return click.option(
        "--token",
        metavar="TOKEN",
        help="Token to use [default: HF_TOKEN, else the stored login].",
    )(command)


def limit_option(command: F) -> F:
    """`--limit N` (default 100, 0 for all), passed as `limit`."""
    return click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=100,
        show_default=True,
        help="How many at most (0: all).",
    )(command)


def repo_type_option(command: F) -> F:
    """`--repo-type model|dataset|space|kernel`, passed as `repo_type`."""
    return click.option(
        "--repo-type",
        type=click.Choice(REPO_TYPES),
        default=RepoType.MODEL.value,
        show_default=True,
        help="Kind of repo.",
    )(command)


def revision_option(command: F) -> F:
    """`--revision`: a branch, tag or commit."""
    return click.option("--revision", metavar="REV", help="Branch, tag or commit [default: main].")(
        command
    )


def cache_dir_option(command: F) -> F:
    """`--cache-dir`: the Hugging Face cache, passed as a `Path` or None."""
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Hugging Face cache to use [default: HF_HUB_CACHE, else ~/.cache/huggingface/hub].",
    )(command)


def open_api(token: str | None) -> HfApi:
    """A client on the configured hub (close it, or use it as a context manager)."""
    from hubstead.client.api import HfApi

    return HfApi(token=token)


def confirm_or_require_yes(prompt: str, yes: bool) -> None:
    """Ask before something irreversible; without a terminal, `--yes` is required.

    Raises:
        CliError: no terminal to ask and no `--yes`.
        click.Abort: the user said no.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError("This cannot be undone: pass --yes to confirm.", EXIT_USAGE)
    click.confirm(prompt, abort=True, err=True)
