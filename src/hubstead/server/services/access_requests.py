"""Access requests to gated repos: asking, and the managers' decisions.

A gated repo's files need a role in its namespace or an accepted access request
(`access.passes_gate`). A signed-in user asks once per repo, with the answers of the gate's
form; in `auto` mode the request is accepted at once, in `manual` mode it waits for a manager.
Asking again leaves the request as it is (a rejected user stays rejected).

Managers are those who may write to the repo, as on the Hub (its client documents 403 "if you
don't have `write` or `admin` role in the organization the repo belongs to or if you passed a
`read` token"): the user who owns the namespace, an org's write and admin members, site
admins, each with a write token. They list requests by status and move them, as the Hub's
state machine has it:

    (none) ──ask──► pending (manual) | accepted (auto)
    pending ──accept──► accepted ──reject──► rejected ──cancel──► pending
    accepted, rejected ──cancel──► pending;  pending, rejected ──accept──► accepted
    (none), pending, rejected ──grant──► accepted

Moving a request to the state it is in answers 404, as on the Hub; granting to a user who has
access answers 400. Both sides need the repo to be gated (400 otherwise), and a private repo
stays invisible to outsiders. A decision takes effect at the user's next request: identities
carry their accepted repos, and signed URLs and Xet tokens re-check them at every use.
"""

from __future__ import annotations

import re

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.access_requests import AccessRequestRecord, AccessStatus
from hubstead.server.domain.accounts import Account, AccountKind
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.access_requests import AccessRequestStore
from hubstead.server.storage.accounts import AccountStore

PAGE_SIZE = 100
MAX_FIELDS = 50
MAX_FIELD_NAME = 200
MAX_FIELD_VALUE = 4000
MAX_REJECTION_REASON = 200  # the Hub's limit, as its client documents it
_REQUEST_ID = re.compile(r"[0-9a-f]{24}")


def request_id(record: AccessRequestRecord) -> str:
    """A request's id on the wire: 24 hex digits, as the Hub's object ids."""
    return f"{record.id:024x}"


class AccessRequestService:
    """Users' access requests to gated repos."""

    def __init__(
        self,
        repos: RepoService,
        store: AccessRequestStore,
        accounts: AccountStore,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._repos = repos
        self._store = store
        self._accounts = accounts
        self._clock = clock

    def ask(
        self, identity: Identity, type: RepoType, repo_id: str, fields: dict[str, str]
    ) -> AccessRequestRecord:
        """Ask for access to a gated repo's files; the caller's request as it now stands.

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate` (read access).
            AuthenticationError, AuthorizationError: no token, or a read token.
            InvalidRequestError: the repo is not gated, or the form's fields break a limit.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        access.check_write_token(identity, f"ask for access to {repo.repo_id}")
        _check_gated(repo)
        _check_fields(fields)
        assert identity.account is not None  # a write token has an account
        status = AccessStatus.ACCEPTED if repo.gated == "auto" else AccessStatus.PENDING
        return self._store.ask(repo.id, identity.account.id, status, fields, self._clock())

    def list(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        status: AccessStatus,
        *,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[AccessRequestRecord]:
        """A page of the repo's requests with `status`, oldest first.

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate` (read access).
            AuthenticationError, AuthorizationError: not a manager of the repo.
            InvalidRequestError: the repo is not gated.
        """
        repo = self._managed(identity, type, repo_id)
        return Page.of(self._store.list(repo.id, status, offset, limit + 1), limit)

    def handle(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        status: AccessStatus,
        *,
        user: str | None = None,
        request: str | None = None,
        rejection_reason: str | None = None,
    ) -> AccessRequestRecord:
        """Accept, reject or cancel (back to pending) the request of `user` (or with id `request`).

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate` (read access).
            AuthenticationError, AuthorizationError: not a manager of the repo.
            InvalidRequestError: the repo is not gated; neither or both of `user` and
                `request`; a rejection reason when not rejecting, or one over 200 characters.
            AccountNotFoundError: no user by that name.
            AccessRequestNotFoundError: no such request, or it is in `status` already.
        """
        repo = self._managed(identity, type, repo_id)
        if (user is None) == (request is None):
            raise errors.InvalidRequestError("Name the request by exactly one of user, requestId")
        _check_rejection_reason(status, rejection_reason)
        found = self._find(repo, user, request)
        if found.status is status:
            raise errors.AccessRequestNotFoundError(
                f"The access request of {found.user_name} to {repo.repo_id} is already {status}"
            )
        assert identity.account is not None  # a manager has an account
        changed = self._store.set_status(
            found.id, found.status, status, rejection_reason, identity.account.id, self._clock()
        )
        if changed is None:
            raise errors.ConflictError(
                f"The access request of {found.user_name} to {repo.repo_id} changed meanwhile; "
                "list the requests and try again"
            )
        return changed

    def grant(
        self, identity: Identity, type: RepoType, repo_id: str, user: str
    ) -> AccessRequestRecord:
        """Give a user access without a request of theirs (or accept the one they made).

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate` (read access).
            AuthenticationError, AuthorizationError: not a manager of the repo.
            InvalidRequestError: the repo is not gated, or the user has access already.
            AccountNotFoundError: no user by that name.
        """
        repo = self._managed(identity, type, repo_id)
        account = self._user(user)
        assert identity.account is not None  # a manager has an account
        granted = self._store.grant(repo.id, account.id, identity.account.id, self._clock())
        if granted is None:
            raise errors.InvalidRequestError(f"{account.name} already has access to {repo.repo_id}")
        return granted

    def _managed(self, identity: Identity, type: RepoType, repo_id: str) -> RepoRecord:
        """The gated repo, once the caller is known to manage its access requests."""
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        access.check_namespace_write(
            identity, repo.namespace, f"manage access requests to {repo.repo_id}"
        )
        _check_gated(repo)
        return repo

    def _user(self, name: str) -> Account:
        account = self._accounts.get_account(name)
        if account is None or account.kind is not AccountKind.USER:
            raise errors.AccountNotFoundError(f"No user named {name[:100]!r}")
        return account

    def _find(self, repo: RepoRecord, user: str | None, request: str | None) -> AccessRequestRecord:
        if user is not None:
            found = self._store.find(repo.id, self._user(user).id)
            named = f"from {user}"
        else:
            assert request is not None
            key = int(request, 16) if _REQUEST_ID.fullmatch(request) else None
            found = None if key is None else self._store.get(repo.id, key)
            named = f"with id {request[:40]!r}"
        if found is None:
            raise errors.AccessRequestNotFoundError(f"{repo.repo_id} has no access request {named}")
        return found


def _check_gated(repo: RepoRecord) -> None:
    if not repo.gated:
        raise errors.InvalidRequestError(
            f"{repo.type} {repo.repo_id} is not gated: its files need no access request "
            "(a manager gates it with update_repo_settings(gated='auto' or 'manual'))"
        )


def _check_fields(fields: dict[str, str]) -> None:
    if len(fields) > MAX_FIELDS:
        raise errors.InvalidRequestError(
            f"An access request has at most {MAX_FIELDS} fields, not {len(fields)}"
        )
    for name, value in fields.items():
        if "\x00" in name or "\x00" in value:
            raise errors.InvalidRequestError("Fields may not hold NUL characters")
        if not name or len(name) > MAX_FIELD_NAME:
            raise errors.InvalidRequestError(
                f"A field name has 1 to {MAX_FIELD_NAME} characters: {name[:40]!r}"
            )
        if len(value) > MAX_FIELD_VALUE:
            raise errors.InvalidRequestError(
                f"The field {name[:40]!r} is longer than {MAX_FIELD_VALUE} characters"
            )


def _check_rejection_reason(status: AccessStatus, reason: str | None) -> None:
    if reason is None:
        return
    if status is not AccessStatus.REJECTED:
        raise errors.InvalidRequestError("A rejection reason goes only with a rejection")
    if "\x00" in reason:
        raise errors.InvalidRequestError("A rejection reason may not hold NUL characters")
    if len(reason) > MAX_REJECTION_REASON:
        raise errors.InvalidRequestError(
            f"A rejection reason has at most {MAX_REJECTION_REASON} characters, not {len(reason)}"
        )
