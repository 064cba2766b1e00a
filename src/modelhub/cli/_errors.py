"""Errors to messages and exit codes, in one place.

Exit codes: 1 usage or invalid input, 2 not found, 3 authentication or permission, 4 conflict,
5 server, database or network unreachable.
"""

from __future__ import annotations

import click

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
    """The exit code for an error class name from either error tree (server or client)."""
    if "NotFound" in error_name:
        return EXIT_NOT_FOUND
    if error_name in ("AuthenticationError", "AuthorizationError", "GatedRepoError"):
        return EXIT_AUTH
    if error_name in ("ConflictError", "StaleParentError"):
        return EXIT_CONFLICT
    return EXIT_USAGE
