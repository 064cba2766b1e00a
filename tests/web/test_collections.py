"""Collection pages over plain HTTP: the list, one collection, and its owner's forms."""

from __future__ import annotations

import httpx

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user
from tests.helpers.live_server import LiveServer
from tests.web.conftest import (
    PASSWORD,
    browser_client,
    csrf_of,
    signed_in_client,
    user_with_password,
)

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_NOTE = "[click](javascript:alert(2)) <img src=x onerror=alert(3)>"


def _api_collection(server: LiveServer, user: HubUser, slug: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/collections/{slug}",
        headers={"authorization": f"Bearer {user.token}"},
    )


def test_an_owner_creates_fills_edits_and_deletes_a_collection(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "curator")
    repo_id = owner.api.create_repo(f"{owner.name}/favourite").repo_id
    dataset_id = owner.api.create_repo(f"{owner.name}/facts", repo_type="dataset").repo_id

    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        listing = client.get(f"/collections/{owner.name}")
        token = csrf_of(listing)
        created = client.post(
            f"/collections/{owner.name}",
            data={"csrf_token": token, "title": "Best models", "description": "Mine"},
        )
        here = created.headers["location"]
        slug = here.removeprefix("/collections/")
        added = client.post(
            here + "/items",
            data={"csrf_token": token, "type": "model", "id": repo_id, "note": "**the** one"},
        )
        client.post(
            here + "/items", data={"csrf_token": token, "type": "dataset", "id": dataset_id}
        )
        page = client.get(here)
        duplicate = client.post(
            here + "/items", data={"csrf_token": token, "type": "model", "id": repo_id}
        )
        missing = client.post(
            here + "/items",
            data={"csrf_token": token, "type": "model", "id": f"{owner.name}/nope"},
        )
        renamed = client.post(
            here + "/settings",
            data={"csrf_token": token, "title": "Better models", "description": "Ours"},
        )
        new_here = renamed.headers["location"]
        old_slug = client.get(here)
        api = _api_collection(web_hub, owner, slug).json()
        item_id = next(i["_id"] for i in api["items"] if i["id"] == dataset_id)
        removed = client.post(f"{new_here}/items/{item_id}/delete", data={"csrf_token": token})
        after_removal = client.get(new_here)
        unconfirmed = client.post(new_here + "/delete", data={"csrf_token": token})
        deleted = client.post(new_here + "/delete", data={"csrf_token": token, "confirm": "on"})
        gone = client.get(new_here)

    assert listing.status_code == 200 and 'id="create-collection"' in listing.text
    assert created.status_code == 303 and here.startswith(f"/collections/{owner.name}/best-models-")
    assert added.status_code == 303
    assert page.status_code == 200 and 'id="collection-title">Best models' in page.text
    assert f'href="/{repo_id}"' in page.text and f'href="/datasets/{dataset_id}"' in page.text
    assert "<strong>the</strong> one" in page.text
    assert duplicate.status_code == 409 and "in the collection already" in duplicate.text
    assert missing.status_code == 404 and 'id="collection-error"' in missing.text
    assert renamed.status_code == 303 and "/better-models-" in new_here
    assert old_slug.status_code == 301 and old_slug.headers["location"] == new_here
    assert api["title"] == "Better models" and api["description"] == "Ours"
    assert removed.status_code == 303
    assert dataset_id not in after_removal.text and repo_id in after_removal.text
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    assert (
        deleted.status_code == 303 and deleted.headers["location"] == f"/collections/{owner.name}"
    )
    assert gone.status_code == 404
    assert _api_collection(web_hub, owner, slug).status_code == 404


def test_others_see_no_forms_and_cannot_change_a_collection(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "curator")
    other = user_with_password(web_hub, "other")
    repo_id = other.api.create_repo(f"{other.name}/theirs").repo_id
    slug = owner.api.create_collection("Public picks").slug

    with signed_in_client(web_hub, other.name, PASSWORD) as client:
        page = client.get(f"/collections/{slug}")
        listing = client.get(f"/collections/{owner.name}")
        token = csrf_of(page)
        add = client.post(
            f"/collections/{slug}/items",
            data={"csrf_token": token, "type": "model", "id": repo_id},
        )
        rename = client.post(
            f"/collections/{slug}/settings", data={"csrf_token": token, "title": "Mine now"}
        )
        delete = client.post(
            f"/collections/{slug}/delete", data={"csrf_token": token, "confirm": "on"}
        )
        create = client.post(
            f"/collections/{owner.name}", data={"csrf_token": token, "title": "Intruder"}
        )
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        forged = client.post(f"/collections/{slug}/delete", data={"confirm": "on"})

    assert page.status_code == 200 and "Public picks" in page.text
    assert 'id="add-item"' not in page.text and 'id="delete-collection"' not in page.text
    assert 'id="create-collection"' not in listing.text
    for refused in (add, rename, delete, create, forged):
        assert refused.status_code == 403
    assert owner.api.get_collection(slug).title == "Public picks"
    assert owner.api.get_collection(slug).items == []


def test_a_private_collection_is_404_for_everyone_but_its_namespace(web_hub: LiveServer) -> None:
    member = user_with_password(web_hub, "member")
    outsider = user_with_password(web_hub, "outsider")
    org = make_org(web_hub, {member.name: Role.WRITE})
    slug = member.api.create_collection("Secret plans", namespace=org, private=True).slug

    with browser_client(web_hub) as client:
        anonymous = client.get(f"/collections/{slug}")
        anonymous_list = client.get(f"/collections/{org}")
    with signed_in_client(web_hub, outsider.name, PASSWORD) as client:
        outsider_page = client.get(f"/collections/{slug}")
        outsider_profile = client.get(f"/{org}")
    with signed_in_client(web_hub, member.name, PASSWORD) as client:
        member_page = client.get(f"/collections/{slug}")
        member_list = client.get(f"/collections/{org}")
        member_profile = client.get(f"/{org}")

    assert anonymous.status_code == outsider_page.status_code == 404
    assert "Secret plans" not in anonymous_list.text + outsider_profile.text
    assert member_page.status_code == 200 and ">private<" in member_page.text
    assert "Secret plans" in member_list.text and "Secret plans" in member_profile.text
    assert 'id="create-collection"' in member_list.text


def test_hostile_titles_and_notes_are_inert(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "curator")
    repo_id = owner.api.create_repo(f"{owner.name}/target").repo_id

    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/collections/{owner.name}"))
        created = client.post(
            f"/collections/{owner.name}", data={"csrf_token": token, "title": HOSTILE_TITLE}
        )
        here = created.headers["location"]
        client.post(
            here + "/items",
            data={"csrf_token": token, "type": "model", "id": repo_id, "note": HOSTILE_NOTE},
        )
        page = client.get(here)
        listing = client.get(f"/collections/{owner.name}")
        profile = client.get(f"/{owner.name}")

    for shown in (page, listing, profile):
        assert shown.status_code == 200
        assert "<script>alert(1)" not in shown.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert 'href="javascript:' not in page.text
    assert "<img src=x" not in page.text and "onerror=alert(3)" not in page.text.replace(
        "&lt;img src=x onerror=alert(3)&gt;", ""
    )


def test_a_title_taken_or_too_long_is_shown_on_the_form(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "curator")
    owner.api.create_collection("Taken")

    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/collections/{owner.name}"))
        taken = client.post(
            f"/collections/{owner.name}", data={"csrf_token": token, "title": "Taken"}
        )
        long = client.post(
            f"/collections/{owner.name}", data={"csrf_token": token, "title": "x" * 61}
        )

    assert taken.status_code == 409 and "exists already" in taken.text
    assert long.status_code == 400 and "1 to 60 characters" in long.text
    assert 'id="new-collection" open' in long.text


def test_unknown_and_malformed_collections_are_404(web_hub: LiveServer) -> None:
    owner = make_user(web_hub, "curator")
    with browser_client(web_hub) as client:
        malformed = client.get(f"/collections/{owner.name}/not-a-slug")
        unknown = client.get(f"/collections/{owner.name}/x-{'0' * 24}")
        empty_list = client.get(f"/collections/{owner.name}")

    assert malformed.status_code == unknown.status_code == 404
    assert empty_list.status_code == 200 and "No collections." in empty_list.text


def test_all_collections_lists_what_the_visitor_may_see(web_hub: LiveServer) -> None:
    owner = make_user(web_hub, "curator")
    shown = owner.api.create_collection("Everyone sees this").slug
    hidden = owner.api.create_collection("Nobody else sees this", private=True).slug

    with browser_client(web_hub) as client:
        page = client.get("/collections")

    assert page.status_code == 200 and "<h1>Collections</h1>" in page.text
    assert f'href="/collections/{shown}"' in page.text and f'href="/{owner.name}"' in page.text
    assert hidden not in page.text


def test_a_read_member_sees_no_forms_and_is_refused(web_hub: LiveServer) -> None:
    writer = make_user(web_hub, "writer")
    reader = user_with_password(web_hub, "reader")
    org = make_org(web_hub, {writer.name: Role.WRITE, reader.name: Role.READ})
    slug = writer.api.create_collection("Team picks", namespace=org, private=True).slug

    with signed_in_client(web_hub, reader.name, PASSWORD) as client:
        page = client.get(f"/collections/{slug}")
        listing = client.get(f"/collections/{org}")
        token = csrf_of(page)
        create = client.post(f"/collections/{org}", data={"csrf_token": token, "title": "Mine"})
        rename = client.post(
            f"/collections/{slug}/settings", data={"csrf_token": token, "title": "Renamed"}
        )

    assert page.status_code == 200 and "Team picks" in page.text
    assert 'id="add-item"' not in page.text and 'id="create-collection"' not in listing.text
    assert create.status_code == rename.status_code == 403
    assert writer.api.get_collection(slug).title == "Team picks"
