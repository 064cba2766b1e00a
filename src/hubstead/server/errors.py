"""Domain errors raised by the services, each tied to how a client should understand it.

Each error class has one status, in one table (`status_of`): the HTTP layer answers with it
(`server/http/errors.py`) and the CLI derives its exit code from it (`cli/_errors.py`), so a
client and an operator see the same verdict for the same failure. Services raise these errors and
never choose a status; storage raises only its own narrow errors, which services translate.

    HubError
    ├── InvalidRequestError           bad input: names, paths, bodies, revisions that cannot be
    │   ├── PayloadTooLargeError      a body over the configured limit
    │   └── UnsupportedMediaTypeError a body of a type not taken there, or not what it claims
    ├── AuthenticationError           a token that is not valid (or a sign-in that failed)
    ├── TooManyRequestsError          too many attempts in too short a time (sign-ins)
    ├── AuthorizationError            a valid identity without the right to do this
    │   ├── GatedRepoError            a gated repo whose files the caller may not read
    │   └── MirrorReadOnlyError       a write to a mirrored repo (it changes only by syncing)
    ├── NotFoundError
    │   ├── RepoNotFoundError         also for private repos the caller cannot see
    │   ├── RevisionNotFoundError
    │   ├── EntryNotFoundError
    │   ├── AccountNotFoundError      users, orgs and tokens
    │   ├── DiscussionNotFoundError   a discussion number (or comment) the repo does not have
    │   ├── CollectionNotFoundError   also for private collections the caller cannot see
    │   ├── AccessRequestNotFoundError  no such access request, or not in the state to change
    │   ├── FeatureUnavailableError   a Hub endpoint family this hub does not serve (yet)
    │   └── UpstreamNotFoundError     upstream has no such repo, revision or file (also an
    │                                 UpstreamError; a job that gets it stops)
    ├── RepoMovedError                the repo now lives under another id
    ├── ConflictError                 something with that name already exists
    │   └── PathLockedError           a git-lfs lock on the path exists (`lock`: whose)
    ├── StaleParentError              the branch moved since the given parent commit
    ├── RangeNotSatisfiableError
    ├── NotSupportedError             a feature this hub does not offer (yet)
    ├── LocalStorageError             this hub cannot write its own storage (disk full, rights)
    ├── SpaceNotRunningError          a Space whose app is not serving now (`stage`: why)
    ├── SpaceAppUnreachableError      a running Space's app did not answer the hub's proxy
    └── UpstreamError                 the upstream hub of a mirror failed us
        ├── UpstreamUnavailableError  unreachable, timing out or failing (5xx), or sending
        │                             bytes that are not what it announced: retry later
        └── UpstreamDeniedError       upstream refused the hub's token (401/403): a job stops
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from hubstead.protocol import ErrorCode
from hubstead.server.domain.locks import LockRecord


class HubError(Exception):
    """Base of every error a service raises on purpose."""

    code: ErrorCode | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(HubError):
    """The request is malformed or names something that cannot exist."""


class PayloadTooLargeError(InvalidRequestError):
    """A request body is larger than this hub accepts."""


class UnsupportedMediaTypeError(InvalidRequestError):
    """A request body of a media type this hub does not take there (or not what it claims)."""


class AuthenticationError(HubError):
    """The credentials sent are not valid."""


class TooManyRequestsError(HubError):
    """The caller tried too often in too short a time (sign-in attempts)."""


class AuthorizationError(HubError):
    """The caller is known but may not do what they asked."""


class GatedRepoError(AuthorizationError):
    """The repo is gated and the caller is not on its authorized list."""

    code = ErrorCode.GATED_REPO

    def __init__(self, message: str, *, anonymous: bool) -> None:
        super().__init__(message)
        self.anonymous = anonymous


class NotFoundError(HubError):
    """Something named in the request does not exist."""


class RepoNotFoundError(NotFoundError):
    """No repo by that id, or one the caller may not see (indistinguishable on purpose)."""

    code = ErrorCode.REPO_NOT_FOUND

    def __init__(self, message: str, *, anonymous: bool) -> None:
        super().__init__(message)
        self.anonymous = anonymous


class RevisionNotFoundError(NotFoundError):
    """The revision does not exist in the repo."""

    code = ErrorCode.REVISION_NOT_FOUND


class EntryNotFoundError(NotFoundError):
    """The path does not exist at the revision."""

    code = ErrorCode.ENTRY_NOT_FOUND

    def __init__(self, message: str, *, commit_id: str | None = None) -> None:
        super().__init__(message)
        self.commit_id = commit_id


class AccountNotFoundError(NotFoundError):
    """No user, organization or token by that name."""


class DiscussionNotFoundError(NotFoundError):
    """The repo has no discussion with that number, or the discussion no such comment."""


class CollectionNotFoundError(NotFoundError):
    """No collection by that slug (or item in it), or one the caller may not see."""


class AccessRequestNotFoundError(NotFoundError):
    """The repo has no access request from that user (or with that id) in a state to change."""


class FeatureUnavailableError(NotFoundError):
    """A request for a Hub feature this hub has no routes for (discussions, likes, ...)."""

    code = ErrorCode.NOT_IMPLEMENTED


class RepoMovedError(HubError):
    """The repo was renamed or moved; `repo_id` is where it lives now."""

    def __init__(self, old_repo_id: str, repo_id: str) -> None:
        super().__init__(f"Repository {old_repo_id} has moved to {repo_id}")
        self.old_repo_id = old_repo_id
        self.repo_id = repo_id


class ConflictError(HubError):
    """The thing to create already exists, or a concurrent change won.

    `url` (a repo's) or `slug` (a collection's) points at the existing thing.
    """

    def __init__(self, message: str, *, url: str | None = None, slug: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.slug = slug


class PathLockedError(ConflictError):
    """The path is locked already; `lock` is the lock that holds it."""

    def __init__(self, message: str, *, lock: LockRecord) -> None:
        super().__init__(message)
        self.lock = lock


class StaleParentError(HubError):
    """The branch head is no longer the parent commit the caller based its change on."""


class RangeNotSatisfiableError(HubError):
    """A byte range that lies outside the file."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


class NotSupportedError(HubError):
    """A feature of the Hub protocol that this hub does not implement yet."""

    code = ErrorCode.NOT_IMPLEMENTED


class UpstreamError(HubError):
    """The upstream hub a mirror fetches from did not give what was asked."""


class UpstreamUnavailableError(UpstreamError):
    """Upstream cannot be reached, times out or fails; jobs retry it with backoff."""


class UpstreamNotFoundError(UpstreamError, NotFoundError):
    """Upstream answered that the repo, revision or file does not exist; jobs do not retry it."""


class UpstreamDeniedError(UpstreamError):
    """Upstream refused the hub's credentials for this repo; jobs do not retry it."""


class MirrorReadOnlyError(AuthorizationError):
    """The repo is a mirror: only syncs from its upstream change it."""


class LocalStorageError(HubError):
    """Writing to this hub's own storage failed (a full disk, missing permissions)."""


class SpaceNotRunningError(HubError):
    """A request for a Space's app while it does not serve: building, sleeping, failed..."""

    def __init__(self, message: str, *, stage: str, retry_after: int) -> None:
        super().__init__(message)
        self.stage = stage
        self.retry_after = retry_after


class SpaceAppUnreachableError(HubError):
    """A Space's app, which should be running, refused the proxy's connection or timed out."""


class StoreDamagedError(HubError):
    """Data this hub stored no longer reads back as recorded (`hubstead fsck` finds it)."""


_STATUS: dict[type[HubError], int] = {
    InvalidRequestError: 400,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    AuthenticationError: 401,
    AuthorizationError: 403,
    TooManyRequestsError: 429,
    NotFoundError: 404,
    RepoMovedError: 307,
    ConflictError: 409,
    StaleParentError: 412,
    RangeNotSatisfiableError: 416,
    NotSupportedError: 501,
    UpstreamUnavailableError: 504,
    UpstreamNotFoundError: 404,
    UpstreamError: 502,
    LocalStorageError: 507,
    SpaceNotRunningError: 503,
    SpaceAppUnreachableError: 502,
    StoreDamagedError: 500,
}


def status_of(exc: HubError) -> int:
    """The HTTP status of a domain error: the first class in its MRO that the table names.

    An anonymous caller refused a repo gets 401, as from huggingface.co, so that clients ask
    for a token; 500 for an error class the table does not know.
    """
    if isinstance(exc, RepoNotFoundError | GatedRepoError) and exc.anonymous:
        return 401
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


_OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def out_of_space(action: str) -> Iterator[None]:
    """Turn a full disk or an exhausted quota met while doing `action` into LocalStorageError.

    For the services, at their boundary with storage (which raises `OSError`): the caller
    learns that the hub, not the request, is at fault, and that nothing was changed.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in _OUT_OF_SPACE:
            raise
        raise LocalStorageError(
            f"The hub's storage is full: {action} failed and nothing was changed; "
            "retry once its operator has freed space"
        ) from exc
