"""Errors to messages and exit codes, in one place.

Exit codes: 1 usage or invalid input, 2 not found, 3 authentication or permission, 4 conflict,
5 server or network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

P = ParamSpec("P")
T = TypeVar("T")

EXIT_USAGE = 1
EXIT_NOT_FOUND = 2
EXIT_AUTH = 3
EXIT_CONFLICT = 4
EXIT_SERVER = 5


class CliError(click.ClickException):
    """An error the CLI reports as one line, with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = exit_code

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """The process exit status click uses."""
        return self.code


def exit_code_for(error_name: str) -> int:
    """The exit code for an error class name from either error tree."""
    if "NotFound" in error_name:
        return EXIT_NOT_FOUND
    if error_name in ("AuthenticationError", "AuthorizationError", "GatedRepoError"):
        return EXIT_AUTH
    if error_name in ("ConflictError", "StaleParentError"):
        return EXIT_CONFLICT
    return EXIT_USAGE


def reports_errors(*known: type[Exception]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Turn the `known` exceptions raised by a command into one-line messages and exit codes."""

    def decorate(command: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return command(*args, **kwargs)
            except known as exc:
                raise CliError(str(exc), exit_code_for(type(exc).__name__)) from exc

        return wrapper

    return decorate
