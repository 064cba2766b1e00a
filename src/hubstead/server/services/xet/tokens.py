"""CAS access tokens: short-lived, scoped to one repo and to reading or writing it.

The hub hands a token out on `xet-{read|write}-token` to whoever may read (or write to) the
repo, and the client sends it as the bearer of every CAS request. A token is signed, not
stored: it names the repo, the account (None: anonymous) and whether it may write. Every use
checks again that the account may still do that to the repo, so a token does not outlive a
membership change, a repo turned private, or a deleted account; a failed signature or an
expired token is a 401, which makes the client ask for a new one.

A write token goes to writers of the repo and, for a pull request, to those who may commit to
it: with `create_pr` (the client opening one asks for `xet-write-token/None?create_pr=1`),
whoever may take part in the repo's discussions; for a pull request's ref, `refs/pr/<num>`,
its author or a writer. Such a token says so, and each use checks again the right it was
issued on (taking part in discussions). The files it uploads are linked to the repo as the LFS
batch API links them (see `services/lfs.py`), so the pull request's commit can name them.
"""

from __future__ import annotations

import dataclasses
import enum

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.discussions import DiscussionService, pull_request_number
from hubstead.server.services.repos import RepoService
from hubstead.server.services.signing import UrlSigner

_PURPOSE = "xet-cas"


class Scope(enum.Enum):
    """What a CAS token allows."""

    READ = "read"
    WRITE = "write"


@dataclasses.dataclass(frozen=True)
class CasToken:
    """A CAS access token and when it expires (seconds since the epoch)."""

    access_token: str
    expires_at: int


@dataclasses.dataclass(frozen=True)
class CasGrant:
    """What a valid token lets its bearer do now: read (and maybe write) `repo` as `reader`."""

    repo: RepoRecord
    reader: Identity
    scope: Scope


class XetTokenService:
    """Issues CAS tokens and checks them on every CAS request."""

    def __init__(
        self,
        repos: RepoService,
        auth: AuthService,
        discussions: DiscussionService,
        signer: UrlSigner,
        ttl_seconds: int,
    ) -> None:
        self._repos = repos
        self._auth = auth
        self._discussions = discussions
        self._signer = signer
        self._ttl = ttl_seconds

    def issue(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        scope: Scope,
        *,
        revision: str | None = None,
        create_pr: bool = False,
    ) -> CasToken:
        """A token for the caller, who must be allowed to read (or write to) the repo.

        A token is for the repo's content, which the CAS addresses by hash, and an upload
        names its branch at commit time: the revision matters only to write to a pull request
        (`refs/pr/<num>`, or `create_pr`; see the module doc).

        Raises:
            RevisionNotFoundError: `refs/pr/<num>` names no pull request.
            InvalidRequestError: the pull request is merged or closed.
            RepoNotFoundError, GatedRepoError, AuthenticationError, AuthorizationError,
            MirrorReadOnlyError: see `RepoService.locate`.
        """
        num = pull_request_number(revision) if revision is not None else None
        participant = scope is Scope.WRITE and (create_pr or num is not None)
        if scope is Scope.READ:
            repo = self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        elif create_pr:
            repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        elif num is not None:
            repo = self._discussions.check_pr_commit(identity, type, repo_id, num)
        else:
            repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        account = identity.account
        subject = {"r": repo.id, "u": account and account.id, "s": scope.value}
        if participant:
            subject["p"] = True
        token = self._signer.sign(_PURPOSE, subject, self._ttl)
        return CasToken(token, self._signer.expiry(token))

    def authorize(self, token: str, scope: Scope) -> CasGrant:
        """What `token` allows now, if it allows `scope`.

        Raises:
            AuthenticationError: no token, a forged or expired one (the client refreshes it).
            AuthorizationError: a read token on a write request, or a bearer who may no
                longer read (or write to) the repo, or whose repo is gone.
        """
        try:
            subject = self._signer.verify(token, _PURPOSE)
        except errors.AuthorizationError as exc:
            raise errors.AuthenticationError(f"Invalid Xet access token: {exc.message}") from None
        repo_key, user_id, granted = subject.get("r"), subject.get("u"), subject.get("s")
        if not isinstance(repo_key, int) or not (user_id is None or isinstance(user_id, int)):
            raise errors.AuthenticationError("Invalid Xet access token")
        if scope is Scope.WRITE and granted != Scope.WRITE.value:
            raise errors.AuthorizationError("This Xet token may only read; ask for a write token")
        repo = self._repos.find(repo_key)
        reader = self._auth.reader(user_id)
        if reader is not None and scope is Scope.WRITE:
            # Issued to a write token: the account's current role in the namespace decides.
            reader = dataclasses.replace(reader, token_role=Role.WRITE)
        action = Action.READ_FILES
        if scope is Scope.WRITE:
            action = Action.DISCUSS if subject.get("p") is True else Action.WRITE
        if repo is None or reader is None or not access.may(reader, repo, action):
            raise errors.AuthorizationError(
                "This Xet token is no longer valid: its repo is gone or may no longer be "
                f"{'written to' if scope is Scope.WRITE else 'read'} by whom it was issued to"
            )
        return CasGrant(repo, reader, scope)
