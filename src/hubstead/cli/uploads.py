"""`hubstead upload REPO [PATH] [PATH_IN_REPO]`: a file or a folder to a repo, like `hf upload`.

The repo (and the branch `--revision`) is created when missing. A file lands at PATH_IN_REPO
(default: its name); a folder's files land under PATH_IN_REPO (default: the repo's root) in one
commit, or, with `--large`, in many resumable commits. The commit URL goes to stdout, or, with
`--create-pr`, the URL of the pull request the commit opened. `--revision refs/pr/<num>` adds the
commit to that pull request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubstead.cli._client import open_api, repo_type_option, token_option
from hubstead.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from hubstead.cli._output import emit_json, json_option

if TYPE_CHECKING:
    from hubstead.client.api import HfApi
    from hubstead.client.models import CommitInfo


@click.command("upload")
@click.argument("repo_id")
@click.argument(
    "local_path", required=False, default=".", type=click.Path(exists=True, path_type=Path)
)
@click.argument("path_in_repo", required=False)
@repo_type_option
@click.option(
    "--revision",
    metavar="BRANCH",
    help="Branch to commit to, created from main if missing, or a pull request's "
    "refs/pr/<num> [default: main].",
)
@click.option(
    "--create-pr",
    is_flag=True,
    help="Open a pull request with the commit (into --revision) instead of committing to it.",
)
@click.option("--commit-message", help="Title of the commit [default: generated].")
@click.option("--commit-description", help="Body of the commit message.")
@click.option("--include", multiple=True, metavar="PATTERN", help="Upload only matching files.")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Skip matching files.")
@click.option(
    "--delete",
    multiple=True,
    metavar="PATTERN",
    help="Delete matching remote files under PATH_IN_REPO that are not being uploaded.",
)
@click.option("--private", is_flag=True, help="Create the repo private (if it is created).")
@click.option(
    "--large",
    is_flag=True,
    help="Upload a big folder in many commits; run the command again to resume.",
)
@token_option
@json_option
@reports_client_errors
def upload(
    repo_id: str,
    local_path: Path,
    path_in_repo: str | None,
    repo_type: str,
    revision: str | None,
    create_pr: bool,
    commit_message: str | None,
    commit_description: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    delete: tuple[str, ...],
    private: bool,
    large: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Upload a file or a folder to a repo (created if needed).

    LOCAL_PATH (default: the current folder) lands at PATH_IN_REPO (default: a file's name, or
    the repo's root for a folder), in one commit; with --large, in many resumable commits.
    """
    if local_path.is_file() and (include or exclude or delete or large):
        raise CliError(
            "--include, --exclude, --delete and --large apply to folders, not to a file",
            EXIT_USAGE,
        )
    if large and (path_in_repo or delete or commit_message or commit_description):
        raise CliError(
            "--large uploads the folder to the repo's root with its own commit titles: "
            "PATH_IN_REPO, --delete and --commit-message/--commit-description do not apply",
            EXIT_USAGE,
        )
    if large and create_pr:
        raise CliError("--large commits to a branch: it cannot open a pull request", EXIT_USAGE)
    with open_api(token) as api:
        if large:
            info = api.upload_large_folder(
                repo_id,
                local_path,
                repo_type=repo_type,
                revision=revision,
                private=private or None,
                allow_patterns=list(include) or None,
                ignore_patterns=list(exclude) or None,
                print_report=not as_json,
            )
        else:
            if not create_pr and not (revision or "").startswith("refs/pr/"):
                # A pull request goes to a repo and a ref that exist, maybe someone else's.
                _ensure_target(api, repo_id, repo_type, revision, private)
            if local_path.is_file():
                info = api.upload_file(
                    path_or_fileobj=local_path,
                    path_in_repo=path_in_repo or local_path.name,
                    repo_id=repo_id,
                    repo_type=repo_type,
                    revision=revision,
                    commit_message=commit_message,
                    commit_description=commit_description,
                    create_pr=create_pr,
                )
            else:
                info = api.upload_folder(
                    repo_id=repo_id,
                    folder_path=local_path,
                    path_in_repo=path_in_repo,
                    repo_type=repo_type,
                    revision=revision,
                    commit_message=commit_message,
                    commit_description=commit_description,
                    allow_patterns=list(include) or None,
                    ignore_patterns=list(exclude) or None,
                    delete_patterns=list(delete) or None,
                    create_pr=create_pr,
                )
    _report(info, repo_id, repo_type, as_json)


def _ensure_target(
    api: HfApi, repo_id: str, repo_type: str, revision: str | None, private: bool
) -> None:
    """Create the repo, and the branch `revision`, when they do not exist."""
    api.create_repo(
        repo_id,
        repo_type=repo_type,
        private=private or None,
        exist_ok=True,
        space_sdk="gradio" if repo_type == "space" else None,
    )
    if revision is not None:
        api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)


def _report(info: CommitInfo | None, repo_id: str, repo_type: str, as_json: bool) -> None:
    if as_json:
        commit = None
        if info is not None:
            commit = {
                "url": info.commit_url,
                "oid": info.oid,
                "message": info.commit_message,
                "pull_request_url": info.pr_url,
            }
        emit_json({"repo_id": repo_id, "repo_type": repo_type, "commit": commit})
    elif info is None:
        click.echo("Everything was already uploaded: no commit made.", err=True)
    else:
        click.echo(info.pr_url or info.commit_url)
