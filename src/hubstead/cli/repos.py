"""`hubstead repo|branch|tag ...` and `hubstead ls`: repos and their refs on the hub.

Data (URLs, tables, `--json` documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
from itertools import islice
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._client import (
    confirm_or_require_yes,
    limit_option,
    open_api,
    repo_type_option,
    revision_option,
    token_option,
)
from hubstead.cli._errors import reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client.models import RepoInfo


# --- repo ---------------------------------------------------------------------------------------


@click.group()
def repo() -> None:
    """Create, delete, inspect and list repos."""


@repo.command("create")
@click.argument("repo_id")
@repo_type_option
@click.option("--private", is_flag=True, help="Only you (and your organization) can see it.")
@click.option("--exist-ok", is_flag=True, help="Succeed if the repo exists already.")
@click.option("--space-sdk", help="The Space's SDK: gradio, streamlit, docker or static.")
@token_option
@json_option
@reports_client_errors
def create_repo(
    repo_id: str,
    repo_type: str,
    private: bool,
    exist_ok: bool,
    space_sdk: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Create a repo and print its URL (REPO_ID `name` alone: in your namespace)."""
    with open_api(token) as api:
        url = api.create_repo(
            repo_id,
            repo_type=repo_type,
            private=private or None,
            exist_ok=exist_ok,
            space_sdk=space_sdk,
        )
    if as_json:
        emit_json({"url": str(url), "repo_id": url.repo_id, "repo_type": url.repo_type})
    else:
        click.echo(url)


@repo.command("delete")
@click.argument("repo_id")
@repo_type_option
@click.option("--missing-ok", is_flag=True, help="Succeed if the repo does not exist.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@token_option
@reports_client_errors
def delete_repo(
    repo_id: str, repo_type: str, missing_ok: bool, yes: bool, token: str | None
) -> None:
    """Delete REPO_ID and all its files, for good."""
    confirm_or_require_yes(f"Delete the {repo_type} {repo_id} and all its files?", yes)
    with open_api(token) as api:
        api.delete_repo(repo_id, repo_type=repo_type, missing_ok=missing_ok)
    click.echo(f"Deleted {repo_type} {repo_id}.", err=True)


@repo.command("duplicate")
@click.argument("from_id")
@click.argument("to_id", required=False)
@repo_type_option
@click.option(
    "--private/--public",
    default=None,
    help="The copy's visibility (default: the source's).",
)
@click.option("--exist-ok", is_flag=True, help="Succeed if the target exists already.")
@token_option
@json_option
@reports_client_errors
def duplicate_repo(
    from_id: str,
    to_id: str | None,
    repo_type: str,
    private: bool | None,
    exist_ok: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Copy FROM_ID with its history and files to TO_ID and print its URL.

    TO_ID defaults to FROM_ID's name in your namespace; `name` alone is in your namespace too.
    """
    with open_api(token) as api:
        url = api.duplicate_repo(
            from_id, to_id, repo_type=repo_type, private=private, exist_ok=exist_ok
        )
    if as_json:
        emit_json({"url": str(url), "repo_id": url.repo_id, "repo_type": url.repo_type})
    else:
        click.echo(url)


@repo.command("info")
@click.argument("repo_id")
@repo_type_option
@revision_option
@token_option
@json_option
@reports_client_errors
def repo_info(
    repo_id: str, repo_type: str, revision: str | None, token: str | None, as_json: bool
) -> None:
    """Show what the hub knows about REPO_ID (at a revision)."""
    with open_api(token) as api:
        info = api.repo_info(repo_id, repo_type=repo_type, revision=revision)
    if as_json:
        emit_json(dataclasses.asdict(info))
        return
    fields = {
        "id": info.id,
        "type": repo_type,
        "commit": info.sha,
        "private": info.private,
        "gated": info.gated,
        "last modified": info.last_modified,
        "likes": info.likes,
        "files": len(info.siblings) if info.siblings is not None else None,
        "tags": ", ".join(info.tags) or None,
        "library": getattr(info, "library_name", None),
        "sdk": getattr(info, "sdk", None),
    }
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        if value is not None:
            click.echo(f"{key.ljust(width)}  {value}")


@repo.command("list")
@repo_type_option
@click.option("--author", help="Only repos in this namespace (user or organization).")
@click.option("--search", help="Only repos whose id contains this.")
@limit_option
@token_option
@json_option
@reports_client_errors
def list_repos(
    repo_type: str,
    author: str | None,
    search: str | None,
    limit: int,
    token: str | None,
    as_json: bool,
) -> None:
    """List the repos you can see, newest first."""
    query: dict[str, Any] = {"author": author, "search": search, "limit": limit or None}
    found: list[RepoInfo]
    with open_api(token) as api:
        if repo_type == "dataset":
            found = list(api.list_datasets(**query))
        elif repo_type == "space":
            found = list(api.list_spaces(**query))
        elif repo_type == "kernel":
            found = list(api.list_kernels(**query))
        else:
            found = list(api.list_models(**query))
    if as_json:
        emit_json([dataclasses.asdict(info) for info in found])
        return
    rows = [
        {
            "id": info.id,
            "private": "yes" if info.private else "no",
            "modified": info.last_modified.date() if info.last_modified else "",
        }
        for info in found
    ]
    emit_table(rows, False, ["id", "private", "modified"])


@repo.command("storage")
@click.option("--org", help="List this organization's repos instead of yours.")
@limit_option
@token_option
@json_option
@reports_client_errors
def repo_storage(org: str | None, limit: int, token: str | None, as_json: bool) -> None:
    """List the repos of your namespace (or --org's) with the storage each uses."""
    with open_api(token) as api:
        found = list(islice(api.list_user_repos(org), limit or None))
    if as_json:
        emit_json([dataclasses.asdict(info) for info in found])
        return
    rows = [
        {
            "id": info.id,
            "type": info.type,
            "visibility": info.visibility,
            "bytes": info.storage,
            "share": f"{info.storage_percent:.1f}%",
        }
        for info in found
    ]
    emit_table(rows, False, ["id", "type", "visibility", "bytes", "share"])


# --- ls -----------------------------------------------------------------------------------------


@click.command("ls")
@click.argument("repo_id")
@click.argument("path", required=False, default="")
@repo_type_option
@revision_option
@click.option("--recursive", "-R", is_flag=True, help="List everything below PATH.")
@token_option
@json_option
@reports_client_errors
def ls(
    repo_id: str,
    path: str,
    repo_type: str,
    revision: str | None,
    recursive: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """List the files and folders of REPO_ID under PATH."""
    from hubstead.client.models import RepoFile

    with open_api(token) as api:
        entries = list(
            api.list_repo_tree(
                repo_id, path, recursive=recursive, revision=revision, repo_type=repo_type
            )
        )
    if as_json:
        emit_json(
            [
                {
                    "type": "file" if isinstance(e, RepoFile) else "directory",
                    **dataclasses.asdict(e),
                }
                for e in entries
            ]
        )
        return
    for entry in entries:
        if isinstance(entry, RepoFile):
            marker = "lfs" if entry.lfs else ""
            click.echo(f"{entry.size:>12}  {marker:3}  {entry.path}")
        else:
            click.echo(f"{'-':>12}  {'':3}  {entry.path}/")


# --- branch and tag -----------------------------------------------------------------------------


@click.group()
def branch() -> None:
    """Create, delete and list a repo's branches."""


@branch.command("create")
@click.argument("repo_id")
@click.argument("name")
@repo_type_option
@revision_option
@click.option("--exist-ok", is_flag=True, help="Succeed if the branch exists already.")
@token_option
@reports_client_errors
def create_branch(
    repo_id: str,
    name: str,
    repo_type: str,
    revision: str | None,
    exist_ok: bool,
    token: str | None,
) -> None:
    """Create branch NAME in REPO_ID at a revision (default: the head of main)."""
    with open_api(token) as api:
        api.create_branch(
            repo_id, branch=name, revision=revision, repo_type=repo_type, exist_ok=exist_ok
        )
    click.echo(f"Created branch {name!r} in {repo_id}.", err=True)


@branch.command("delete")
@click.argument("repo_id")
@click.argument("name")
@repo_type_option
@token_option
@reports_client_errors
def delete_branch(repo_id: str, name: str, repo_type: str, token: str | None) -> None:
    """Delete branch NAME of REPO_ID (its commits stay reachable from other refs only)."""
    with open_api(token) as api:
        api.delete_branch(repo_id, branch=name, repo_type=repo_type)
    click.echo(f"Deleted branch {name!r} of {repo_id}.", err=True)


@branch.command("list")
@click.argument("repo_id")
@repo_type_option
@token_option
@json_option
@reports_client_errors
def list_branches(repo_id: str, repo_type: str, token: str | None, as_json: bool) -> None:
    """List the branches of REPO_ID with the commit each points at."""
    _list_refs(repo_id, repo_type, token, as_json, tags=False)


@click.group()
def tag() -> None:
    """Create, delete and list a repo's tags."""


@tag.command("create")
@click.argument("repo_id")
@click.argument("name")
@repo_type_option
@revision_option
@click.option("--message", "-m", help="Make an annotated tag with this message.")
@click.option("--exist-ok", is_flag=True, help="Succeed if the tag exists already.")
@token_option
@reports_client_errors
def create_tag(
    repo_id: str,
    name: str,
    repo_type: str,
    revision: str | None,
    message: str | None,
    exist_ok: bool,
    token: str | None,
) -> None:
    """Tag a revision of REPO_ID (default: the head of main) as NAME."""
    with open_api(token) as api:
        api.create_tag(
            repo_id,
            tag=name,
            tag_message=message,
            revision=revision,
            repo_type=repo_type,
            exist_ok=exist_ok,
        )
    click.echo(f"Created tag {name!r} in {repo_id}.", err=True)


@tag.command("delete")
@click.argument("repo_id")
@click.argument("name")
@repo_type_option
@token_option
@reports_client_errors
def delete_tag(repo_id: str, name: str, repo_type: str, token: str | None) -> None:
    """Delete tag NAME of REPO_ID."""
    with open_api(token) as api:
        api.delete_tag(repo_id, tag=name, repo_type=repo_type)
    click.echo(f"Deleted tag {name!r} of {repo_id}.", err=True)


@tag.command("list")
@click.argument("repo_id")
@repo_type_option
@token_option
@json_option
@reports_client_errors
def list_tags(repo_id: str, repo_type: str, token: str | None, as_json: bool) -> None:
    """List the tags of REPO_ID with the commit each points at."""
    _list_refs(repo_id, repo_type, token, as_json, tags=True)


def _list_refs(
    repo_id: str, repo_type: str, token: str | None, as_json: bool, *, tags: bool
) -> None:
    with open_api(token) as api:
        refs = api.list_repo_refs(repo_id, repo_type=repo_type)
    chosen = refs.tags if tags else refs.branches
    rows = [{"name": ref.name, "commit": ref.target_commit} for ref in chosen]
    emit_table(rows, as_json, ["name", "commit"])
