"""`AccountStore`: users and organizations, and who is a member of which organization."""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.accounts import Account, AccountKind, Membership, Role
from hubstead.server.domain.repos import RepoRecord


class AccountStore(Protocol):
    """Users and organizations (one namespace), and organization memberships."""

    def count_accounts(self) -> int:
        """How many users and organizations exist."""

    def create_account(
        self, name: str, kind: AccountKind, fullname: str, email: str | None, is_admin: bool
    ) -> Account:
        """Create a user or organization (AlreadyExistsError if the name is taken)."""

    def get_account(self, name: str) -> Account | None:
        """The account with this name (case-insensitive), or None."""

    def get_account_by_id(self, account_id: int) -> Account | None:
        """The account with this id, or None."""

    def list_accounts(self, kind: AccountKind | None = None) -> list[Account]:
        """Accounts sorted by name."""

    def delete_account(self, account_id: int, *, with_repos: bool) -> list[RepoRecord]:
        """Delete an account with everything that names it, in one transaction.

        Memberships, tokens and redirects from old ids in its namespace go with it. The repos of
        its namespace go too when `with_repos` (the deleted rows are returned, for their git
        data to be removed); otherwise their presence refuses the deletion
        (`NamespaceNotEmptyError`), so that no repo outlives its owner.
        """

    def namespace_repos(self, namespace: str) -> list[RepoRecord]:
        """Every repo (of every type) in a namespace, by type and id."""

    def set_private_by_default(self, account_id: int, private: bool) -> None:
        """Whether repos created in the account's namespace without a visibility are private."""

    def set_fullname(self, account_id: int, fullname: str) -> None:
        """Change the account's full name."""

    def password_hash(self, account_id: int) -> str | None:
        """The account's password hash, or None when it has no password."""

    def set_password_hash(self, account_id: int, password_hash: str | None) -> None:
        """Set (or, with None, remove) the account's password hash."""

    def search_accounts(self, text: str, limit: int) -> list[Account]:
        """Accounts whose name or full name contains `text` (any case), by name."""

    def set_membership(self, org_id: int, user_id: int, role: Role) -> None:
        """Add a user to an organization, or change their role."""

    def remove_membership(self, org_id: int, user_id: int) -> bool:
        """Remove a user from an organization; whether they were a member."""

    def memberships_of(self, user_id: int) -> list[Membership]:
        """The organizations a user belongs to."""

    def members_of(self, org_id: int) -> list[Membership]:
        """The members of an organization."""
