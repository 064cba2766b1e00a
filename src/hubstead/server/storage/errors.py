"""The errors storage raises on purpose.

Every store raises only these, or builtins; services translate them into domain errors
(`hubstead.server.errors`), chaining the original with `from`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class StorageError(Exception):
    """Base of the errors storage raises on purpose."""


class RefConflictError(StorageError):
    """A compare-and-swap on a ref found another target than the one expected."""


class PathNotFoundError(StorageError):
    """A tree edit names a path that does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PathConflictError(StorageError):
    """A tree edit would put a file where a folder is, or inside a file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class AlreadyExistsError(StorageError):
    """A row with the same unique key exists."""


class CapacityError(StorageError):
    """A container (a collection's items) holds as many entries as it may."""


class NamespaceNotEmptyError(StorageError):
    """An account cannot be deleted while repos live in its namespace (`repos`: their ids)."""

    def __init__(self, repos: Sequence[str]) -> None:
        super().__init__(", ".join(repos))
        self.repos = tuple(repos)


class AmbiguousRevisionError(StorageError):
    """A short commit id that more than one commit of the repo starts with."""


class BlobNotFoundError(StorageError):
    """No stored object (or upload part) by that name."""


class BlobMismatchError(StorageError):
    """Bytes that are not the object they were announced as (size or sha256)."""


class StoreUnreachableError(StorageError):
    """The object store cannot be reached, refuses the credentials, or has no such bucket."""


class GitUnavailableError(StorageError):
    """The git binary that serves git's smart protocol is not installed."""


class RemoteFailure(enum.StrEnum):
    """Why talking to a remote (a git repo, an upstream hub's API or files) failed."""

    UNREACHABLE = "unreachable"  # no connection, a timeout, a server error, a cut transfer
    NOT_FOUND = "not found"
    DENIED = "denied"  # the credentials were refused, or lack access
    CHANGED = "changed"  # a ref moved between listing the refs and fetching them
    REJECTED = "rejected"  # any other refusal: asking again the same way gets the same answer


class RemoteError(StorageError):
    """Talking to a remote git repo or upstream hub failed; `failure` says how."""

    def __init__(self, failure: RemoteFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
