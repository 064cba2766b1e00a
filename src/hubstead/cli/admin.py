"""`hubstead admin …`: users, organizations and tokens, managed on the data dir.

The commands open the data dir's database directly, so they work whether or not a server is
running on it (SQLite in WAL mode and PostgreSQL both allow that), and never prompt unless asked
to delete from a terminal. Their spellings are relied on by tooling outside this package: keep
them stable. Secrets go to stdout alone (or in `--json`); messages go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hubstead.cli._errors import CliError
from hubstead.cli._output import emit_json, emit_table, json_option
from hubstead.cli.server import load, open_hub, run_service, storage_options

if TYPE_CHECKING:
    from hubstead.server.domain.accounts import Role
    from hubstead.server.services.auth import NewToken
    from hubstead.server.services.registry import Services

F = TypeVar("F", bound=Callable[..., Any])
_NEW_USER_TOKEN_NAME = "cli"  # noqa: S105 (a label, not a secret)


@click.group()
def admin() -> None:
    """Manage users, organizations and tokens in a data dir (the server may be running)."""


def _hub(
    data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> AbstractContextManager[Services]:
    """The services on the data dir the options name, closed on exit."""
    return open_hub(load(config_file, data_dir=data_dir, database_url=database_url))


def _emit_token(user: str, new: NewToken, as_json: bool) -> None:
    """The secret alone on stdout (it is never shown again), or all about it as JSON."""
    if as_json:
        record = {"user": user, "name": new.record.name, "role": new.record.role.value}
        click.echo(json.dumps({**record, "token": new.secret}, indent=2))
    else:
        click.echo(new.secret)


def _member(spec: str) -> tuple[str, Role]:
    from hubstead.server.domain.accounts import Role

    user, _, role = spec.partition(":")
    if not user or role not in {r.value for r in Role}:
        raise CliError(f"a member is USER:ROLE with ROLE read, write or admin, not {spec!r}")
    return user, Role(role)


@admin.command("create-user")
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user a site administrator.")
@click.option("--fullname", help="Display name [default: NAME].")
@click.option("--email", help="Email address (used as the git author email).")
@click.option("--token", help="Use this token instead of generating one (8+ characters).")
@json_option
@storage_options
def create_user(
    name: str,
    is_admin: bool,
    fullname: str | None,
    email: str | None,
    token: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Create a user and a write token named 'cli' for them; print the token once."""
    from hubstead.server.domain.accounts import AccountKind, Role

    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        run_service(
            lambda: auth.create_user(name, fullname=fullname, email=email, is_admin=is_admin)
        )
        try:
            new = run_service(
                lambda: auth.create_token(name, Role.WRITE, name=_NEW_USER_TOKEN_NAME, secret=token)
            )
        except CliError:
            # All or nothing: a user whose token was refused would block a corrected retry.
            auth.delete_account(name, AccountKind.USER)
            raise
    click.echo(f"Created user {name!r}{' (admin)' if is_admin else ''}.", err=True)
    _emit_token(name, new, as_json)


@admin.command("create-token")
@click.argument("user")
@click.option("--role", type=click.Choice(["read", "write"]), default="write", show_default=True)
@click.option("--name", help="A name for the token, used to revoke it [default: ROLE-token].")
@click.option("--token", help="Use this token instead of generating one (8+ characters).")
@json_option
@storage_options
def create_token(
    user: str,
    role: str,
    name: str | None,
    token: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Create an access token for USER and print it (it is not shown again)."""
    from hubstead.server.domain.accounts import Role

    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        new = run_service(lambda: auth.create_token(user, Role(role), name=name, secret=token))
    click.echo(f"Created {role} token {new.record.name!r} for {user!r}.", err=True)
    _emit_token(user, new, as_json)


@admin.command("create-org")
@click.argument("name")
@click.option("--fullname", help="Display name [default: NAME].")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="USER:ROLE",
    help="Add a member with role read, write or admin (repeatable).",
)
@storage_options
def create_org(
    name: str,
    fullname: str | None,
    members: tuple[str, ...],
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Create an organization, optionally with members."""
    roles = dict(_member(m) for m in members)
    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        run_service(lambda: auth.create_org(name, fullname=fullname, members=roles))
    click.echo(f"Created organization {name!r} with {len(roles)} member(s).", err=True)


@admin.command("add-member")
@click.argument("org")
@click.argument("member", metavar="USER:ROLE")
@storage_options
def add_member(
    org: str,
    member: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Add a user to an organization, or change their role."""
    user, role = _member(member)
    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        run_service(lambda: auth.set_member(org, user, role))
    click.echo(f"{user!r} is now {role.value} in {org!r}.", err=True)


@admin.command("remove-member")
@click.argument("org")
@click.argument("user")
@storage_options
def remove_member(
    org: str,
    user: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Remove a user from an organization."""
    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        run_service(lambda: auth.remove_member(org, user))
    click.echo(f"Removed {user!r} from {org!r}.", err=True)


@admin.command("org-settings")
@click.argument("org")
@click.option(
    "--private-by-default/--public-by-default",
    "private",
    default=None,
    help="Whether repos created in ORG without a visibility are private [default: unchanged].",
)
@json_option
@storage_options
def org_settings(
    org: str,
    private: bool | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Show an organization's settings, or change them."""
    from hubstead.server.domain.accounts import AccountKind

    with _hub(data_dir, database_url, config_file) as hub:
        profiles, auth = hub.profiles, hub.auth
        account = run_service(
            lambda: (
                auth.get_account(org, AccountKind.ORG)
                if private is None
                else profiles.set_private_by_default(org, private)
            )
        )
    row = {"name": account.name, "private_by_default": account.private_by_default}
    if as_json:
        emit_json(row)
    else:
        emit_table([row], False, ["name", "private_by_default"])


@admin.command("list-users")
@json_option
@storage_options
def list_users(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """List users with their organizations."""
    from hubstead.server.domain.accounts import AccountKind

    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        rows = [
            {
                "name": a.name,
                "fullname": a.fullname,
                "email": a.email or "",
                "admin": a.is_admin,
                "orgs": ",".join(m.org.name for m in auth.memberships(a)),
            }
            for a in auth.list_accounts(AccountKind.USER)
        ]
    emit_table(rows, as_json, ["name", "fullname", "email", "admin", "orgs"])


@admin.command("list-orgs")
@json_option
@storage_options
def list_orgs(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """List organizations with their members (USER:ROLE)."""
    from hubstead.server.domain.accounts import AccountKind

    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        rows = [
            {
                "name": a.name,
                "fullname": a.fullname,
                "members": ",".join(f"{m.user.name}:{m.role.value}" for m in auth.memberships(a)),
            }
            for a in auth.list_accounts(AccountKind.ORG)
        ]
    emit_table(rows, as_json, ["name", "fullname", "members"])


@admin.command("list-tokens")
@click.argument("user")
@json_option
@storage_options
def list_tokens(
    user: str,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """List a user's tokens: names and roles (the tokens themselves are not stored)."""
    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        tokens = run_service(lambda: auth.list_tokens(user))
    rows = [
        {
            "name": t.name,
            "role": t.role.value,
            "created": t.created_at.isoformat(timespec="seconds"),
        }
        for t in tokens
    ]
    emit_table(rows, as_json, ["name", "role", "created"])


@admin.command("revoke-token")
@click.argument("user")
@click.argument("name")
@storage_options
def revoke_token(
    user: str,
    name: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Revoke USER's tokens named NAME; requests using them get 401 at once."""
    with _hub(data_dir, database_url, config_file) as hub:
        auth = hub.auth
        count = run_service(lambda: auth.revoke_token(user, name))
    click.echo(f"Revoked {count} token(s) named {name!r} of {user!r}.", err=True)


@admin.command("set-password")
@click.argument("user")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
@storage_options
def set_password(
    user: str,
    password_stdin: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Set USER's web sign-in password; every browser signed in as USER is signed out.

    The password is never an argument (it would be in the shell history and the process
    list): it is asked for twice on a terminal, or read from standard input.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise CliError("no terminal to ask for the password on: use --password-stdin")
    with _hub(data_dir, database_url, config_file) as hub:
        sessions = hub.sessions
        ended = run_service(lambda: sessions.set_password(user, password))
    click.echo(f"Set the password of {user!r}; signed out {ended} session(s).", err=True)


def _delete_command(kind: str) -> click.Command:
    article = "an" if kind == "org" else "a"

    @click.command(
        f"delete-{kind}",
        help=(
            f"Delete {article} {kind} with its tokens and memberships. Refused while repos are in "
            "its namespace, unless --delete-repos deletes them too: a name taken again later "
            "never inherits anything."
        ),
    )
    @click.argument("name")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
    @click.option(
        "--delete-repos",
        is_flag=True,
        help="Also delete every repo in the namespace (files, history, LFS links, mirrors).",
    )
    @storage_options
    def delete(
        name: str,
        yes: bool,
        delete_repos: bool,
        data_dir: Path | None,
        database_url: str | None,
        config_file: Path | None,
    ) -> None:
        from hubstead.server.domain.accounts import AccountKind

        if not yes and sys.stdin.isatty():
            what = "tokens, memberships and repos" if delete_repos else "tokens and memberships"
            click.confirm(f"Delete the {kind} {name!r} with its {what}?", abort=True)
        with _hub(data_dir, database_url, config_file) as hub:
            auth = hub.auth
            repos = run_service(
                lambda: auth.delete_account(name, AccountKind(kind), delete_repos=delete_repos)
            )
        for repo in repos:
            click.echo(f"Deleted the {repo.type} {repo.repo_id}.", err=True)
        click.echo(f"Deleted the {kind} {name!r}.", err=True)

    return delete


admin.add_command(_delete_command("user"))
admin.add_command(_delete_command("org"))
