"""`hubstead like REPO_ID` and `hubstead unlike REPO_ID`: a user's likes of repos."""

from __future__ import annotations

import click

from hubstead.cli._client import open_api, repo_type_option, token_option
from hubstead.cli._errors import reports_client_errors


@click.command("like")
@click.argument("repo_id")
@repo_type_option
@token_option
@reports_client_errors
def like(repo_id: str, repo_type: str, token: str | None) -> None:
    """Like REPO_ID (liking it again changes nothing)."""
    with open_api(token) as api:
        api.like(repo_id, repo_type=repo_type)
    click.echo(f"Liked {repo_type} {repo_id}.", err=True)


@click.command("unlike")
@click.argument("repo_id")
@repo_type_option
@token_option
@reports_client_errors
def unlike(repo_id: str, repo_type: str, token: str | None) -> None:
    """Take back your like of REPO_ID."""
    with open_api(token) as api:
        api.unlike(repo_id, repo_type=repo_type)
    click.echo(f"Unliked {repo_type} {repo_id}.", err=True)
