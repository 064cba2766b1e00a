"""Who may do what to a repo: the one place visibility and permissions are decided.

A private repo is invisible to outsiders: they get exactly what a missing repo gets. A gated
repo's metadata is public but its files need a role in its namespace or an accepted access
request (`services/access_requests.py`), and so do its discussions, which show its files'
changes. Taking part in discussions (opening threads and pull requests, commenting) needs a
signed-in caller with a write token, not write access: what a thread's author may do beyond
that is decided by `services/discussions.py`.
"""

from __future__ import annotations

import enum

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.auth import Identity


class Action(enum.Enum):
    """What a caller wants to do with a repo."""

    READ = "read"
    READ_FILES = "read files of"
    DISCUSS = "take part in discussions of"
    WRITE = "write to"


def namespace_role(identity: Identity, namespace: str) -> Role | None:
    """The caller's role in a namespace, or None.

    Users are admins of their own namespace (site admins of every one); in an org they have
    their member role.
    """
    account = identity.account
    if account is None:
        return None
    if account.is_admin or namespace.lower() == account.name.lower():
        return Role.ADMIN
    return identity.org_roles.get(namespace.lower())


def visible_namespaces(identity: Identity) -> list[str] | None:
    """The namespaces whose private repos the caller may list; None means every namespace."""
    if identity.account is None:
        return []
    if identity.account.is_admin:
        return None
    return [identity.account.name, *identity.org_roles]


def not_found(identity: Identity, type: str, repo_id: str) -> errors.RepoNotFoundError:
    """The error for a repo that does not exist or that the caller may not see."""
    return errors.RepoNotFoundError(
        f"Repository not found: {type} {repo_id}", anonymous=identity.anonymous
    )


def can_see(identity: Identity, repo: RepoRecord) -> bool:
    """Public repos are visible to all; private ones to their namespace's members."""
    return not repo.private or namespace_role(identity, repo.namespace) is not None


def check(identity: Identity, repo: RepoRecord, action: Action) -> None:
    """Raise unless `identity` may perform `action` on `repo`.

    Raises:
        RepoNotFoundError: the caller may not see the repo.
        GatedRepoError: the repo is gated and the caller is not authorized.
        AuthenticationError: a write without a token.
        AuthorizationError: a write the caller's token or role does not allow.
    """
    if not can_see(identity, repo):
        raise not_found(identity, repo.type, repo.repo_id)
    if action in (Action.READ_FILES, Action.DISCUSS) and not passes_gate(identity, repo):
        raise errors.GatedRepoError(
            f"Access to {repo.type} {repo.repo_id} is restricted and you are not in the "
            f"authorized list. Ask for access: `hubstead access request {repo.repo_id}"
            f"{'' if repo.type == 'model' else ' --repo-type ' + repo.type}`.",
            anonymous=identity.anonymous,
        )
    if action is Action.WRITE:
        check_namespace_write(identity, repo.namespace, f"write to {repo.repo_id}")
    if action is Action.DISCUSS:
        check_write_token(identity, f"take part in discussions of {repo.repo_id}")


def passes_gate(identity: Identity, repo: RepoRecord) -> bool:
    """Whether the caller may read the repo's files as far as gating goes.

    Ungated repos let everyone through; gated ones their namespace's members and the users
    whose access request is accepted.
    """
    return (
        not repo.gated
        or namespace_role(identity, repo.namespace) is not None
        or repo.id in identity.accepted_repos
    )


def may(identity: Identity, repo: RepoRecord, action: Action) -> bool:
    """Whether `check` would let `identity` perform `action` on `repo`."""
    try:
        check(identity, repo, action)
    except (errors.NotFoundError, errors.AuthorizationError, errors.AuthenticationError):
        return False
    return True


def check_namespace_write(identity: Identity, namespace: str, what: str) -> None:
    """Raise unless the caller may create or change repos in `namespace`.

    Raises:
        AuthenticationError: no token.
        AuthorizationError: a read token, or no write role in that namespace.
    """
    check_write_token(identity, what)
    role = namespace_role(identity, namespace)
    if role is None or not role.allows(Role.WRITE):
        raise errors.AuthorizationError(
            f"Cannot {what}: you don't have the rights to write in the namespace {namespace!r}"
        )


def check_write_token(identity: Identity, what: str) -> None:
    """Raise unless the caller signed in with a token that may change things.

    Raises:
        AuthenticationError: no token.
        AuthorizationError: a read token.
    """
    if identity.anonymous:
        raise errors.AuthenticationError(f"You must be authenticated to {what}")
    if identity.token_role is None or not identity.token_role.allows(Role.WRITE):
        raise errors.AuthorizationError(
            f"Cannot {what}: the token {identity.token_name!r} has the read role only"
        )


def check_namespace_admin(identity: Identity, namespace: str, what: str) -> None:
    """Raise unless the caller has the admin role in `namespace` (its own, an org's, a site's).

    Raises:
        AuthenticationError: no token.
        AuthorizationError: another role, or none.
    """
    if identity.anonymous:
        raise errors.AuthenticationError(f"You must be authenticated to {what}")
    role = namespace_role(identity, namespace)
    if role is None or not role.allows(Role.ADMIN):
        raise errors.AuthorizationError(
            f"Cannot {what}: only admins of the namespace {namespace!r} may"
        )


def check_site_admin(identity: Identity, what: str, *, write: bool = False) -> None:
    """Raise unless the caller is a site administrator (with a write token when `write`).

    Raises:
        AuthenticationError: no token.
        AuthorizationError: not a site administrator, or a read token for a change.
    """
    if identity.account is None:
        raise errors.AuthenticationError(f"You must be authenticated to {what}")
    if not identity.account.is_admin:
        raise errors.AuthorizationError(f"Only site administrators may {what}")
    if write and (identity.token_role is None or not identity.token_role.allows(Role.WRITE)):
        raise errors.AuthorizationError(
            f"Cannot {what}: the token {identity.token_name!r} has the read role only"
        )
