"""Profiles, follows, profile settings and organization members over plain HTTP."""

from __future__ import annotations

import httpx

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user
from tests.helpers.live_server import LiveServer
from tests.web.conftest import (
    HOSTILE,
    PASSWORD,
    browser_client,
    csrf_of,
    signed_in_client,
    user_with_password,
)


def test_a_profile_shows_public_repos_to_all_and_private_ones_to_the_owner(
    web_hub: LiveServer,
) -> None:
    owner = user_with_password(web_hub, "owner")
    outsider = user_with_password(web_hub, "outsider")
    public = owner.api.create_repo(f"{owner.name}/open-model").repo_id
    hidden = owner.api.create_repo(
        f"{owner.name}/secret-data", repo_type="dataset", private=True
    ).repo_id
    for liked in (f"models/{public}", f"datasets/{hidden}"):
        answer = httpx.post(
            f"{web_hub.url}/api/{liked}/like",
            headers={"authorization": f"Bearer {owner.token}"},
        )
        assert answer.status_code == 200, answer.text

    with browser_client(web_hub) as anonymous:
        seen_anonymously = anonymous.get(f"/{owner.name}")
    with signed_in_client(web_hub, outsider.name, PASSWORD) as client:
        seen_by_outsider = client.get(f"/{owner.name}")
        likes_seen_by_outsider = client.get(f"/{owner.name}/likes")
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        seen_by_owner = client.get(f"/{owner.name}")
        likes_seen_by_owner = client.get(f"/{owner.name}/likes")

    for page in (seen_anonymously, seen_by_outsider):
        assert page.status_code == 200
        assert f"Test {owner.name}" in page.text
        assert f'href="/{public}"' in page.text
        assert hidden not in page.text
        assert f"/avatars/{owner.name}.svg" in page.text
        assert 'id="likes-count">♥ 1 like<' in page.text
    assert f'href="/{public}"' in likes_seen_by_outsider.text
    assert hidden not in likes_seen_by_outsider.text
    assert f'href="/datasets/{hidden}"' in likes_seen_by_owner.text
    assert 'id="likes-count">♥ 2 likes<' in seen_by_owner.text
    assert 'id="follow-button"' in seen_by_outsider.text
    assert 'id="follow-button"' not in seen_by_owner.text
    assert f'href="/datasets/{hidden}"' in seen_by_owner.text
    assert ">private<" in seen_by_owner.text


def test_an_organization_profile_lists_members_and_what_its_members_may_see(
    web_hub: LiveServer,
) -> None:
    admin = user_with_password(web_hub, "orgadmin")
    outsider = user_with_password(web_hub, "outsider")
    org = make_org(web_hub, {admin.name: Role.ADMIN})
    admin.api.create_repo(f"{org}/org-public")
    admin.api.create_repo(f"{org}/org-private", private=True)

    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        inside = client.get(f"/{org}")
        members = client.get(f"/organizations/{org}/members")
        moved = client.get(f"/organizations/{org}")
    with signed_in_client(web_hub, outsider.name, PASSWORD) as client:
        outside = client.get(f"/{org}")

    assert inside.status_code == outside.status_code == members.status_code == 200
    assert f"Org {org}" in outside.text and "· organization" in outside.text
    assert f'href="/{admin.name}"' in outside.text
    assert f"{org}/org-public" in outside.text and f"{org}/org-private" not in outside.text
    assert f"{org}/org-private" in inside.text
    assert 'id="org-settings-link"' in inside.text
    assert 'id="org-settings-link"' not in outside.text
    assert f'href="/{admin.name}"' in members.text
    assert moved.status_code == 301 and moved.headers["location"] == f"/{org}"


def test_profiles_never_shadow_other_pages_and_unknown_names_are_404(
    web_hub: LiveServer,
) -> None:
    owner = make_user(web_hub, "shadow")
    repo_id = owner.api.create_repo(f"{owner.name}/followers-not").repo_id

    with browser_client(web_hub) as client:
        unknown = client.get("/no-such-account-here")
        unknown_followers = client.get("/no-such-account-here/followers")
        models = client.get("/models")
        settings = client.get("/settings")
        new_dataset = client.get("/new-dataset")
        repo = client.get(f"/{repo_id}")
        api = client.get("/api")
        encoded = client.get("/organizations/%2F%2Fevil.example")

    assert unknown.status_code == 404 and "no-such-account-here" in unknown.text
    assert unknown_followers.status_code == 404
    assert models.status_code == 200 and "<h1>Models</h1>" in models.text
    assert settings.status_code == 404 and "There is nothing at this address" in settings.text
    assert new_dataset.status_code == 303 and new_dataset.headers["location"].startswith("/login")
    assert repo.status_code == 200 and 'id="repo-name"' in repo.text
    assert api.status_code == 404 and "profile-name" not in api.text
    assert not encoded.headers.get("location", "/x").startswith("//")


def test_follow_and_unfollow_round_trip_agrees_with_the_api(web_hub: LiveServer) -> None:
    fan = user_with_password(web_hub, "fan")
    star = make_user(web_hub, "star")

    with signed_in_client(web_hub, fan.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{star.name}"))
        forged = client.post(f"/{star.name}/follow", data={"csrf_token": "0" * 64})
        followed = client.post(f"/{star.name}/follow", data={"csrf_token": token})
        after_follow = client.get(f"/{star.name}")
        api_after_follow = fan.api.get_user_overview(star.name)
        followers = client.get(f"/{star.name}/followers")
        following = client.get(f"/{fan.name}/following")
        unfollowed = client.post(f"/{star.name}/unfollow", data={"csrf_token": token})
        after_unfollow = client.get(f"/{star.name}")
        self_follow = client.post(f"/{fan.name}/follow", data={"csrf_token": token})

    assert forged.status_code == 403
    assert followed.status_code == 303 and followed.headers["location"] == f"/{star.name}"
    assert ">Unfollow<" in after_follow.text and "1 follower<" in after_follow.text
    assert api_after_follow.num_followers == 1
    assert f'href="/{fan.name}"' in followers.text
    assert f'href="/{star.name}"' in following.text
    assert unfollowed.status_code == 303
    assert ">Follow<" in after_unfollow.text and "0 followers<" in after_unfollow.text
    assert fan.api.get_user_overview(star.name).num_followers == 0
    assert self_follow.status_code == 400 and "cannot follow yourself" in self_follow.text


def test_anonymous_visitors_are_sent_to_sign_in_to_follow(web_hub: LiveServer) -> None:
    star = make_user(web_hub, "star")
    with browser_client(web_hub) as client:
        page = client.get(f"/{star.name}")
        token = csrf_of(client.get("/login"))
        posted = client.post(f"/{star.name}/follow", data={"csrf_token": token})

    assert f'href="/login?next=/{star.name}"' in page.text
    assert posted.status_code == 401


def test_the_profile_settings_change_the_full_name_and_escape_it(web_hub: LiveServer) -> None:
    user = user_with_password(web_hub, "settler")

    with signed_in_client(web_hub, user.name, PASSWORD) as client:
        form = client.get("/settings/profile")
        token = csrf_of(form)
        forged = client.post("/settings/profile", data={"fullname": "Forged"})
        empty = client.post("/settings/profile", data={"csrf_token": token, "fullname": "  "})
        saved = client.post("/settings/profile", data={"csrf_token": token, "fullname": HOSTILE})
        after = client.get("/settings/profile?saved=1")
        profile = client.get(f"/{user.name}")
        tokens = client.get("/settings/tokens")
        password = client.get("/settings/password")

    assert form.status_code == 200 and 'id="fullname"' in form.text
    for page in (form, tokens, password):
        assert 'class="settings-nav"' in page.text
    assert 'id="settings-profile-tab" aria-current="page"' in form.text
    assert 'id="settings-tokens-tab" aria-current="page"' in tokens.text
    assert forged.status_code == 403
    assert empty.status_code == 400 and "A full name must have" in empty.text
    assert saved.status_code == 303
    assert 'id="profile-saved"' in after.text
    assert user.api.get_user_overview(user.name).fullname == HOSTILE
    for page in (after, profile):
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def _org_with_admin(server: LiveServer) -> tuple[HubUser, HubUser, str]:
    """An admin (who can sign in), a write member (who can sign in too), and their org."""
    admin = user_with_password(server, "orgadmin")
    member = user_with_password(server, "member")
    org = make_org(server, {admin.name: Role.ADMIN, member.name: Role.WRITE})
    return admin, member, org


def test_an_org_admin_adds_changes_and_removes_members(web_hub: LiveServer) -> None:
    admin, _, org = _org_with_admin(web_hub)
    newcomer = make_user(web_hub, "newcomer")
    page = f"/organizations/{org}/settings/members"

    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        listing = client.get(page)
        token = csrf_of(listing)
        added = client.post(page, data={"csrf_token": token, "user": newcomer.name, "role": "read"})
        changed = client.post(
            page, data={"csrf_token": token, "user": newcomer.name, "role": "write"}
        )
        roles = {
            m.user.name: m.role
            for m in web_hub.services.profiles.org_members(
                web_hub.services.auth.authenticate(admin.token), org
            ).members
        }
        removed = client.post(page + "/remove", data={"csrf_token": token, "user": newcomer.name})
        unknown = client.post(
            page, data={"csrf_token": token, "user": "nobody-at-all", "role": "read"}
        )
        bad_role = client.post(
            page, data={"csrf_token": token, "user": newcomer.name, "role": "owner"}
        )
        forged = client.post(page, data={"user": newcomer.name, "role": "admin"})

    assert listing.status_code == 200 and f'data-member="{admin.name}"' in listing.text
    assert added.status_code == changed.status_code == removed.status_code == 303
    assert roles[newcomer.name] is Role.WRITE
    members = [
        u["user"] for u in httpx.get(f"{web_hub.url}/api/organizations/{org}/members").json()
    ]
    assert newcomer.name not in members and admin.name in members
    assert unknown.status_code == 404 and 'id="members-error"' in unknown.text
    assert bad_role.status_code == 400 and "Name a user and a role" in bad_role.text
    assert forged.status_code == 403


def test_the_last_admin_can_be_neither_removed_nor_demoted(web_hub: LiveServer) -> None:
    admin, _, org = _org_with_admin(web_hub)
    page = f"/organizations/{org}/settings/members"

    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        token = csrf_of(client.get(page))
        removed = client.post(page + "/remove", data={"csrf_token": token, "user": admin.name})
        demoted = client.post(page, data={"csrf_token": token, "user": admin.name, "role": "read"})

    for answer in (removed, demoted):
        assert answer.status_code == 409
        assert "is the last admin of" in answer.text and 'id="members-error"' in answer.text
    assert admin.name in [
        m.user.name
        for m in web_hub.services.auth.memberships(web_hub.services.auth.get_account(org))
    ]


def test_members_without_the_admin_role_and_outsiders_cannot_manage_members(
    web_hub: LiveServer,
) -> None:
    admin, member, org = _org_with_admin(web_hub)
    outsider = user_with_password(web_hub, "outsider")
    page = f"/organizations/{org}/settings/members"

    with signed_in_client(web_hub, member.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{org}"))
        member_get = client.get(page)
        member_post = client.post(
            page, data={"csrf_token": token, "user": member.name, "role": "admin"}
        )
        member_remove = client.post(
            page + "/remove", data={"csrf_token": token, "user": admin.name}
        )
        member_settings = client.get(f"/organizations/{org}/settings")
    with signed_in_client(web_hub, outsider.name, PASSWORD) as client:
        outsider_get = client.get(page)
    with browser_client(web_hub) as anonymous:
        anonymous_get = anonymous.get(page)

    for refused in (member_get, member_post, member_remove, member_settings, outsider_get):
        assert refused.status_code == 403
    assert anonymous_get.status_code == 303 and anonymous_get.headers["location"].startswith(
        "/login?next="
    )
    roles = {
        m.user.name: m.role
        for m in web_hub.services.auth.memberships(web_hub.services.auth.get_account(org))
    }
    assert roles == {admin.name: Role.ADMIN, member.name: Role.WRITE}


def test_a_site_admin_manages_any_organization(web_hub: LiveServer) -> None:
    _, member, org = _org_with_admin(web_hub)
    site_admin = user_with_password(web_hub, "siteadmin", admin=True)
    page = f"/organizations/{org}/settings/members"

    with signed_in_client(web_hub, site_admin.name, PASSWORD) as client:
        token = csrf_of(client.get(page))
        promoted = client.post(
            page, data={"csrf_token": token, "user": member.name, "role": "admin"}
        )

    assert promoted.status_code == 303
    roles = {
        m.user.name: m.role
        for m in web_hub.services.auth.memberships(web_hub.services.auth.get_account(org))
    }
    assert roles[member.name] is Role.ADMIN


def test_an_org_admin_makes_new_repos_private_by_default(web_hub: LiveServer) -> None:
    admin, member, org = _org_with_admin(web_hub)
    page = f"/organizations/{org}/settings"

    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        form = client.get(page)
        token = csrf_of(form)
        forged = client.post(page, data={"private_by_default": "on"})
        saved = client.post(page, data={"csrf_token": token, "private_by_default": "on"})
        after = client.get(page + "?saved=1")

    assert form.status_code == 200 and 'id="private-by-default">' in form.text
    assert forged.status_code == 403
    assert saved.status_code == 303
    assert 'id="private-by-default" checked' in after.text
    repo_id = member.api.create_repo(f"{org}/quiet").repo_id
    assert member.api.repo_info(repo_id).private is True
