"""Identity: users, organizations, memberships, access tokens, and who a request comes from.

Tokens are random `hf_…` strings shown once; only their sha256 is stored (they carry 200 bits of
randomness, so a slow password hash would add nothing).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import string

from hubstead.protocol import TOKEN_PREFIX, name_problem
from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind, Membership, Role, TokenRecord
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.storage.access_requests import AccessRequestStore
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.errors import AlreadyExistsError, NamespaceNotEmptyError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.tokens import TokenStore

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 34
BOOTSTRAP_ADMIN = "admin"
# Account names that are the first segment of the hub's own URLs (`/api/...`, `/datasets/...`,
# the web hub's `/settings/...`): an account with one of them would make its profile and repo
# URLs ambiguous. (`admin` is the bootstrap user's name, so it cannot be reserved.)
RESERVED_NAMES = frozenset(
    {
        *("api", "attachments", "avatars", "buckets", "datasets", "kernels", "models", "spaces"),
        *("collections", "login", "logout", "new", "new-dataset", "new-space", "oauth"),
        *("organizations", "search", "settings", "static", "uploads"),
    }
)


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who is calling: an account with its token's role and its org roles, or nobody.

    `accepted_repos` holds the row ids of the gated repos whose access requests from the
    account are accepted. What an identity may do is decided in `access.py`, not here.
    """

    account: Account | None = None
    token_role: Role | None = None
    token_name: str | None = None
    # Lowercased org name to the caller's role in it.
    org_roles: dict[str, Role] = dataclasses.field(default_factory=dict)
    accepted_repos: frozenset[int] = frozenset()

    @property
    def anonymous(self) -> bool:
        """True when no valid token was sent."""
        return self.account is None

    @property
    def account_id(self) -> int | None:
        """The caller's account row id (what hub events name as their actor), or None."""
        return self.account.id if self.account is not None else None


ANONYMOUS = Identity()


@dataclasses.dataclass(frozen=True)
class NewToken:
    """A token just created: the record and the secret, shown this once."""

    record: TokenRecord
    secret: str


def _repo_list(repos: list[RepoRecord]) -> str:
    return ", ".join(f"{repo.type} {repo.repo_id}" for repo in repos)


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_secret() -> str:
    """A fresh `hf_…` token."""
    return TOKEN_PREFIX + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))


class AuthService:
    """Accounts, tokens and authentication.

    A repo belongs to the account that has its namespace's name, so an account's lifecycle is
    its namespace's: an account is deleted only with the repos of its namespace (or refused
    while it has any), and a name is given to a new account only when no repo is left in its
    namespace. Whoever takes a name later starts with nothing of the old account: no repo,
    token, membership, mirror, redirect or LFS link.
    """

    def __init__(
        self,
        accounts: AccountStore,
        tokens: TokenStore,
        access_requests: AccessRequestStore,
        git: GitObjectStore,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._access_requests = access_requests
        self._git = git

    def authenticate(self, secret: str | None) -> Identity:
        """The identity a token stands for; anonymous when there is none.

        Raises:
            AuthenticationError: the token is not one this hub issued (or it was revoked).
        """
        if not secret:
            return ANONYMOUS
        found = self._tokens.find_token(hash_token(secret))
        if found is None:
            raise errors.AuthenticationError("Invalid credentials in Authorization header")
        token, account = found
        return self._identity(account, token)

    def reader(self, account_id: int | None) -> Identity | None:
        """Who an account is now, for checks of what it may read; None: it was deleted.

        Signed download URLs name the account they were issued to (`None`: anonymous); each
        use checks that account's current rights. The identity carries no token role, so it
        can never pass a write check.
        """
        if account_id is None:
            return ANONYMOUS
        account = self._accounts.get_account_by_id(account_id)
        if account is None:
            return None
        return self._identity(account, None)

    def at_keyboard(self, account: Account) -> Identity:
        """The identity of a person signed in to the web hub as `account`.

        A browser session acts with the write role: it is the user, not a token they handed
        out (the web hub checks every form it accepts against cross-site forgery instead).
        """
        return dataclasses.replace(self._identity(account, None), token_role=Role.WRITE)

    def _identity(self, account: Account, token: TokenRecord | None) -> Identity:
        """The account's identity now: its org roles and accepted access requests."""
        roles = {m.org.name.lower(): m.role for m in self._accounts.memberships_of(account.id)}
        return Identity(
            account,
            None if token is None else token.role,
            None if token is None else token.name,
            roles,
            self._access_requests.accepted_repos(account.id),
        )

    def bootstrap(self) -> NewToken | None:
        """On an empty hub, create the `admin` user and return its token; else None."""
        if self._accounts.count_accounts() > 0:
            return None
        self.create_user(BOOTSTRAP_ADMIN, fullname="Administrator", is_admin=True)
        return self.create_token(BOOTSTRAP_ADMIN, Role.WRITE, name="bootstrap")

    # --- users and organizations ----------------------------------------------------------------

    def create_user(
        self, name: str, *, fullname: str | None = None, email: str | None = None, is_admin: bool
    ) -> Account:
        """Create a user.

        Raises:
            InvalidRequestError: the name breaks the Hub's naming rules.
            ConflictError: a user or organization has that name, or repos are in its namespace.
        """
        return self._create_account(name, AccountKind.USER, fullname, email, is_admin)

    def create_org(
        self, name: str, *, fullname: str | None = None, members: dict[str, Role] | None = None
    ) -> Account:
        """Create an organization with its first members.

        Raises:
            InvalidRequestError: a bad name, or a member role for an unknown user.
            ConflictError: a user or organization has that name, or repos are in its namespace.
        """
        users = {user: self.get_account(user, AccountKind.USER) for user in members or {}}
        org = self._create_account(name, AccountKind.ORG, fullname, None, False)
        for user_name, role in (members or {}).items():
            self._accounts.set_membership(org.id, users[user_name].id, role)
        return org

    def _create_account(
        self, name: str, kind: AccountKind, fullname: str | None, email: str | None, admin: bool
    ) -> Account:
        problem = name_problem(name)
        if problem is None and name.lower() in RESERVED_NAMES:
            problem = "it is reserved for the hub's own URLs"
        if problem is not None:
            raise errors.InvalidRequestError(f"Invalid name {name!r}: {problem}")
        # Repos without an owner (mirrors pulled through or registered in a namespace that has
        # no account, or left by a deletion before deletions took the repos along) would
        # become the new account's.
        left = self._accounts.namespace_repos(name)
        if left:
            raise errors.ConflictError(
                f"The name {name!r} cannot be given to a new account: repos are in its "
                f"namespace ({_repo_list(left)}); delete them first"
            )
        try:
            return self._accounts.create_account(name, kind, fullname or name, email, admin)
        except AlreadyExistsError as exc:
            raise errors.ConflictError(f"The name {name!r} is already taken") from exc

    def get_account(self, name: str, kind: AccountKind | None = None) -> Account:
        """The user or organization named `name`.

        Raises:
            AccountNotFoundError: there is none (of that kind).
        """
        account = self._accounts.get_account(name)
        if account is None or (kind is not None and account.kind is not kind):
            what = "account" if kind is None else ("user" if kind is AccountKind.USER else "org")
            raise errors.AccountNotFoundError(f"No {what} named {name!r}")
        return account

    def list_accounts(self, kind: AccountKind) -> list[Account]:
        """Every user or every organization."""
        return self._accounts.list_accounts(kind)

    def search_accounts(self, text: str, limit: int) -> list[Account]:
        """Users and organizations whose name or full name contains `text`, by name."""
        return self._accounts.search_accounts(text, limit) if text.strip() else []

    def delete_account(
        self, name: str, kind: AccountKind, *, delete_repos: bool = False
    ) -> list[RepoRecord]:
        """Delete a user or organization with its tokens, memberships and old-id redirects.

        An account whose namespace still holds repos is not deleted unless `delete_repos` asks
        to delete those repos too (rows, LFS links, mirror configs, git data) in the same
        operation; so no repo is ever left for whoever takes the name next.

        Returns:
            The repos deleted with the account.

        Raises:
            AccountNotFoundError: there is none.
            ConflictError: its namespace has repos and `delete_repos` is false.
        """
        account = self.get_account(name, kind)
        try:
            deleted = self._accounts.delete_account(account.id, with_repos=delete_repos)
        except NamespaceNotEmptyError as exc:
            raise errors.ConflictError(
                f"The {kind.value} {account.name!r} still owns repos: {', '.join(exc.repos)}. "
                "Delete or move them first, or delete them with the account (--delete-repos)"
            ) from exc
        # Git data goes once no row names it: a crash in between leaves only unreachable data.
        for repo in deleted:
            self._git.delete(repo.storage_key)
        return deleted

    def set_member(self, org: str, user: str, role: Role) -> None:
        """Add a user to an organization or change their role."""
        org_account = self.get_account(org, AccountKind.ORG)
        user_account = self.get_account(user, AccountKind.USER)
        self._accounts.set_membership(org_account.id, user_account.id, role)

    def remove_member(self, org: str, user: str) -> None:
        """Remove a user from an organization.

        Raises:
            AccountNotFoundError: no such org, user or membership.
        """
        org_account = self.get_account(org, AccountKind.ORG)
        user_account = self.get_account(user, AccountKind.USER)
        if not self._accounts.remove_membership(org_account.id, user_account.id):
            raise errors.AccountNotFoundError(f"{user!r} is not a member of {org!r}")

    def memberships(self, account: Account) -> list[Membership]:
        """An org's members or a user's orgs."""
        if account.kind is AccountKind.ORG:
            return self._accounts.members_of(account.id)
        return self._accounts.memberships_of(account.id)

    # --- tokens ---------------------------------------------------------------------------------

    def create_token(
        self, user: str, role: Role, *, name: str | None = None, secret: str | None = None
    ) -> NewToken:
        """Issue a token for a user: the given secret, or a new random one.

        Raises:
            AccountNotFoundError: no such user.
            InvalidRequestError: a role other than read or write, or an unusable secret.
            ConflictError: the secret is already in use.
        """
        account = self.get_account(user, AccountKind.USER)
        if role not in (Role.READ, Role.WRITE):
            raise errors.InvalidRequestError("A token's role is 'read' or 'write'")
        if secret is not None and (len(secret) < 8 or not secret.isprintable() or " " in secret):
            raise errors.InvalidRequestError(
                "A token must be at least 8 printable characters without spaces"
            )
        secret = secret or new_token_secret()
        token_name = name or f"{role.value}-token"
        try:
            record = self._tokens.add_token(account.id, token_name, role, hash_token(secret))
        except AlreadyExistsError as exc:
            raise errors.ConflictError("That token is already in use") from exc
        return NewToken(record, secret)

    def list_tokens(self, user: str) -> list[TokenRecord]:
        """A user's tokens (names and roles; the secrets are not kept)."""
        return self._tokens.list_tokens(self.get_account(user, AccountKind.USER).id)

    def revoke_token(self, user: str, name: str) -> int:
        """Delete a user's tokens by name; how many there were.

        Raises:
            AccountNotFoundError: no such user, or no token of that name.
        """
        deleted = self._tokens.delete_token(self.get_account(user, AccountKind.USER).id, name)
        if not deleted:
            raise errors.AccountNotFoundError(f"{user!r} has no token named {name!r}")
        return deleted
