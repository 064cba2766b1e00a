"""git-lfs file locks: taking a lock, listing locks, the check before a push, and unlocking.

A lock is repo-wide: git-lfs names the ref it works on, which only serves authorization. Who may
do what, as git-lfs's locking API asks (`docs/api/locking.md` in git-lfs):

- listing locks needs read access to the repo; a private repo stays invisible to outsiders;
- locking a path, listing locks for a push (verify) and unlocking one's own lock need write
  access, as pushing does (a write token of someone who may write to the repo); a mirror takes
  no locks, as it takes no writes;
- unlocking someone else's lock needs `force` and the admin role in the repo's namespace (the
  user who owns it, an admin of the org, a site admin): locks are how writers take turns, so
  one writer cannot break another's lock, only whoever manages the namespace can.

Locks go with their repo (deleted with it, kept through a move) and with their owner's account.
"""

from __future__ import annotations

from hubstead.protocol import RepoType, lookup_path_problem, path_problem
from hubstead.server import errors
from hubstead.server.domain.locks import LockPage, LockRecord, VerifyPage
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.files import shown_path
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.locks import LockStore

DEFAULT_PAGE = 100
MAX_PAGE = 1000


class LockService:
    """The locks on the paths of each repo."""

    def __init__(self, repos: RepoService, store: LockStore, *, clock: Clock = utcnow) -> None:
        self._repos = repos
        self._store = store
        self._clock = clock

    def lock(self, identity: Identity, type: RepoType, repo_id: str, path: str) -> LockRecord:
        """Lock a path for the caller; the path need not exist (yet).

        Raises:
            InvalidRequestError: a path that could not be written to a repo.
            PathLockedError: the path is locked already (by the caller or someone else).
            ConflictError: the path was unlocked while this lock was being taken.
            RepoNotFoundError, AuthorizationError, MirrorReadOnlyError, ...: see
                `RepoService.locate` (write access).
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        problem = path_problem(path)
        if problem is not None:
            raise errors.InvalidRequestError(f"Cannot lock {shown_path(path)!r}: {problem}")
        assert identity.account is not None  # write access needs an account
        try:
            return self._store.add(repo.id, path, identity.account.id, self._clock())
        except AlreadyExistsError:
            holder = self._store.find(repo.id, path)
        if holder is None:
            raise errors.ConflictError(
                f"{shown_path(path)!r} was unlocked meanwhile; lock it again"
            )
        raise errors.PathLockedError(
            f"{shown_path(path)!r} is already locked by {holder.owner_name} (lock {holder.id})",
            lock=holder,
        )

    def list(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        *,
        path: str | None = None,
        lock_id: str | None = None,
        start: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> LockPage:
        """A page of the repo's locks in path order, or the one on `path`, or the one `lock_id`.

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate` (read access).
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        if path is not None or lock_id is not None:
            found = self._find(repo, path, lock_id)
            return LockPage(() if found is None else (found,))
        return self._page(repo, start, limit)

    def verify(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        *,
        start: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> VerifyPage:
        """A page of the repo's locks for a push: the caller's own, and others'.

        Raises:
            RepoNotFoundError, AuthorizationError, ...: see `RepoService.locate` (write access).
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        page = self._page(repo, start, limit)
        account_id = identity.account.id if identity.account is not None else None
        return VerifyPage(
            ours=tuple(lock for lock in page.locks if lock.owner_id == account_id),
            theirs=tuple(lock for lock in page.locks if lock.owner_id != account_id),
            next_path=page.next_path,
        )

    def unlock(
        self, identity: Identity, type: RepoType, repo_id: str, lock_id: str, *, force: bool
    ) -> LockRecord:
        """Release a lock: the caller's own, or with `force` someone else's (see the module doc).

        Raises:
            NotFoundError: the repo has no lock with this id.
            AuthorizationError: someone else's lock without `force`, or without the admin role.
            RepoNotFoundError, ...: see `RepoService.locate` (write access).
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        lock = self._find(repo, None, lock_id)
        if lock is None:
            raise errors.NotFoundError(f"{repo.repo_id} has no lock with id {lock_id!r}")
        assert identity.account is not None  # write access needs an account
        if lock.owner_id != identity.account.id:
            what = f"unlock {shown_path(lock.path)!r}, locked by {lock.owner_name}"
            if not force:
                raise errors.AuthorizationError(
                    f"Cannot {what}: only its owner may, or an admin of {repo.namespace!r} "
                    "with `git lfs unlock --force`"
                )
            access.check_namespace_admin(identity, repo.namespace, what)
        if not self._store.remove(repo.id, lock.id):
            raise errors.NotFoundError(f"{repo.repo_id} has no lock with id {lock_id!r}")
        return lock

    def _find(self, repo: RepoRecord, path: str | None, lock_id: str | None) -> LockRecord | None:
        """The lock with this path and (or) id, if there is one."""
        if lock_id is not None:
            if not (lock_id.isascii() and lock_id.isdigit() and len(lock_id) < 19):
                return None  # not an id this hub gives out
            lock = self._store.get(repo.id, int(lock_id))
            return lock if lock is not None and path in (None, lock.path) else None
        if path is None or lookup_path_problem(path) is not None:
            return None  # no lock can be on it (and a NUL never reaches the database)
        return self._store.find(repo.id, path)

    def _page(self, repo: RepoRecord, start: str | None, limit: int) -> LockPage:
        limit = max(1, min(limit, MAX_PAGE))
        locks = self._store.list(repo.id, start, limit + 1)
        next_path = locks[limit].path if len(locks) > limit else None
        return LockPage(tuple(locks[:limit]), next_path)
