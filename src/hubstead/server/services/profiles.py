"""Profiles of users and organizations: overviews, members, follows, and their repos' storage.

An overview counts only the repos the caller may see, so a private repo shows in nobody's
numbers but its namespace's members'. Anyone may read overviews, members and followers; following
needs a signed-in caller with a write token, and the storage listing of a namespace is for its
members. An organization's members with their roles are for its admins (and site admins), who
add, re-role and remove members with a write token; an organization always keeps an admin (the
last one can be neither removed nor demoted). A user changes their own full name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind, Role
from hubstead.server.domain.profiles import (
    OrgMembers,
    Profile,
    ProfileView,
    RepoCounts,
    RepoStorage,
)
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.auth import Identity
from hubstead.server.services.pages import Page
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.profiles import ProfileStore

Usage = Callable[[Sequence[RepoRecord]], dict[int, int]]
"""The bytes each repo uses by repo row id (`UpkeepService.usage`)."""

_KIND_NAMES = {AccountKind.USER: "user", AccountKind.ORG: "organization", None: "account"}
MAX_FULLNAME = 100


class ProfileService:
    """Overviews, members and follows of accounts, and the storage their repos use."""

    def __init__(self, accounts: AccountStore, profiles: ProfileStore, usage: Usage) -> None:
        self._accounts = accounts
        self._profiles = profiles
        self._usage = usage

    def overview(self, identity: Identity, name: str, kind: AccountKind) -> Profile:
        """A user's or organization's profile with the counts the caller may see.

        Raises:
            AccountNotFoundError: no account of that kind has the name.
        """
        account = self._find(name, kind)
        repos = self._accounts.namespace_repos(account.name)
        visible = [r for r in repos if access.can_see(identity, r)]
        counts = RepoCounts(
            models=sum(r.type == RepoType.MODEL.value for r in visible),
            datasets=sum(r.type == RepoType.DATASET.value for r in visible),
            spaces=sum(r.type == RepoType.SPACE.value for r in visible),
        )
        caller = identity.account
        is_following = (
            None if caller is None else self._profiles.is_following(caller.id, account.id)
        )
        base = Profile(
            account,
            counts,
            followers=self._profiles.count_followers(account.id),
            following=self._profiles.count_following(account.id),
            is_following=is_following,
        )
        if kind is AccountKind.ORG:
            members = len(self._accounts.members_of(account.id))
            return dataclasses.replace(base, members=members)
        orgs = tuple(m.org for m in self._accounts.memberships_of(account.id))
        visible_namespaces = access.visible_namespaces(identity)
        return dataclasses.replace(
            base,
            orgs=orgs,
            discussions=self._profiles.count_discussions(account.id, visible_namespaces),
            likes=self._profiles.count_likes(account.id, visible_namespaces),
        )

    def view(self, identity: Identity, name: str) -> ProfileView:
        """A user's or organization's profile page: overview, visible repos, members.

        Raises:
            AccountNotFoundError: no account has the name.
        """
        account = self._find(name, None)
        profile = self.overview(identity, account.name, account.kind)
        repos = sorted(
            (
                r
                for r in self._accounts.namespace_repos(account.name)
                if access.can_see(identity, r)
            ),
            key=lambda r: (r.last_modified, r.id),
            reverse=True,
        )
        members: tuple[Account, ...] = ()
        if account.kind is AccountKind.ORG:
            members = tuple(m.user for m in self._accounts.members_of(account.id))
        return ProfileView(profile, tuple(repos), members)

    def update_profile(self, identity: Identity, fullname: str) -> Account:
        """Change the caller's own full name (1 to 100 printable characters).

        Raises:
            AuthenticationError, AuthorizationError: no token, or a read token.
            InvalidRequestError: an empty, too long or unprintable name.
        """
        access.check_write_token(identity, "change your profile")
        assert identity.account is not None
        fullname = fullname.strip()
        if not 1 <= len(fullname) <= MAX_FULLNAME or not fullname.isprintable():
            raise errors.InvalidRequestError(
                f"A full name must have 1 to {MAX_FULLNAME} printable characters"
            )
        self._accounts.set_fullname(identity.account.id, fullname)
        return self._find(identity.account.name, AccountKind.USER)

    def org_members(self, identity: Identity, org: str) -> OrgMembers:
        """An organization's members with their roles, for its admins (and site admins).

        Raises:
            AuthenticationError: nobody signed in.
            AuthorizationError: the caller is not an admin of the organization.
            AccountNotFoundError: no organization has the name.
        """
        account = self._find(org, AccountKind.ORG)
        access.check_namespace_admin(identity, account.name, f"manage the members of {org!r}")
        return OrgMembers(account, tuple(self._accounts.members_of(account.id)))

    def set_member_role(self, identity: Identity, org: str, user: str, role: Role) -> OrgMembers:
        """An organization admin's addition of a user with a role, or change of their role.

        Raises:
            AuthenticationError, AuthorizationError: no token, a read token, or not an admin of
                the organization.
            AccountNotFoundError: no such organization or user.
            ConflictError: the change would leave the organization without an admin.
        """
        members = self._admin_change(identity, org, "change the members of")
        target = self._find(user, AccountKind.USER)
        if role is not Role.ADMIN:
            self._keep_an_admin(members, target, "lose the admin role")
        self._accounts.set_membership(members.org.id, target.id, role)
        return OrgMembers(members.org, tuple(self._accounts.members_of(members.org.id)))

    def remove_member(self, identity: Identity, org: str, user: str) -> OrgMembers:
        """An organization admin's removal of a member.

        Raises:
            AuthenticationError, AuthorizationError: see `set_member_role`.
            AccountNotFoundError: no such organization, user or membership.
            ConflictError: the member is the organization's last admin.
        """
        members = self._admin_change(identity, org, "remove members of")
        target = self._find(user, AccountKind.USER)
        self._keep_an_admin(members, target, "leave")
        if not self._accounts.remove_membership(members.org.id, target.id):
            raise errors.AccountNotFoundError(f"{target.name!r} is not a member of {org!r}")
        return OrgMembers(members.org, tuple(self._accounts.members_of(members.org.id)))

    def _admin_change(self, identity: Identity, org: str, what: str) -> OrgMembers:
        access.check_write_token(identity, f"{what} {org!r}")
        return self.org_members(identity, org)

    @staticmethod
    def _keep_an_admin(members: OrgMembers, target: Account, what: str) -> None:
        admins = [m.user.id for m in members.members if m.role is Role.ADMIN]
        if admins == [target.id]:
            raise errors.ConflictError(
                f"{target.name!r} is the last admin of {members.org.name!r} and cannot {what}: "
                "make another member an admin first"
            )

    def members(self, org: str, offset: int, limit: int) -> Page[Account]:
        """A page of an organization's members, by name.

        Raises:
            AccountNotFoundError: no organization has the name.
        """
        account = self._find(org, AccountKind.ORG)
        users = [m.user for m in self._accounts.members_of(account.id)]
        return Page.of(users[offset : offset + limit + 1], limit)

    def followers(
        self, name: str, kind: AccountKind | None, offset: int, limit: int
    ) -> Page[Account]:
        """A page of the users following a user or an organization (`kind` None: either).

        Raises:
            AccountNotFoundError: no account of that kind has the name.
        """
        account = self._find(name, kind)
        return Page.of(self._profiles.followers(account.id, offset, limit + 1), limit)

    def following(self, user: str, offset: int, limit: int) -> Page[Account]:
        """A page of the users and organizations a user follows, by name.

        Raises:
            AccountNotFoundError: no user has the name.
        """
        account = self._find(user, AccountKind.USER)
        return Page.of(self._profiles.following(account.id, offset, limit + 1), limit)

    def follow(self, identity: Identity, name: str, kind: AccountKind | None) -> bool:
        """Follow a user or an organization (`kind` None: either); False if followed already.

        Raises:
            AuthenticationError, AuthorizationError: no token, or a read token.
            AccountNotFoundError: no account of that kind has the name.
            InvalidRequestError: the caller names themselves.
        """
        follower, account = self._pair(identity, name, kind, "follow")
        if account.id == follower.id:
            raise errors.InvalidRequestError("You cannot follow yourself")
        return self._profiles.follow(follower.id, account.id)

    def unfollow(self, identity: Identity, name: str, kind: AccountKind | None) -> bool:
        """Stop following a user or an organization (`kind` None: either); False if not.

        Raises:
            AuthenticationError, AuthorizationError: no token, or a read token.
            AccountNotFoundError: no account of that kind has the name.
        """
        follower, account = self._pair(identity, name, kind, "unfollow")
        return self._profiles.unfollow(follower.id, account.id)

    def repo_storage(
        self, identity: Identity, org: str | None, offset: int, limit: int
    ) -> Page[RepoStorage]:
        """A page of the repos of the caller's namespace (or of `org`) with their storage.

        Raises:
            AuthenticationError: no token.
            AccountNotFoundError: no organization has the name `org`.
            AuthorizationError: the caller is not a member of `org`.
        """
        if identity.account is None:
            raise errors.AuthenticationError("You must be authenticated to list your repos")
        namespace = identity.account.name
        if org is not None:
            namespace = self._find(org, AccountKind.ORG).name
            if access.namespace_role(identity, namespace) is None:
                raise errors.AuthorizationError(
                    f"Only members of {namespace!r} may list its repos' storage"
                )
        repos = sorted(
            self._accounts.namespace_repos(namespace),
            key=lambda r: (r.last_modified, r.id),
            reverse=True,
        )
        usage = self._usage(repos)
        total = sum(usage.values())
        items = [
            RepoStorage(
                r.type,
                r.repo_id,
                r.private,
                r.last_modified,
                usage[r.id],
                100 * usage[r.id] / total if total else 0.0,
            )
            for r in repos
        ]
        return Page.of(items[offset : offset + limit + 1], limit)

    def update_org_settings(
        self, identity: Identity, org: str, private_by_default: bool
    ) -> Account:
        """An organization admin's change of whether the org's new repos are private.

        Raises:
            AuthenticationError, AuthorizationError: no token, a read token, or not an admin
                of the organization.
            AccountNotFoundError: no organization has the name.
        """
        what = f"change the settings of {org!r}"
        access.check_write_token(identity, what)
        access.check_namespace_admin(identity, self._find(org, AccountKind.ORG).name, what)
        return self.set_private_by_default(org, private_by_default)

    def set_private_by_default(self, org: str, private: bool) -> Account:
        """Whether repos created in an organization without a visibility are private.

        Raises:
            AccountNotFoundError: no organization has the name.
        """
        account = self._find(org, AccountKind.ORG)
        self._accounts.set_private_by_default(account.id, private)
        return self._find(org, AccountKind.ORG)

    def _find(self, name: str, kind: AccountKind | None) -> Account:
        account = self._accounts.get_account(name)
        if account is None or (kind is not None and account.kind is not kind):
            raise errors.AccountNotFoundError(f"No {_KIND_NAMES[kind]} named {name!r} on this hub")
        return account

    def _pair(
        self, identity: Identity, name: str, kind: AccountKind | None, what: str
    ) -> tuple[Account, Account]:
        access.check_write_token(identity, f"{what} {name!r}")
        assert identity.account is not None
        return identity.account, self._find(name, kind)
