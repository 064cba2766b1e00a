"""Exceptions raised by the hubstead client, with the names `huggingface_hub` users catch.

Code that catches `huggingface_hub.errors.RepositoryNotFoundError` ports by changing the import.
The second bases match huggingface_hub's too, so `except OSError`, `except ValueError` and
`except FileNotFoundError` keep catching what they caught there.

    HubError                                  base of every hubstead client error
    ├── HfHubHTTPError (OSError)               an HTTP error: status, server message, request id
    │   ├── RepositoryNotFoundError            missing, or private and not yours
    │   │   └── GatedRepoError                 gated, and you are not on the authorized list
    │   ├── RevisionNotFoundError
    │   ├── RemoteEntryNotFoundError           no such file at that revision (an EntryNotFoundError)
    │   ├── DisabledRepoError
    │   └── BadRequestError (ValueError)       the server refused the request as malformed
    ├── EntryNotFoundError                     a file that is not there, remotely or in the cache
    │   └── LocalEntryNotFoundError (FileNotFoundError)
    ├── OfflineModeIsEnabled (ConnectionError) a request while HF_HUB_OFFLINE is set
    ├── LocalTokenNotFoundError (OSError)      an operation that needs a token, and none is set
    ├── HFValidationError (ValueError)         bad input caught before any request is sent
    ├── IntegrityError (OSError)               downloaded bytes that do not match their digest
    └── CacheNotFound                          no such cache directory, or not that in it
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BadRequestError",
    "CacheNotFound",
    "DisabledRepoError",
    "EntryNotFoundError",
    "GatedRepoError",
    "HFValidationError",
    "HfHubHTTPError",
    "HubError",
    "IntegrityError",
    "LocalEntryNotFoundError",
    "LocalTokenNotFoundError",
    "OfflineModeIsEnabled",
    "RemoteEntryNotFoundError",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
]


class HubError(Exception):
    """Base of every exception the hubstead client raises on purpose."""


class HfHubHTTPError(HubError, OSError):
    """An HTTP request to a hub failed.

    Attributes:
        response: the failed response (its `request` says what was asked).
        server_message: what the server said (`X-Error-Message` or the JSON `error`), if anything.
        request_id: the server's id for the request, to quote when reporting a problem.
        status_code: the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.response = response
        self.server_message = server_message
        self.request_id = (
            response.headers.get("x-request-id") or response.headers.get("x-amzn-trace-id")
            if response is not None
            else None
        )
        self.status_code = response.status_code if response is not None else None

    def append_to_message(self, additional_message: str) -> None:
        """Add context (which step failed, what to try) to the message."""
        self.args = (self.args[0] + additional_message, *self.args[1:])


class RepositoryNotFoundError(HfHubHTTPError):
    """No such repo, or a private repo you cannot see (the server does not say which)."""


class GatedRepoError(RepositoryNotFoundError):
    """The repo is gated and you are not on its authorized list."""


class RevisionNotFoundError(HfHubHTTPError):
    """The repo has no such branch, tag or commit."""


class EntryNotFoundError(HubError):
    """A file that does not exist at the revision, or is not in the local cache."""


class RemoteEntryNotFoundError(HfHubHTTPError, EntryNotFoundError):
    """The server says the file does not exist at the revision."""


class LocalEntryNotFoundError(EntryNotFoundError, FileNotFoundError):
    """The file is not in the cache and the hub could not be asked (offline or unreachable)."""


class DisabledRepoError(HfHubHTTPError):
    """The repo has been disabled by the hub's operators."""


class BadRequestError(HfHubHTTPError, ValueError):
    """The server refused the request as malformed (HTTP 400)."""


class OfflineModeIsEnabled(HubError, ConnectionError):
    """A request was needed while offline mode (`HF_HUB_OFFLINE`) is on."""


class LocalTokenNotFoundError(HubError, OSError):
    """The operation needs a token and none was given, set or stored."""


class HFValidationError(HubError, ValueError):
    """An argument (repo id, revision, path) is invalid; nothing was sent."""


class IntegrityError(HubError, OSError):
    """Downloaded bytes do not match the digest the hub announced; they were not kept."""


class CacheNotFound(HubError):
    """The cache directory does not exist, or does not hold the repo or revision asked for.

    Attributes:
        cache_dir: the cache directory.
    """

    def __init__(self, message: str, cache_dir: str | os.PathLike[str]) -> None:
        super().__init__(message)
        self.cache_dir = cache_dir
