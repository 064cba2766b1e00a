"""`LikeService`: liking and unliking repos, who likes a repo, and what a user likes.

Likes follow their repo's visibility: a private repo's likers are seen only by those who can
see the repo, and a user's liked repos list only the repos the caller can see. Liking needs a
signed-in caller with a write token and a repo the caller can see.
"""

from __future__ import annotations

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.likes import LikedRepo, Liker
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.likes import LikeStore


class LikeService:
    """Likes of repos."""

    def __init__(
        self, repos: RepoService, auth: AuthService, store: LikeStore, *, clock: Clock = utcnow
    ) -> None:
        self._repos = repos
        self._auth = auth
        self._store = store
        self._clock = clock

    def like(self, identity: Identity, type: RepoType, repo_id: str) -> None:
        """Like a repo (liking it again changes nothing).

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
            AuthenticationError, AuthorizationError: no token, or a read token.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        self._store.like(_liker(identity, f"like {repo_id}"), repo.id, self._clock())

    def unlike(self, identity: Identity, type: RepoType, repo_id: str) -> None:
        """Take back a like (a repo not liked stays so).

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
            AuthenticationError, AuthorizationError: no token, or a read token.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        self._store.unlike(_liker(identity, f"unlike {repo_id}"), repo.id)

    def likes(self, identity: Identity, repo: RepoRecord) -> bool:
        """Whether the caller (already allowed to see `repo`) likes it; False when anonymous."""
        if identity.account is None:
            return False
        return self._store.likes(identity.account.id, repo.id)

    def likers(
        self, identity: Identity, type: RepoType, repo_id: str, offset: int, limit: int
    ) -> Page[Liker]:
        """A page of the users who like a repo, most recent first.

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        return Page.of(self._store.likers(repo.id, offset, limit + 1), limit)

    def liked_repos(
        self, identity: Identity, user: str, offset: int, limit: int
    ) -> Page[LikedRepo]:
        """A page of the repos a user likes that the caller can see, most recent first.

        Raises:
            AccountNotFoundError: no user by that name.
        """
        account = self._auth.get_account(user, AccountKind.USER)
        visible = access.visible_namespaces(identity)
        return Page.of(self._store.liked_repos(account.id, visible, offset, limit + 1), limit)


def _liker(identity: Identity, what: str) -> int:
    """The caller's account id, when its token may change things."""
    access.check_write_token(identity, what)
    assert identity.account is not None
    return identity.account.id
