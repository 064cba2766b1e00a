"""`hubstead user|org ...` and `hubstead follow|unfollow`: people on the hub.

Data (profiles, tables, `--json` documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._client import limit_option, open_api, token_option
from hubstead.cli._errors import reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client.models import Organization, User


def _emit_profile(profile: User | Organization, fields: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(dataclasses.asdict(profile))
        return
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        if value is not None:
            click.echo(f"{key.ljust(width)}  {value}")


def _emit_people(people: Iterable[User], limit: int, as_json: bool) -> None:
    found = list(islice(people, limit or None))
    if as_json:
        emit_json([dataclasses.asdict(person) for person in found])
        return
    rows = [{"name": p.username, "fullname": p.fullname, "type": p.user_type} for p in found]
    emit_table(rows, False, ["name", "fullname", "type"])


def _org_option(command: Any) -> Any:
    return click.option(
        "--org", "organization", is_flag=True, help="NAME is an organization, not a user."
    )(command)


# --- user ---------------------------------------------------------------------------------------


@click.group()
def user() -> None:
    """Show users, their followers and whom they follow."""


@user.command("info")
@click.argument("name")
@token_option
@json_option
@reports_client_errors
def user_info(name: str, token: str | None, as_json: bool) -> None:
    """Show NAME's profile: repos you can see, followers, organizations."""
    with open_api(token) as api:
        profile = api.get_user_overview(name)
    fields = {
        "user": profile.username,
        "fullname": profile.fullname,
        "avatar": profile.avatar_url,
        "models": profile.num_models,
        "datasets": profile.num_datasets,
        "spaces": profile.num_spaces,
        "discussions": profile.num_discussions,
        "followers": profile.num_followers,
        "following": profile.num_following,
        "you follow": profile.is_following,
        "orgs": ", ".join(org.name for org in profile.orgs) or None,
    }
    _emit_profile(profile, fields, as_json)


@user.command("followers")
@click.argument("name")
@limit_option
@token_option
@json_option
@reports_client_errors
def user_followers(name: str, limit: int, token: str | None, as_json: bool) -> None:
    """List the users following NAME."""
    with open_api(token) as api:
        _emit_people(api.list_user_followers(name), limit, as_json)


@user.command("following")
@click.argument("name")
@limit_option
@token_option
@json_option
@reports_client_errors
def user_following(name: str, limit: int, token: str | None, as_json: bool) -> None:
    """List the users and organizations NAME follows."""
    with open_api(token) as api:
        _emit_people(api.list_user_following(name), limit, as_json)


# --- org ----------------------------------------------------------------------------------------


@click.group()
def org() -> None:
    """Show organizations, their members and followers."""


@org.command("info")
@click.argument("name")
@token_option
@json_option
@reports_client_errors
def org_info(name: str, token: str | None, as_json: bool) -> None:
    """Show organization NAME's profile: members, repos you can see, followers."""
    with open_api(token) as api:
        profile = api.get_organization_overview(name)
    fields = {
        "org": profile.name,
        "fullname": profile.fullname,
        "avatar": profile.avatar_url,
        "members": profile.num_users,
        "models": profile.num_models,
        "datasets": profile.num_datasets,
        "spaces": profile.num_spaces,
        "followers": profile.num_followers,
        "you follow": profile.is_following,
    }
    _emit_profile(profile, fields, as_json)


@org.command("members")
@click.argument("name")
@limit_option
@token_option
@json_option
@reports_client_errors
def org_members(name: str, limit: int, token: str | None, as_json: bool) -> None:
    """List the members of organization NAME."""
    with open_api(token) as api:
        _emit_people(api.list_organization_members(name), limit, as_json)


@org.command("followers")
@click.argument("name")
@limit_option
@token_option
@json_option
@reports_client_errors
def org_followers(name: str, limit: int, token: str | None, as_json: bool) -> None:
    """List the users following organization NAME."""
    with open_api(token) as api:
        _emit_people(api.list_organization_followers(name), limit, as_json)


# --- follow -------------------------------------------------------------------------------------


@click.command("follow")
@click.argument("name")
@_org_option
@token_option
@reports_client_errors
def follow(name: str, organization: bool, token: str | None) -> None:
    """Follow the user (or, with --org, the organization) NAME."""
    with open_api(token) as api:
        changed = api.follow(name, organization=organization)
    click.echo(f"You follow {name}." if changed else f"You already follow {name}.", err=True)


@click.command("unfollow")
@click.argument("name")
@_org_option
@token_option
@reports_client_errors
def unfollow(name: str, organization: bool, token: str | None) -> None:
    """Stop following the user (or, with --org, the organization) NAME."""
    with open_api(token) as api:
        changed = api.unfollow(name, organization=organization)
    click.echo(
        f"You no longer follow {name}." if changed else f"You did not follow {name}.", err=True
    )
