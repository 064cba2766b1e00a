"""`ProfileService`'s identity-checked changes: profiles, organization members and their roles."""

from __future__ import annotations

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import AccountKind, Role
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services


def _user(hub: Services, name: str, role: Role = Role.WRITE, *, admin: bool = False) -> Identity:
    hub.auth.create_user(name, is_admin=admin)
    return hub.auth.authenticate(hub.auth.create_token(name, role).secret)


def _roles(hub: Services, org: str) -> dict[str, Role]:
    members = hub.auth.memberships(hub.auth.get_account(org, AccountKind.ORG))
    return {m.user.name: m.role for m in members}


@pytest.fixture
def org(hub: Services) -> str:
    """`acme`: `boss` is its admin, `dev` a writer, `eve` an outsider."""
    for name in ("boss", "dev", "eve", "newbie"):
        hub.auth.create_user(name, is_admin=False)
    hub.auth.create_org("acme", members={"boss": Role.ADMIN, "dev": Role.WRITE})
    return "acme"


def _identity(hub: Services, name: str, role: Role = Role.WRITE) -> Identity:
    return hub.auth.authenticate(hub.auth.create_token(name, role).secret)


def test_an_admin_adds_changes_and_removes_members(hub: Services, org: str) -> None:
    boss = _identity(hub, "boss")

    hub.profiles.set_member_role(boss, org, "newbie", Role.READ)
    changed = hub.profiles.set_member_role(boss, org, "newbie", Role.WRITE)
    assert {m.user.name: m.role for m in changed.members}["newbie"] is Role.WRITE
    hub.profiles.remove_member(boss, org, "newbie")

    assert _roles(hub, org) == {"boss": Role.ADMIN, "dev": Role.WRITE}


def test_a_site_admin_manages_members_of_any_org(hub: Services, org: str) -> None:
    root = _user(hub, "root", admin=True)

    hub.profiles.set_member_role(root, org, "dev", Role.ADMIN)

    assert _roles(hub, org)["dev"] is Role.ADMIN
    assert [m.user.name for m in hub.profiles.org_members(root, org).members] == ["boss", "dev"]


@pytest.mark.parametrize("who", ["dev", "eve"])
def test_members_without_the_admin_role_and_outsiders_are_refused(
    hub: Services, org: str, who: str
) -> None:
    caller = _identity(hub, who)

    with pytest.raises(errors.AuthorizationError):
        hub.profiles.org_members(caller, org)
    with pytest.raises(errors.AuthorizationError):
        hub.profiles.set_member_role(caller, org, who, Role.ADMIN)
    with pytest.raises(errors.AuthorizationError):
        hub.profiles.remove_member(caller, org, "boss")
    assert _roles(hub, org) == {"boss": Role.ADMIN, "dev": Role.WRITE}


def test_anonymous_callers_and_read_tokens_are_refused(hub: Services, org: str) -> None:
    anonymous = hub.auth.authenticate(None)
    reader = _identity(hub, "boss", Role.READ)

    with pytest.raises(errors.AuthenticationError):
        hub.profiles.org_members(anonymous, org)
    with pytest.raises(errors.AuthenticationError):
        hub.profiles.set_member_role(anonymous, org, "newbie", Role.READ)
    with pytest.raises(errors.AuthorizationError, match="read role only"):
        hub.profiles.set_member_role(reader, org, "newbie", Role.READ)
    with pytest.raises(errors.AuthorizationError, match="read role only"):
        hub.profiles.remove_member(reader, org, "dev")
    assert "newbie" not in _roles(hub, org)


def test_the_last_admin_is_neither_removed_nor_demoted(hub: Services, org: str) -> None:
    boss = _identity(hub, "boss")

    with pytest.raises(errors.ConflictError, match="last admin"):
        hub.profiles.remove_member(boss, org, "boss")
    with pytest.raises(errors.ConflictError, match="last admin"):
        hub.profiles.set_member_role(boss, org, "boss", Role.WRITE)
    hub.profiles.set_member_role(boss, org, "dev", Role.ADMIN)
    hub.profiles.remove_member(boss, org, "boss")

    assert _roles(hub, org) == {"dev": Role.ADMIN}


def test_unknown_users_orgs_and_memberships_are_not_found(hub: Services, org: str) -> None:
    boss = _identity(hub, "boss")

    with pytest.raises(errors.AccountNotFoundError):
        hub.profiles.set_member_role(boss, org, "ghost", Role.READ)
    with pytest.raises(errors.AccountNotFoundError):
        hub.profiles.set_member_role(boss, org, "acme", Role.READ)
    with pytest.raises(errors.AccountNotFoundError, match="not a member"):
        hub.profiles.remove_member(boss, org, "eve")
    with pytest.raises(errors.AccountNotFoundError):
        hub.profiles.org_members(boss, "no-such-org")


def test_a_user_changes_their_own_full_name(hub: Services) -> None:
    me = _user(hub, "me")
    reader = _identity(hub, "me", Role.READ)

    changed = hub.profiles.update_profile(me, "  Ada Lovelace ")

    assert changed.fullname == "Ada Lovelace"
    assert hub.auth.get_account("me").fullname == "Ada Lovelace"
    with pytest.raises(errors.InvalidRequestError):
        hub.profiles.update_profile(me, "   ")
    with pytest.raises(errors.InvalidRequestError):
        hub.profiles.update_profile(me, "x" * 101)
    with pytest.raises(errors.InvalidRequestError):
        hub.profiles.update_profile(me, "line\nbreak")
    with pytest.raises(errors.AuthorizationError):
        hub.profiles.update_profile(reader, "Read Only")
    with pytest.raises(errors.AuthenticationError):
        hub.profiles.update_profile(hub.auth.authenticate(None), "Nobody")


def test_a_profile_view_holds_only_the_repos_the_caller_may_see(hub: Services, org: str) -> None:
    boss = _identity(hub, "boss")
    hub.repos.create(boss, RepoType.MODEL, "acme", "open", private=False)
    hub.repos.create(boss, RepoType.MODEL, "acme", "closed", private=True)

    inside = hub.profiles.view(boss, "ACME")
    outside = hub.profiles.view(_identity(hub, "eve"), "acme")

    assert sorted(r.repo_id for r in inside.repos) == ["acme/closed", "acme/open"]
    assert [r.repo_id for r in outside.repos] == ["acme/open"]
    assert [m.name for m in outside.members] == ["boss", "dev"]
    assert outside.profile.repos.models == 1
    with pytest.raises(errors.AccountNotFoundError):
        hub.profiles.view(boss, "nobody")


def test_reserved_names_are_refused_for_new_accounts(hub: Services) -> None:
    for name in ("settings", "Collections", "organizations", "login"):
        with pytest.raises(errors.InvalidRequestError, match="reserved"):
            hub.auth.create_user(name, is_admin=False)
