"""`modelhub serve` and `modelhub admin …`: run the hub and manage its accounts.

The admin commands work on the data dir directly, with or without a running server. This is the
one CLI module that imports `modelhub.server`, and only inside the commands.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from modelhub.cli._errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from modelhub.server.services.registry import Services
    from modelhub.server.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _storage_options(command: F) -> F:
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Where repos, blobs and the database live [env MODELHUB_DATA_DIR; "
            "default ~/.local/share/modelhub].",
        ),
        click.option(
            "--database-url",
            help="SQLAlchemy URL of the metadata database [env MODELHUB_DATABASE_URL; "
            "default SQLite in the data dir].",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="TOML file with settings (flags and MODELHUB_* variables win).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(config_file: Path | None, **overrides: Any) -> Settings:
    from modelhub.server.settings import SettingsError, load_settings

    try:
        return load_settings(overrides, config_file=config_file)
    except SettingsError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _print_settings_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from modelhub.server.settings import settings_help

    for key, default, text in settings_help():
        click.echo(f"{key:<24} MODELHUB_{key.upper():<24} default: {default}\n    {text}")
    ctx.exit()


@click.command()
@click.option("--host", help="Interface to listen on [default 127.0.0.1].")
@click.option("--port", type=int, help="TCP port (0 picks a free one) [default 8080].")
@click.option("--public-url", help="Base URL clients use, when behind a proxy.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@_storage_options
@click.option(
    "--help-settings",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_settings_help,
    help="List every setting with its environment variable and default, then exit.",
)
def serve(config_file: Path | None, **flags: Any) -> None:
    """Run the hub. On an empty data dir, create an admin user and print its token."""
    import uvicorn

    from modelhub.server.app import build_services, create_app
    from modelhub.server.services.auth import BOOTSTRAP_ADMIN

    settings = _settings(config_file, **flags)
    hub = build_services(settings)
    bootstrap = hub.auth.bootstrap()
    sock = _bind(settings.host, settings.port)
    endpoint = settings.public_url or _local_url(settings.host, sock.getsockname()[1])
    click.echo(f"modelhub serving {settings.resolved_data_dir} at {endpoint}", err=True)
    if bootstrap is not None:
        click.echo(
            f"Created the admin user '{BOOTSTRAP_ADMIN}'. Its token is shown only now:\n\n"
            f"    export HF_ENDPOINT={endpoint}\n"
            f"    export HF_TOKEN={bootstrap.secret}\n",
            err=True,
        )
    config = uvicorn.Config(
        create_app(settings, hub),
        log_level=settings.log_level,
        proxy_headers=True,
        timeout_keep_alive=30,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_USAGE) from exc
    return sock


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host  # noqa: S104
    return f"http://{shown}:{port}"


# --- admin ----------------------------------------------------------------------------------------


@click.group()
def admin() -> None:
    """Manage users, organizations and tokens in a data dir (the server may be running)."""


def _open(data_dir: Path | None, database_url: str | None, config_file: Path | None) -> Services:
    from modelhub.server.app import build_services

    return build_services(_settings(config_file, data_dir=data_dir, database_url=database_url))


def _run(action: Callable[[], Any]) -> Any:
    """Run a service call, reporting domain errors as CLI errors."""
    from modelhub.cli._errors import exit_code_for
    from modelhub.server.errors import HubError

    try:
        return action()
    except HubError as exc:
        raise CliError(exc.message, exit_code_for(type(exc).__name__)) from exc


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("(none)", err=True)
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@admin.command("create-user")
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user a site administrator.")
@click.option("--fullname", help="Display name.")
@click.option("--email", help="Email address (used as the git author email).")
@click.option("--token", help="Use this token instead of generating one.")
@_storage_options
def create_user(
    name: str,
    is_admin: bool,
    fullname: str | None,
    email: str | None,
    token: str | None,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Create a user and a write token for them (printed once)."""
    from modelhub.server.storage.interfaces import Role

    hub = _open(data_dir, database_url, config_file)
    _run(lambda: hub.auth.create_user(name, fullname=fullname, email=email, is_admin=is_admin))
    new = _run(lambda: hub.auth.create_token(name, Role.WRITE, name="cli", secret=token))
    click.echo(f"Created user {name!r}{' (admin)' if is_admin else ''}.", err=True)
    click.echo(new.secret)


@admin.command("create-token")
@click.argument("user")
@click.option("--role", type=click.Choice(["read", "write"]), default="write", show_default=True)
@click.option("--name", help="A name for the token (default: the role).")
@click.option("--token", help="Use this token instead of generating one.")
@_storage_options
def create_token(
    user: str,
    role: str,
    name: str | None,
    token: str | None,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Create an access token for USER and print it (it is not shown again)."""
    from modelhub.server.storage.interfaces import Role

    hub = _open(data_dir, database_url, config_file)
    new = _run(lambda: hub.auth.create_token(user, Role(role), name=name, secret=token))
    click.echo(f"Created {role} token {new.record.name!r} for {user!r}.", err=True)
    click.echo(new.secret)


@admin.command("create-org")
@click.argument("name")
@click.option("--fullname", help="Display name.")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="USER:ROLE",
    help="Add a member with role read, write or admin (repeatable).",
)
@_storage_options
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
    hub = _open(data_dir, database_url, config_file)
    _run(lambda: hub.auth.create_org(name, fullname=fullname, members=roles))
    click.echo(f"Created organization {name!r} with {len(roles)} member(s).", err=True)


def _member(spec: str) -> tuple[str, Any]:
    from modelhub.server.storage.interfaces import Role

    user, _, role = spec.partition(":")
    if not user or role not in {r.value for r in Role}:
        raise CliError(f"--member takes USER:ROLE with ROLE read, write or admin, not {spec!r}")
    return user, Role(role)


@admin.command("add-member")
@click.argument("org")
@click.argument("member", metavar="USER:ROLE")
@_storage_options
def add_member(
    org: str,
    member: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Add a user to an organization, or change their role."""
    user, role = _member(member)
    hub = _open(data_dir, database_url, config_file)
    _run(lambda: hub.auth.set_member(org, user, role))
    click.echo(f"{user!r} is now {role.value} in {org!r}.", err=True)


@admin.command("remove-member")
@click.argument("org")
@click.argument("user")
@_storage_options
def remove_member(
    org: str,
    user: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Remove a user from an organization."""
    hub = _open(data_dir, database_url, config_file)
    _run(lambda: hub.auth.remove_member(org, user))
    click.echo(f"Removed {user!r} from {org!r}.", err=True)


@admin.command("list-users")
@_json_option
@_storage_options
def list_users(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """List users."""
    from modelhub.server.storage.interfaces import AccountKind

    hub = _open(data_dir, database_url, config_file)
    rows = [
        {
            "name": a.name,
            "fullname": a.fullname,
            "email": a.email or "",
            "admin": a.is_admin,
            "orgs": ",".join(m.org.name for m in hub.auth.memberships(a)),
        }
        for a in hub.auth.list_accounts(AccountKind.USER)
    ]
    _emit(rows, as_json, ["name", "fullname", "email", "admin", "orgs"])


@admin.command("list-orgs")
@_json_option
@_storage_options
def list_orgs(
    as_json: bool, data_dir: Path | None, database_url: str | None, config_file: Path | None
) -> None:
    """List organizations with their members."""
    from modelhub.server.storage.interfaces import AccountKind

    hub = _open(data_dir, database_url, config_file)
    rows = [
        {
            "name": a.name,
            "fullname": a.fullname,
            "members": ",".join(f"{m.user.name}:{m.role.value}" for m in hub.auth.memberships(a)),
        }
        for a in hub.auth.list_accounts(AccountKind.ORG)
    ]
    _emit(rows, as_json, ["name", "fullname", "members"])


@admin.command("list-tokens")
@click.argument("user")
@_json_option
@_storage_options
def list_tokens(
    user: str,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """List a user's tokens (names and roles; secrets are never stored)."""
    hub = _open(data_dir, database_url, config_file)
    tokens = _run(lambda: hub.auth.list_tokens(user))
    rows = [
        {
            "name": t.name,
            "role": t.role.value,
            "created": t.created_at.isoformat(timespec="seconds"),
        }
        for t in tokens
    ]
    _emit(rows, as_json, ["name", "role", "created"])


@admin.command("revoke-token")
@click.argument("user")
@click.argument("name")
@_storage_options
def revoke_token(
    user: str,
    name: str,
    data_dir: Path | None,
    database_url: str | None,
    config_file: Path | None,
) -> None:
    """Revoke a user's tokens named NAME."""
    hub = _open(data_dir, database_url, config_file)
    count = _run(lambda: hub.auth.revoke_token(user, name))
    click.echo(f"Revoked {count} token(s) named {name!r} of {user!r}.", err=True)


def _delete_command(kind: str) -> click.Command:
    @click.command(f"delete-{kind}")
    @click.argument("name")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @_storage_options
    def delete(
        name: str,
        yes: bool,
        data_dir: Path | None,
        database_url: str | None,
        config_file: Path | None,
    ) -> None:
        from modelhub.server.storage.interfaces import AccountKind

        if not yes and sys.stdin.isatty():
            click.confirm(
                f"Delete the {kind} {name!r} with its tokens and memberships?", abort=True
            )
        hub = _open(data_dir, database_url, config_file)
        account_kind = AccountKind.USER if kind == "user" else AccountKind.ORG
        _run(lambda: hub.auth.delete_account(name, account_kind))
        click.echo(f"Deleted the {kind} {name!r}.", err=True)

    delete.help = f"Delete a{'n' if kind == 'org' else ''} {kind} (their repos are kept)."
    return delete


admin.add_command(_delete_command("user"))
admin.add_command(_delete_command("org"))
