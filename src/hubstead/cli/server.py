"""`hubstead serve` and `hubstead check-config`, and opening a data dir for the admin commands.

This module, `cli/admin.py` and `cli/upkeep.py` are the CLI modules that import `hubstead.server`,
and only inside functions, so that the client CLI works without the `server` extra.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hubstead.cli._errors import EXIT_SERVER, EXIT_USAGE, CliError, exit_code_for_status

if TYPE_CHECKING:
    from hubstead.server.services.registry import Services
    from hubstead.server.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
# How long a worker of `serve --workers` has to finish its requests and jobs once told to stop.
_WORKER_STOP_SECONDS = 60
T = TypeVar("T")


def storage_options(command: F) -> F:
    """The options every command that opens a data dir takes: data dir, database, config file."""
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Where repos, blobs and the database live [env HUBSTEAD_DATA_DIR; "
            "default ~/.local/share/hubstead].",
        ),
        click.option(
            "--database-url",
            help="SQLAlchemy URL of the metadata database, e.g. postgresql+psycopg://… "
            "[env HUBSTEAD_DATABASE_URL; default SQLite in the data dir].",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="TOML file with settings; flags and HUBSTEAD_* variables win "
            "[env HUBSTEAD_CONFIG].",
            envvar="HUBSTEAD_CONFIG",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load(config_file: Path | None, **flags: Any) -> Settings:
    """Settings from flags, environment, config file and defaults; invalid ones exit 1."""
    from hubstead.server.settings import SettingsError, load_settings

    try:
        return load_settings(flags, config_file=config_file)
    except SettingsError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


@contextlib.contextmanager
def open_hub(settings: Settings) -> Iterator[Services]:
    """The services on a data dir (created and migrated if needed), closed afterwards."""
    import sqlalchemy as sa

    from hubstead.server.app import build_services
    from hubstead.server.errors import LocalStorageError

    try:
        hub = build_services(settings)
    except sa.exc.OperationalError as exc:
        url = sa.engine.make_url(settings.effective_database_url)
        shown = url.render_as_string(hide_password=True)
        raise CliError(f"cannot open the database {shown}: {exc.orig}", EXIT_SERVER) from exc
    except LocalStorageError as exc:  # the blob store's bucket does not answer
        raise CliError(exc.message, EXIT_SERVER) from exc
    except OSError as exc:
        raise CliError(f"cannot open the data dir {settings.data_dir}: {exc}", EXIT_USAGE) from exc
    try:
        yield hub
    finally:
        hub.close()


def run_service(action: Callable[[], T]) -> T:
    """Run a service call, reporting domain errors as one-line CLI errors with their exit code."""
    from hubstead.server.errors import HubError, status_of

    try:
        return action()
    except HubError as exc:
        raise CliError(exc.message, exit_code_for_status(status_of(exc))) from exc


def _print_settings_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from hubstead.server.settings import settings_help

    flags = {p.name: p.opts[0] for p in ctx.command.params if isinstance(p, click.Option)}
    click.echo("Sources, highest first: flag, HUBSTEAD_* variable, --config TOML file, default.\n")
    for row in settings_help():
        flag = flags.get(row.key, "(no flag)")
        click.echo(f"{row.key}\n    {flag}  {row.env}  default: {row.default}\n    {row.help}")
    ctx.exit()


def _none_if_empty(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...] | None:
    """A repeatable flag given no times leaves its setting to the environment or the file."""
    return value or None


def _server_options(command: F) -> F:
    options = [
        click.option("--host", help="Interface to listen on [default 127.0.0.1]."),
        click.option("--port", type=int, help="TCP port; 0 picks a free one [default 8080]."),
        click.option(
            "--workers",
            type=int,
            help="Server processes sharing the port, on this machine [default 1].",
        ),
        click.option(
            "--public-url",
            help="Base URL clients use, when behind a proxy [default: the URL of each request].",
        ),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
            help="Log level [default info].",
        ),
        click.option(
            "--redis-url",
            help="Redis of the job queue; jobs then run in `hubstead worker` processes "
            "[env HUBSTEAD_REDIS_URL; default: jobs run in this process].",
        ),
        click.option(
            "--pull-through",
            metavar="URL",
            help="Mirror unknown repos on demand from this upstream hub, e.g. "
            "https://huggingface.co [env HUBSTEAD_PULL_THROUGH; default off].",
        ),
        click.option(
            "--upstream-token",
            help="Token sent to the upstream hub (gated and private repos) "
            "[env HUBSTEAD_UPSTREAM_TOKEN, preferred: flags show in `ps`].",
        ),
        click.option(
            "--allow",
            "pull_through_allow",
            metavar="PATTERN",
            multiple=True,
            callback=_none_if_empty,
            help="Only pull repos matching this glob (repeatable): google/*, datasets/* "
            "[env HUBSTEAD_PULL_THROUGH_ALLOW, comma-separated; default every repo].",
        ),
        click.option(
            "--deny",
            "pull_through_deny",
            metavar="PATTERN",
            multiple=True,
            callback=_none_if_empty,
            help="Never pull repos matching this glob (repeatable; wins over --allow) "
            "[env HUBSTEAD_PULL_THROUGH_DENY].",
        ),
        storage_options,
        click.option(
            "--help-settings",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_print_settings_help,
            help="List every setting with its flag, environment variable and default, then exit.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@_server_options
def serve(config_file: Path | None, **flags: Any) -> None:
    """Run the hub. On an empty data dir, create an admin user and print its token.

    Point clients at it with HF_ENDPOINT (and HF_TOKEN); the first start prints both. With
    `--workers N`, N processes serve the same port (see `_serve_in_workers`).
    """
    from hubstead.server.services.auth import BOOTSTRAP_ADMIN

    settings = load(config_file, **flags)
    # Listen before creating the admin user: a busy port must not swallow its only token.
    sock = _bind(settings.host, settings.port)
    # The port it got (`--port 0` picks one): webhooks must not call the hub itself.
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])
    with contextlib.closing(sock):
        with open_hub(settings) as hub:
            bootstrap = run_service(hub.auth.bootstrap)
            run_service(hub.mirrors.ensure_schedules)  # a scheduled mirror whose sync was lost
            local = _local_url(settings.host, sock.getsockname()[1])
            endpoint = settings.public_url or local
            public = f" (public URL {endpoint})" if settings.public_url else ""
            workers = f" with {settings.workers} workers" if settings.workers > 1 else ""
            click.echo(
                f"hubstead serving {settings.resolved_data_dir} on {local}{public}{workers}",
                err=True,
            )
            if bootstrap is not None:
                click.echo(
                    f"Created the admin user '{BOOTSTRAP_ADMIN}'. Its token is shown only now:\n\n"
                    f"    export HF_ENDPOINT={endpoint}\n"
                    f"    export HF_TOKEN={bootstrap.secret}\n",
                    err=True,
                )
            else:
                click.echo(
                    f"    export HF_ENDPOINT={endpoint}\n"
                    "New tokens: hubstead admin create-token USER (with the same --data-dir).",
                    err=True,
                )
            if settings.redis_url is not None:
                click.echo(
                    f"Jobs go to the Redis queue {settings.redis_queue!r}: "
                    "`hubstead worker` runs them.",
                    err=True,
                )
            if settings.workers == 1:
                _serve_here(settings, hub, sock)
        if settings.workers > 1:
            # The parent's services are closed first: no pooled connection crosses into a worker.
            _serve_in_workers(settings, sock)
    click.echo("hubstead stopped", err=True)


def _serve_here(settings: Settings, hub: Services, sock: socket.socket) -> None:
    """Serve on `sock` in this process, with its job threads, until SIGINT or SIGTERM."""
    import uvicorn

    from hubstead.server.app import create_app, dispatch_thread
    from hubstead.server.http.connections import uvicorn_config

    config = uvicorn_config(
        create_app(settings, hub),
        settings,
        log_config=_log_config(settings.log_level),
        log_level=settings.log_level,
        access_log=False,  # `hubstead.access` logs every request, with its request id
        proxy_headers=True,
    )
    with stop_on_signals(), dispatch_thread(hub), _jobs_in_process(hub):
        uvicorn.Server(config).run(sockets=[sock])


def _jobs_in_process(hub: Services) -> contextlib.AbstractContextManager[object]:
    """The server's own job threads, unless a Redis queue hands jobs to `hubstead worker`s."""
    from hubstead.server.app import job_threads

    if hub.settings.redis_url is not None:
        return contextlib.nullcontext()
    return job_threads(hub)


def _serve_in_workers(settings: Settings, sock: socket.socket) -> None:
    """Run `settings.workers` processes serving the listening `sock`, until a signal.

    Every worker is a whole hub: its own database connections, job threads and webhook
    dispatcher. They are correct side by side because what must hold across processes does:
    database leases claim jobs, and the locks of the data dir (`FsMutexes`, the git ref lock)
    guard ref moves, merges and LFS completions. Workers are started with `spawn`, so none
    inherits the parent's threads or connections; the kernel hands each new connection to one
    of the workers accepting on the shared socket.

    Ctrl-C reaches every worker (one process group); SIGINT or SIGTERM sent to this process
    alone is passed on. A worker that exits on its own stops the others, and the command
    exits with an error: a half-sized hub is not left running unnoticed.
    """
    import multiprocessing
    import multiprocessing.connection

    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_serve_worker, args=(settings, sock, n), name=f"hubstead-worker-{n}")
        for n in range(settings.workers)
    ]
    ended: list[str] = []
    try:
        with stop_on_signals():
            for process in processes:
                process.start()
            ready = multiprocessing.connection.wait([p.sentinel for p in processes])
            # Reached only when a worker ended by itself (a signal leaves the block before);
            # its sentinel is ready before `is_alive` can tell, so ask the sentinels.
            ended = [p.name for p in processes if p.sentinel in ready]
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            if process.pid is not None:
                process.join(_WORKER_STOP_SECONDS)
                if process.is_alive():
                    process.kill()
                    process.join()
    if ended:
        raise CliError(f"{', '.join(ended)} stopped: the other workers were stopped", EXIT_SERVER)


def _serve_worker(settings: Settings, sock: socket.socket, number: int) -> None:
    """One worker process of `serve --workers`: a whole hub serving the shared `sock`."""
    try:
        with contextlib.closing(sock), open_hub(settings) as hub:
            _serve_here(settings, hub, sock)
    except CliError as exc:
        click.echo(f"Error: worker {number}: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from exc


@click.command("check-config")
@_server_options
def check_config(config_file: Path | None, **flags: Any) -> None:
    """Validate the settings and print the effective values (secrets hidden)."""
    settings = load(config_file, **flags)
    for key, value in settings.redacted().items():
        click.echo(f"{key} = {value}")


class _Stop(Exception):
    """SIGINT or SIGTERM arrived: leave the server loop and exit cleanly."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a clean exit with status 0.

    uvicorn shuts down gracefully on these signals and then re-raises them to the handler that
    was installed before it started; without this one that kills the process (SIGTERM) or
    surfaces as KeyboardInterrupt (SIGINT).
    """
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log_config(level: str) -> dict[str, Any]:
    """The logging setup of uvicorn, plus the `hubstead` loggers on the same stderr handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["hubstead"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


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
    """The URL a client on this machine uses, for a wildcard or specific listening address."""
    wildcard = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104
    shown = wildcard.get(host, host)
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
