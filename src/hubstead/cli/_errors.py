"""Errors to messages and exit codes, in one place.

Exit codes: 1 usage or invalid input, 2 not found, 3 authentication or permission, 4 conflict,
5 server, database or network unreachable. They derive from HTTP statuses (`exit_code_for_status`):
a hub's answer to the client carries one, and a domain error raised in this process has one in
the server's table (`hubstead.server.errors.status_of`), so both report a failure alike.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    import httpx

P = ParamSpec("P")
T = TypeVar("T")

EXIT_USAGE = 1
EXIT_NOT_FOUND = 2
EXIT_AUTH = 3
EXIT_CONFLICT = 4
EXIT_SERVER = 5

# The optional extra that brings each module the server commands import (lazily), so that a
# command run without it says what to install. tests/packaging checks it against pyproject.toml.
EXTRA_FOR_MODULE = {
    "alembic": "server",
    "anyio": "server",
    "boto3": "server",
    "botocore": "server",
    "cryptography": "server",
    "httptools": "server",
    "jinja2": "server",
    "markdown_it": "server",
    "markupsafe": "server",
    "pathspec": "server",
    "psycopg": "server",
    "pygit2": "server",
    "pygments": "server",
    "sqlalchemy": "server",
    "starlette": "server",
    "uv": "server",
    "uvicorn": "server",
    "websockets": "server",
    "yaml": "server",
    "arq": "redis",
    "redis": "redis",
}


class CliError(click.ClickException):
    """An error the CLI reports as one line, with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = exit_code

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """The process exit status click uses."""
        return self.code


def exit_code_for_status(status: int) -> int:
    """The exit code for a failure whose HTTP status is `status`."""
    if status in (401, 403):
        return EXIT_AUTH
    if status == 404:
        return EXIT_NOT_FOUND
    if status in (409, 412):
        return EXIT_CONFLICT
    return EXIT_SERVER if status >= 500 else EXIT_USAGE


def missing_extra_error(error: ModuleNotFoundError) -> CliError | None:
    """The error to report when a command needs an extra that is not installed, if it does."""
    extra = EXTRA_FOR_MODULE.get((error.name or "").partition(".")[0])
    if extra is None:
        return None
    return CliError(
        f"This command needs the hubstead {extra} extra ({error.name} is not installed): "
        f"pip install 'hubstead[{extra}]' (from a checkout: pip install '.[{extra}]')"
    )


def client_exit_code(error: BaseException) -> int:
    """The exit code for an error of the hubstead client (or of the network under it)."""
    import httpx

    from hubstead import errors

    if isinstance(error, errors.GatedRepoError):
        return EXIT_AUTH  # whatever the status: huggingface.co answers some gated refusals 404
    if isinstance(error, errors.RepositoryNotFoundError | errors.RevisionNotFoundError):
        return EXIT_NOT_FOUND  # also when anonymous, which the Hub answers 401
    if isinstance(error, errors.HfHubHTTPError):
        return exit_code_for_status(error.status_code or 0)
    if isinstance(error, errors.LocalEntryNotFoundError) and _hub_failed(error.__cause__):
        return EXIT_SERVER  # not cached, and the hub could not be asked
    if isinstance(error, errors.EntryNotFoundError | errors.CacheNotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, errors.LocalTokenNotFoundError):
        return EXIT_AUTH
    if isinstance(error, errors.OfflineModeIsEnabled | httpx.TransportError):
        return EXIT_SERVER
    return EXIT_USAGE


def client_error_message(error: BaseException) -> str:
    """What to tell the user about an error of the hubstead client (or of the network)."""
    import httpx

    from hubstead import errors

    if isinstance(error, httpx.TransportError):
        return f"Cannot reach the hub{_where(error)}: {error}. Check HF_ENDPOINT and your network."
    if isinstance(error, errors.LocalTokenNotFoundError):
        return "No token: pass --token, set HF_TOKEN, or log in with `hubstead login`."
    return str(error) or type(error).__name__


def reports_client_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn client and network errors raised by a command into a message and an exit code.

    The message says what happened and what to try; tracebacks only with `HUBSTEAD_DEBUG=1`.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        import httpx

        from hubstead import errors

        try:
            return command(*args, **kwargs)
        except (errors.HubError, httpx.TransportError) as exc:
            if os.environ.get("HUBSTEAD_DEBUG"):
                raise
            raise CliError(client_error_message(exc), client_exit_code(exc)) from exc

    return wrapper


def _hub_failed(error: BaseException | None) -> bool:
    """Whether `error` is the network or the hub failing (not the hub refusing)."""
    import httpx

    from hubstead import errors

    if isinstance(error, errors.HfHubHTTPError):
        return (error.status_code or 0) >= 500
    return isinstance(error, httpx.TransportError)


def _where(error: httpx.TransportError) -> str:
    """` at scheme://host:port` for a network error that knows its request, else nothing."""
    try:
        url = error.request.url
    except RuntimeError:  # httpx's answer when the error has no request
        return ""
    return f" at {url.scheme}://{url.netloc.decode('ascii')}"
