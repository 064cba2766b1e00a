"""The `hubstead` command: one click group, one module per command group."""

from __future__ import annotations

from typing import Any

import click

from hubstead import __version__
from hubstead.cli import (
    access,
    admin,
    auth,
    cache,
    collections,
    discussions,
    downloads,
    jobs,
    likes,
    mirrors,
    profiles,
    repos,
    server,
    spaces,
    upkeep,
    uploads,
    webhooks,
    worker,
)
from hubstead.cli._errors import EXIT_USAGE, missing_extra_error


class _Cli(click.Group):
    """The root group; a malformed command line exits 1, as `cli/_errors.py` documents.

    click's own code for usage errors is 2, which here means "not found".
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the root options."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE  # type: ignore[misc]  # click reads the instance
            raise

    def invoke(self, ctx: click.Context) -> Any:
        """Parse and run the subcommand; a missing optional extra is named, not a traceback."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE  # type: ignore[misc]  # click reads the instance
            raise
        except ModuleNotFoundError as exc:
            error = missing_extra_error(exc)
            if error is None:
                raise
            raise error from exc


@click.group(
    cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="hubstead")
def cli() -> None:
    """hubstead: a self-hosted hub that speaks the Hugging Face Hub protocol."""


cli.add_command(server.serve)
cli.add_command(server.check_config)
cli.add_command(admin.admin)
cli.add_command(jobs.jobs)
cli.add_command(mirrors.mirror)
cli.add_command(worker.worker)
cli.add_command(upkeep.fsck)
cli.add_command(upkeep.gc)
cli.add_command(auth.login)
cli.add_command(auth.logout)
cli.add_command(auth.whoami)
cli.add_command(repos.repo)
cli.add_command(repos.ls)
cli.add_command(repos.branch)
cli.add_command(repos.tag)
cli.add_command(uploads.upload)
cli.add_command(downloads.download)
cli.add_command(cache.cache)
cli.add_command(discussions.discussions)
cli.add_command(likes.like)
cli.add_command(likes.unlike)
cli.add_command(collections.collections)
cli.add_command(profiles.user)
cli.add_command(profiles.org)
cli.add_command(profiles.follow)
cli.add_command(profiles.unfollow)
cli.add_command(access.access)
cli.add_command(webhooks.webhooks)
cli.add_command(spaces.spaces)


def main() -> None:
    """Console entry point."""
    cli()
