"""The admin service: only site admins pass its check; users, orgs and the storage report."""

from __future__ import annotations

import pytest

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services


def _identities(hub: Services) -> tuple[Identity, Identity, Identity]:
    hub.auth.create_user("boss", is_admin=True)
    hub.auth.create_user("pleb", is_admin=False)
    boss = hub.auth.authenticate(hub.auth.create_token("boss", Role.WRITE).secret)
    reader = hub.auth.authenticate(hub.auth.create_token("boss", Role.READ).secret)
    pleb = hub.auth.authenticate(hub.auth.create_token("pleb", Role.WRITE).secret)
    return boss, reader, pleb


def test_only_site_admins_pass_and_changes_need_a_write_role(hub: Services) -> None:
    _, reader, pleb = _identities(hub)
    anonymous = hub.auth.authenticate(None)

    for nobody in (anonymous, pleb):
        with pytest.raises(errors.NotFoundError):
            hub.admin.users(nobody, "", 0, 10)
        with pytest.raises(errors.NotFoundError):
            hub.admin.create_user(nobody, "x-user", "", "long enough", is_admin=True)
    assert [u.name for u in hub.admin.users(reader, "bo", 0, 10)] == ["boss"]
    with pytest.raises(errors.AuthorizationError):
        hub.admin.create_user(reader, "x-user", "", "long enough", is_admin=False)
    with pytest.raises(errors.AccountNotFoundError):
        hub.auth.get_account("x-user")


def test_create_user_sets_a_password_and_checks_it_first(hub: Services) -> None:
    boss, _, _ = _identities(hub)

    with pytest.raises(errors.InvalidRequestError):
        hub.admin.create_user(boss, "newbie", "a@b.c", "short", is_admin=False)
    with pytest.raises(errors.InvalidRequestError):
        hub.admin.create_user(boss, "newbie", "not an email", "long enough", is_admin=False)
    with pytest.raises(errors.AccountNotFoundError):
        hub.auth.get_account("newbie")
    user = hub.admin.create_user(boss, "newbie", "a@b.c", "long enough", is_admin=False)

    assert user.email == "a@b.c"
    started = hub.sessions.sign_in("newbie", "long enough", "127.0.0.1", "test")
    assert started.session.account_id == user.id


def test_create_org_makes_the_named_user_its_admin(hub: Services) -> None:
    boss, _, _ = _identities(hub)

    with pytest.raises(errors.AccountNotFoundError):
        hub.admin.create_org(boss, "acme", "nobody")
    hub.admin.create_org(boss, "acme", "pleb")

    [row] = hub.admin.orgs(boss, "acm", 0, 10)
    assert [(m.user.name, m.role) for m in row.members] == [("pleb", Role.ADMIN)]


def test_overview_counts_accounts_and_an_empty_store(hub: Services) -> None:
    boss, _, _ = _identities(hub)

    overview = hub.admin.overview(boss, 5)

    assert (overview.users, overview.admins, overview.orgs, overview.mirrors) == (2, 1, 0, 0)
    assert overview.storage.blob_count == 0 and overview.storage.xorb_bytes == 0
    assert overview.storage.repos_by_type["model"] == 0 and overview.storage.largest == []
