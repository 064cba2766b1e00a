"""`hubstead discussions ...`: a repo's discussions and pull requests on the hub.

Data (tables, timelines, diffs, URLs, `--json` documents) goes to stdout; confirmations go to
stderr. A pull request's commits go to its ref, `refs/pr/<num>` (`hubstead upload ...
--revision refs/pr/<num>`).
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from hubstead.cli._client import (
    confirm_or_require_yes,
    limit_option,
    open_api,
    repo_type_option,
    token_option,
)
from hubstead.cli._errors import EXIT_USAGE, CliError, reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client._discussions import DiscussionStatusFilter, DiscussionTypeFilter
    from hubstead.client.models import Discussion, DiscussionEvent, DiscussionWithDetails

# The hub filters open (drafts included) and closed; merged and drafts alone are picked here.
_STATUSES = ("open", "closed", "merged", "draft", "all")
_SERVER_STATUS: dict[str, DiscussionStatusFilter] = {"open": "open", "closed": "closed"}
_TYPES: dict[str, DiscussionTypeFilter] = {
    "discussion": "discussion",
    "pull_request": "pull_request",
}


F = TypeVar("F", bound=Callable[..., Any])


def _num_argument(command: F) -> F:
    """The NUM argument: a discussion's number."""
    return click.argument("num", type=click.IntRange(min=1), metavar="NUM")(command)


def _comment_option(what: str) -> Callable[[F], F]:
    """`--comment`, posted with a status change or a merge."""
    return click.option("--comment", "-m", help=f"A comment (markdown) posted with the {what}.")


@click.group()
def discussions() -> None:
    """List, read, open, comment on, close and merge discussions and pull requests."""


@discussions.command("list")
@click.argument("repo_id")
@repo_type_option
@click.option(
    "--status",
    type=click.Choice(_STATUSES),
    default="open",
    show_default=True,
    help="Which ones (open includes draft pull requests).",
)
@click.option(
    "--kind",
    "--type",
    "kind",
    type=click.Choice(["all", *_TYPES]),
    default="all",
    show_default=True,
    help="Discussions, pull requests, or both.",
)
@click.option("--author", help="Only those opened by this user.")
@click.option("--search", help="Only those whose title contains this.")
@limit_option
@token_option
@json_option
@reports_client_errors
def list_discussions(
    repo_id: str,
    repo_type: str,
    status: str,
    kind: str,
    author: str | None,
    search: str | None,
    limit: int,
    token: str | None,
    as_json: bool,
) -> None:
    """List the discussions and pull requests of REPO_ID, newest first."""
    found: list[Discussion] = []
    with open_api(token) as api:
        for discussion in api.get_repo_discussions(
            repo_id,
            author=author,
            discussion_type=_TYPES.get(kind),
            discussion_status=_SERVER_STATUS.get(status),
            repo_type=repo_type,
            token=token,
            search=search,
        ):
            if status in ("merged", "draft") and discussion.status != status:
                continue
            found.append(discussion)
            if len(found) == limit:
                break
    if as_json:
        emit_json([_discussion_json(d) for d in found])
        return
    rows = [
        {
            "num": d.num,
            "type": "pull request" if d.is_pull_request else "discussion",
            "status": d.status,
            "title": d.title,
            "author": d.author,
            "created": d.created_at.date(),
        }
        for d in found
    ]
    emit_table(rows, False, ["num", "type", "status", "title", "author", "created"])


@discussions.command("info")
@click.argument("repo_id")
@_num_argument
@repo_type_option
@token_option
@json_option
@reports_client_errors
def info(repo_id: str, num: int, repo_type: str, token: str | None, as_json: bool) -> None:
    """Show discussion NUM of REPO_ID and its timeline (comment ids in brackets)."""
    with open_api(token) as api:
        details = api.get_discussion_details(repo_id, num, repo_type=repo_type)
    if as_json:
        emit_json(_details_json(details))
        return
    click.echo(f"#{details.num}  {details.title}")
    fields = {
        "type": "pull request" if details.is_pull_request else "discussion",
        "status": details.status,
        "author": details.author,
        "created": details.created_at,
        "url": details.url,
        "ref": details.git_reference,
        "target": details.target_branch,
        "conflicts": _conflicts(details.conflicting_files),
        "merge commit": details.merge_commit_oid,
    }
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        if value is not None:
            click.echo(f"{key.ljust(width)}  {value}")
    for event in details.events:
        click.echo()
        click.echo(_describe(event))


@discussions.command("create")
@click.argument("repo_id")
@click.option("--title", required=True, help="3 to 200 characters.")
@click.option(
    "--description",
    "--body",
    "description",
    help="The first comment (markdown); '-' reads it from standard input.",
)
@click.option("--pull-request", "--pr", is_flag=True, help="Open a (draft) pull request.")
@repo_type_option
@token_option
@json_option
@reports_client_errors
def create(
    repo_id: str,
    title: str,
    description: str | None,
    pull_request: bool,
    repo_type: str,
    token: str | None,
    as_json: bool,
) -> None:
    """Open a discussion (or a pull request) on REPO_ID and print its URL."""
    with open_api(token) as api:
        details = api.create_discussion(
            repo_id,
            title,
            description=_text(description),
            repo_type=repo_type,
            pull_request=pull_request,
        )
    if as_json:
        emit_json(_details_json(details))
    else:
        click.echo(details.url)
    kind = "pull request" if pull_request else "discussion"
    where = f"; commit to {details.git_reference}, then reopen it to merge" if pull_request else ""
    click.echo(f"Opened {kind} #{details.num} on {repo_id}{where}.", err=True)


@discussions.command("comment")
@click.argument("repo_id")
@_num_argument
@click.argument("text", metavar="[COMMENT]", required=False)
@click.option("--body", help="The comment, instead of the COMMENT argument.")
@repo_type_option
@token_option
@reports_client_errors
def comment(
    repo_id: str, num: int, text: str | None, body: str | None, repo_type: str, token: str | None
) -> None:
    """Comment on discussion NUM of REPO_ID (COMMENT in markdown; '-' reads standard input)."""
    if (text is None) == (body is None):
        raise CliError("Give the comment either as COMMENT or with --body", EXIT_USAGE)
    with open_api(token) as api:
        event = api.comment_discussion(repo_id, num, _text(text or body) or "", repo_type=repo_type)
    click.echo(f"Commented on #{num} of {repo_id} (comment {event.id}).", err=True)


@discussions.command("edit")
@click.argument("repo_id")
@_num_argument
@click.argument("comment_id")
@click.argument("text", metavar="[COMMENT]", required=False)
@click.option("--body", help="The new content, instead of the COMMENT argument.")
@repo_type_option
@token_option
@reports_client_errors
def edit(
    repo_id: str,
    num: int,
    comment_id: str,
    text: str | None,
    body: str | None,
    repo_type: str,
    token: str | None,
) -> None:
    """Replace your comment COMMENT_ID on discussion NUM of REPO_ID (ids: `info`)."""
    if (text is None) == (body is None):
        raise CliError("Give the new content either as COMMENT or with --body", EXIT_USAGE)
    with open_api(token) as api:
        api.edit_discussion_comment(
            repo_id, num, comment_id, _text(text or body) or "", repo_type=repo_type
        )
    click.echo(f"Edited comment {comment_id} on #{num} of {repo_id}.", err=True)


@discussions.command("hide")
@click.argument("repo_id")
@_num_argument
@click.argument("comment_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@repo_type_option
@token_option
@reports_client_errors
def hide(
    repo_id: str, num: int, comment_id: str, yes: bool, repo_type: str, token: str | None
) -> None:
    """Hide comment COMMENT_ID on discussion NUM of REPO_ID for good (writers of the repo)."""
    confirm_or_require_yes(
        f"Hide comment {comment_id} on #{num} of {repo_id}? Its content cannot be recovered.",
        yes,
    )
    with open_api(token) as api, warnings.catch_warnings():
        # The client warns that hiding is irreversible: the prompt above said so already.
        warnings.simplefilter("ignore", UserWarning)
        api.hide_discussion_comment(repo_id, num, comment_id, repo_type=repo_type)
    click.echo(f"Hid comment {comment_id} on #{num} of {repo_id}.", err=True)


@discussions.command("close")
@click.argument("repo_id")
@_num_argument
@_comment_option("change")
@repo_type_option
@token_option
@reports_client_errors
def close(repo_id: str, num: int, comment: str | None, repo_type: str, token: str | None) -> None:
    """Close discussion NUM of REPO_ID."""
    _change_status(repo_id, num, "closed", comment, repo_type, token)


@discussions.command("reopen")
@click.argument("repo_id")
@_num_argument
@_comment_option("change")
@repo_type_option
@token_option
@reports_client_errors
def reopen(repo_id: str, num: int, comment: str | None, repo_type: str, token: str | None) -> None:
    """Reopen discussion NUM of REPO_ID (a draft pull request becomes ready to merge)."""
    _change_status(repo_id, num, "open", comment, repo_type, token)


@discussions.command("rename")
@click.argument("repo_id")
@_num_argument
@click.argument("title")
@repo_type_option
@token_option
@reports_client_errors
def rename(repo_id: str, num: int, title: str, repo_type: str, token: str | None) -> None:
    """Give discussion NUM of REPO_ID a new TITLE."""
    with open_api(token) as api:
        event = api.rename_discussion(repo_id, num, title, repo_type=repo_type)
    click.echo(f"Renamed #{num} of {repo_id} to {event.new_title!r}.", err=True)


@discussions.command("merge")
@click.argument("repo_id")
@_num_argument
@_comment_option("merge")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@repo_type_option
@token_option
@reports_client_errors
def merge(
    repo_id: str, num: int, comment: str | None, yes: bool, repo_type: str, token: str | None
) -> None:
    """Merge pull request NUM of REPO_ID into its target branch."""
    confirm_or_require_yes(f"Merge pull request #{num} of {repo_id}?", yes)
    with open_api(token) as api:
        api.merge_pull_request(repo_id, num, comment=comment, repo_type=repo_type)
        details = api.get_discussion_details(repo_id, num, repo_type=repo_type)
    click.echo(
        f"Merged #{num} into {details.target_branch} of {repo_id} "
        f"(commit {details.merge_commit_oid}).",
        err=True,
    )


@discussions.command("diff")
@click.argument("repo_id")
@_num_argument
@repo_type_option
@token_option
@reports_client_errors
def diff(repo_id: str, num: int, repo_type: str, token: str | None) -> None:
    """Print the changes of pull request NUM of REPO_ID as a git diff."""
    with open_api(token) as api:
        details = api.get_discussion_details(repo_id, num, repo_type=repo_type)
    if not details.is_pull_request:
        raise CliError(f"#{num} of {repo_id} is a discussion, not a pull request", EXIT_USAGE)
    click.echo(details.diff or "", nl=False)


def _change_status(
    repo_id: str,
    num: int,
    status: Literal["open", "closed"],
    comment: str | None,
    repo_type: str,
    token: str | None,
) -> None:
    with open_api(token) as api:
        api.change_discussion_status(repo_id, num, status, comment=comment, repo_type=repo_type)
    verb = "Closed" if status == "closed" else "Reopened"
    click.echo(f"{verb} #{num} of {repo_id}.", err=True)


def _conflicts(files: tuple[str, ...] | bool | None) -> str | None:
    """A pull request's conflicting paths for people (None: not a pull request)."""
    if files is None or files is False:
        return None
    if files is True:
        return "yes (the hub does not list them)"
    return ", ".join(files) or "none"


def _text(value: str | None) -> str | None:
    """A markdown argument; `-` means standard input."""
    return sys.stdin.read() if value == "-" else value


def _describe(event: DiscussionEvent) -> str:
    """One timeline event for people: who, when, what."""
    from hubstead.client import models

    head = f"{event.created_at:%Y-%m-%d %H:%M}  {event.author}"
    if isinstance(event, models.DiscussionComment):
        if event.hidden:
            return f"{head}  [{event.id}]  (hidden comment)"
        edited = " (edited)" if event.edited else ""
        body = "\n".join(f"    {line}" for line in event.content.splitlines())
        return f"{head}  [{event.id}]  commented{edited}:\n{body}"
    if isinstance(event, models.DiscussionStatusChange):
        return f"{head}  set the status to {event.new_status}"
    if isinstance(event, models.DiscussionTitleChange):
        return f"{head}  renamed it from {event.old_title!r} to {event.new_title!r}"
    if isinstance(event, models.DiscussionCommit):
        return f"{head}  added commit {event.oid[:12]} {event.summary}"
    return f"{head}  {event.type}"


def _discussion_json(discussion: Discussion) -> dict[str, Any]:
    """A discussion for `--json`, with its URL and ref."""
    fields = {f.name: getattr(discussion, f.name) for f in dataclasses.fields(discussion)}
    fields.pop("endpoint")
    return {**fields, "url": discussion.url, "git_reference": discussion.git_reference}


def _details_json(details: DiscussionWithDetails) -> dict[str, Any]:
    """A discussion's details for `--json`: events without the hub's raw copy of them."""
    events = [
        {k: v for k, v in dataclasses.asdict(e).items() if k != "_event"} for e in details.events
    ]
    return {**_discussion_json(details), "events": events}
