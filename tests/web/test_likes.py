"""The repo header's ♥ toggle over plain HTTP: like, unlike, its state, and who may use it."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from hubstead.server.web.pages.repos import back_within
from tests.helpers.live_server import LiveServer
from tests.web.conftest import (
    HOSTILE,
    PASSWORD,
    browser_client,
    csrf_of,
    signed_in_client,
    user_with_password,
)

_BUTTON = re.compile(r'<button[^>]*id="likes"[^>]*>[^<]*</button>')


def _button(page: httpx.Response) -> str:
    found = _BUTTON.search(page.text)
    assert found is not None, page.text
    return found.group(0)


def test_a_signed_in_user_likes_then_unlikes_a_repo(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "liked")
    fan = user_with_password(web_hub, "fan")
    repo_id = owner.api.create_repo(f"{owner.name}/loved").repo_id
    dataset_id = owner.api.create_repo(f"{owner.name}/facts", repo_type="dataset").repo_id

    with signed_in_client(web_hub, fan.name, PASSWORD) as client:
        before = client.get(f"/{repo_id}")
        token = csrf_of(before)
        liked = client.post(
            f"/{repo_id}/like", data={"csrf_token": token, "next": f"/{repo_id}/tree/main"}
        )
        again = client.post(f"/{repo_id}/like", data={"csrf_token": token})
        after_like = client.get(f"/{repo_id}/tree/main")
        likers = [u.username for u in owner.api.list_repo_likers(repo_id)]
        likes = owner.api.repo_info(repo_id).likes
        unliked = client.post(f"/{repo_id}/unlike", data={"csrf_token": token, "next": "/"})
        after_unlike = client.get(f"/{repo_id}")
        dataset = client.post(
            f"/datasets/{dataset_id}/like",
            data={"csrf_token": token, "next": f"/datasets/{dataset_id}/commits/main"},
        )
        dataset_page = client.get(f"/datasets/{dataset_id}")

    assert 'aria-pressed="false"' in _button(before)
    assert f'action="/{repo_id}/like"' in before.text
    assert (liked.status_code, liked.headers["location"]) == (303, f"/{repo_id}/tree/main")
    assert (again.status_code, again.headers["location"]) == (303, f"/{repo_id}")
    assert 'aria-pressed="true"' in _button(after_like) and "♥ 1" in _button(after_like)
    assert f'action="/{repo_id}/unlike"' in after_like.text
    assert (likers, likes) == ([fan.name], 1)
    # A `next` outside the repo is not followed: back to the repo's own page.
    assert (unliked.status_code, unliked.headers["location"]) == (303, f"/{repo_id}")
    assert 'aria-pressed="false"' in _button(after_unlike) and "♥ 0" in _button(after_unlike)
    assert list(owner.api.list_repo_likers(repo_id)) == []
    assert owner.api.repo_info(repo_id).likes == 0
    assert dataset.headers["location"] == f"/datasets/{dataset_id}/commits/main"
    assert 'aria-pressed="true"' in _button(dataset_page)
    assert owner.api.repo_info(dataset_id, repo_type="dataset").likes == 1


def test_an_anonymous_visitor_gets_a_sign_in_link(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "shown")
    repo_id = owner.api.create_repo(f"{owner.name}/public").repo_id

    with browser_client(web_hub) as client:
        page = client.get(f"/{repo_id}/tree/main")
        token = csrf_of(client.get("/login"))
        posted = client.post(f"/{repo_id}/like", data={"csrf_token": token})

    assert _BUTTON.search(page.text) is None
    link = re.search(
        r'<a class="badge" id="likes" href="([^"]+)" title="Sign in to like">', page.text
    )
    assert link is not None and link.group(1) == "/login?next=" + quote(f"/{repo_id}/tree/main")
    assert posted.status_code in (303, 401, 403)
    assert owner.api.repo_info(repo_id).likes == 0


def test_a_like_without_its_csrf_token_is_refused(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "guarded")
    repo_id = owner.api.create_repo(f"{owner.name}/guarded").repo_id

    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        refused = client.post(f"/{repo_id}/like", data={"next": f"/{repo_id}"})
        wrong = client.post(f"/{repo_id}/like", data={"csrf_token": "0" * 40})

    assert (refused.status_code, wrong.status_code) == (403, 403)
    assert owner.api.repo_info(repo_id).likes == 0


def test_a_private_repos_like_is_not_found_for_an_outsider(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "secretive")
    outsider = user_with_password(web_hub, "outsider")
    repo_id = owner.api.create_repo(f"{owner.name}/hidden", private=True).repo_id

    with signed_in_client(web_hub, outsider.name, PASSWORD) as client:
        token = csrf_of(client.get("/"))
        liked = client.post(f"/{repo_id}/like", data={"csrf_token": token})
        unliked = client.post(f"/{repo_id}/unlike", data={"csrf_token": token})
    api = httpx.post(
        f"{web_hub.url}/api/models/{repo_id}/like",
        headers={"authorization": f"Bearer {outsider.token}"},
    )

    assert (liked.status_code, unliked.status_code, api.status_code) == (404, 404, 404)
    assert owner.api.repo_info(repo_id).likes == 0


def test_back_within_keeps_to_the_repos_own_pages() -> None:
    here = "/ns/repo"
    assert back_within(here, None) == here
    assert back_within(here, "/ns/repo/tree/main") == "/ns/repo/tree/main"
    assert back_within(here, "/ns/repo") == here
    for wanted in (
        "/ns/repository",
        "https://evil.example/",
        "//evil.example",
        "/ns/repo//x",
        "/ns/repo/\\evil",
        "/ns/repo/\r\nx",
        "/elsewhere",
    ):
        assert back_within(here, wanted) == here, wanted


def test_add_to_collection_prefills_the_chosen_collections_form(web_hub: LiveServer) -> None:
    owner = user_with_password(web_hub, "collector")
    repo_id = owner.api.create_repo(f"{owner.name}/keeper", repo_type="dataset").repo_id

    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        page = client.get(f"/datasets/{repo_id}")
        token = csrf_of(page)
        created = client.post(
            f"/collections/{owner.name}", data={"csrf_token": token, "title": "Keepers"}
        )
        slug = created.headers["location"].removeprefix("/collections/")
        link = re.search(r'href="([^"]+)" id="add-to-collection"', page.text)
        assert link is not None
        listing = client.get(link.group(1).replace("&amp;", "&"))
        chosen = re.search(rf'href="(/collections/{re.escape(slug)}\?[^"]+)"', listing.text)
        assert chosen is not None
        collection = client.get(chosen.group(1).replace("&amp;", "&"))
        added = client.post(
            f"/collections/{slug}/items",
            data={"csrf_token": token, "type": "dataset", "id": repo_id},
        )
        hostile = client.get(f"/collections/{owner.name}", params={"type": "x", "id": HOSTILE})
        hostile_form = client.get(f"/collections/{slug}", params={"type": "x", "id": HOSTILE})
    with browser_client(web_hub) as anonymous:
        anonymous_page = anonymous.get(f"/datasets/{repo_id}")

    assert f"Choose a collection to add {repo_id} to." in listing.text
    assert '<option value="dataset" selected>' in collection.text
    assert f'id="item-id" name="id" required autocomplete="off" value="{repo_id}"' in (
        collection.text
    )
    assert added.status_code == 303
    items = owner.api.get_collection(slug).items
    assert [(i.item_type, i.item_id) for i in items] == [("dataset", repo_id)]
    assert 'id="add-to-collection"' not in anonymous_page.text
    for answer in (hostile, hostile_form):
        assert "<script>alert(1)" not in answer.text and "<img src=x" not in answer.text
        assert "&lt;script&gt;alert(1)" in answer.text
