"""Collections over raw HTTP: wire shapes, pages, who sees and changes what, and every limit."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from hubstead.server.domain.collections import ItemType, NewItem
from hubstead.server.services.collections import MAX_ITEMS
from hubstead.server.storage.collections_sql import SqlCollectionStore
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


def as_user(live_server: LiveServer, token: str | None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=live_server.url, headers=headers)


@pytest.fixture
def outsider(live_server: LiveServer, other_user: HubUser) -> Iterator[httpx.Client]:
    with as_user(live_server, other_user.token) as client:
        yield client


@pytest.fixture
def anonymous(live_server: LiveServer) -> Iterator[httpx.Client]:
    with as_user(live_server, None) as client:
        yield client


def create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("title", unique_name("Collection"))
    response = http.post("/api/collections", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def add(http: httpx.Client, slug: str, item_id: str, type: str = "model") -> httpx.Response:
    return http.post(f"/api/collections/{slug}/items", json={"item": {"id": item_id, "type": type}})


def test_a_collection_has_the_hub_shape(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo: str
) -> None:
    created = create(http, description="Mine", private=False)
    added = add(http, created["slug"], repo)

    body = added.json()
    assert added.status_code == 200
    assert body["owner"] == {
        "name": user.name,
        "type": "user",
        "fullname": f"Test {user.name}",
        "avatarUrl": f"{live_server.url}/avatars/{user.name}.svg",
    }
    assert (body["position"], body["theme"], body["upvotes"], body["private"]) == (
        0,
        "orange",
        0,
        False,
    )
    assert body["lastUpdated"].endswith("Z")
    [item] = body["items"]
    assert len(item["_id"]) == 24
    assert (item["id"], item["type"], item["position"], item["repoType"]) == (
        repo,
        "model",
        0,
        "model",
    )


def test_update_answers_the_collection_wrapped_in_data(http: httpx.Client) -> None:
    slug = create(http)["slug"]

    response = http.patch(f"/api/collections/{slug}", json={"description": "Now described"})

    assert response.status_code == 200
    assert response.json()["data"]["description"] == "Now described"
    assert "position" in response.json()["data"]


def test_listings_have_no_position_four_items_at_most_and_absolute_next_links(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    slug = create(http)["slug"]
    for _ in range(5):
        assert add(http, slug, repo_factory()).status_code == 200
    create(http)

    first = http.get("/api/collections", params={"owner": user.name, "limit": 1})
    second = httpx.get(first.links["next"]["url"])

    assert first.links["next"]["url"].startswith(live_server.url)
    [newest] = first.json()
    assert "position" not in newest
    [older] = second.json()
    assert older["slug"] == slug
    assert len(older["items"]) == 4
    assert "next" not in second.links


def test_items_can_be_added_through_the_singular_route(http: httpx.Client, repo: str) -> None:
    slug = create(http)["slug"]

    response = http.post(
        f"/api/collections/{slug}/item", json={"item": {"id": repo, "type": "model"}, "note": "x"}
    )

    assert response.status_code == 200
    assert response.json()["items"][0]["note"] == {"text": "x", "html": "<p>x</p>\n"}


def test_a_private_collection_answers_outsiders_as_a_missing_one(
    http: httpx.Client, outsider: httpx.Client, anonymous: httpx.Client, user: HubUser, repo: str
) -> None:
    slug = create(http, private=True)["slug"]
    item = add(http, slug, repo).json()["items"][0]["_id"]
    missing = f"{user.name}/gone-{'0' * 24}"
    requests = [
        ("GET", "", None),
        ("PATCH", "", {"title": "Taken"}),
        ("DELETE", "", None),
        ("POST", "/items", {"item": {"id": repo, "type": "model"}}),
        ("PATCH", f"/items/{item}", {"note": "mine"}),
        ("DELETE", f"/items/{item}", None),
    ]
    for client in (outsider, anonymous):
        for method, suffix, body in requests:
            hidden = client.request(method, f"/api/collections/{slug}{suffix}", json=body)
            absent = client.request(method, f"/api/collections/{missing}{suffix}", json=body)
            assert (hidden.status_code, absent.status_code) == (404, 404)
            assert hidden.json()["error"].replace(slug, "") == absent.json()["error"].replace(
                missing, ""
            )
    assert len(http.get(f"/api/collections/{slug}").json()["items"]) == 1


def test_a_slug_resolves_by_its_id_only_under_its_owner(
    http: httpx.Client, other_user: HubUser
) -> None:
    slug = create(http, title="Exact title")["slug"]
    object_id = slug[-24:]
    owner = slug.split("/")[0]

    assert http.get(f"/api/collections/{owner}/{object_id}").status_code == 200
    assert http.get(f"/api/collections/{owner}/anything-{object_id}").status_code == 200
    assert (
        http.get(f"/api/collections/{other_user.name}/exact-title-{object_id}").status_code == 404
    )
    assert http.get(f"/api/collections/{owner}/exact-title").status_code == 404


def test_a_repo_turned_private_after_being_added_disappears_for_outsiders(
    http: httpx.Client, outsider: httpx.Client, user: HubUser, repo: str
) -> None:
    slug = create(http)["slug"]
    add(http, slug, repo)

    user.api.update_repo_settings(repo, private=True)

    assert outsider.get(f"/api/collections/{slug}").json()["items"] == []
    listed = outsider.get("/api/collections", params={"owner": user.name}).json()
    assert [c["items"] for c in listed] == [[]]
    assert outsider.get("/api/collections", params={"item": f"models/{repo}"}).json() == []
    assert len(http.get(f"/api/collections/{slug}").json()["items"]) == 1


def test_deleting_a_repo_removes_it_from_collections(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    doomed = repo_factory()
    slug = create(http)["slug"]
    add(http, slug, doomed)

    user.api.delete_repo(doomed)

    assert http.get(f"/api/collections/{slug}").json()["items"] == []


def test_creating_needs_a_token_that_may_write_in_the_namespace(
    live_server: LiveServer, anonymous: httpx.Client, outsider: httpx.Client, user: HubUser
) -> None:
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret
    with as_user(live_server, read_token) as reader:
        read_only = reader.post("/api/collections", json={"title": "No"})
    unsigned = anonymous.post("/api/collections", json={"title": "No", "namespace": user.name})
    elsewhere = outsider.post("/api/collections", json={"title": "No", "namespace": user.name})

    assert (unsigned.status_code, read_only.status_code, elsewhere.status_code) == (401, 403, 403)
    assert "read role only" in read_only.headers["X-Error-Message"]
    assert "rights to write in the namespace" in elsewhere.headers["X-Error-Message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": ""}, "'title' must be a non-empty string"),
        ({"title": "x" * 61}, "1 to 60 characters"),
        ({"title": "ok", "description": "d" * 151}, "at most 150 characters"),
        ({"title": "ok", "private": "yes"}, "'private' must be a boolean"),
        ({"title": "ok", "namespace": 3}, "'namespace' must be a string"),
    ],
)
def test_create_refuses_bad_bodies_with_a_400(
    http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = http.post("/api/collections", json=body)

    assert response.status_code == 400
    assert message in response.headers["X-Error-Message"]


def test_resource_groups_are_refused_as_not_available(http: httpx.Client) -> None:
    response = http.post("/api/collections", json={"title": "x", "resourceGroupId": "a" * 24})

    assert response.status_code == 501
    assert response.headers["X-Error-Code"] == "NotImplemented"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"position": True}, "'position' must be a integer"),
        ({"position": -1}, "Invalid position -1"),
        ({"theme": "black"}, "Invalid theme 'black'"),
        ({"title": " "}, "1 to 60 characters"),
    ],
)
def test_update_refuses_bad_values_with_a_400(
    http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    slug = create(http)["slug"]

    response = http.patch(f"/api/collections/{slug}", json=body)

    assert response.status_code == 400
    assert message in response.headers["X-Error-Message"]


@pytest.mark.parametrize(
    ("item", "status", "message"),
    [
        ({"id": "x", "type": "kernel"}, 400, "Invalid item type 'kernel'"),
        ({"id": "2311.12983", "type": "paper"}, 501, "Papers are not available"),
        ({"id": "me/b", "type": "bucket"}, 501, "Buckets are not available"),
        ({"id": "nobody/nothing", "type": "dataset"}, 404, "Repository not found"),
        ({"id": "nobody/none-" + "0" * 24, "type": "collection"}, 404, "Collection not found"),
        ({"type": "model"}, 400, "'id' must be a non-empty string"),
    ],
)
def test_add_refuses_items_it_cannot_hold(
    http: httpx.Client, item: dict[str, Any], status: int, message: str
) -> None:
    slug = create(http)["slug"]

    response = http.post(f"/api/collections/{slug}/items", json={"item": item})

    assert response.status_code == status
    assert message in response.headers["X-Error-Message"]


def test_a_collection_cannot_hold_itself(http: httpx.Client) -> None:
    slug = create(http)["slug"]

    response = add(http, slug, slug, "collection")

    assert response.status_code == 400
    assert "cannot hold itself" in response.headers["X-Error-Message"]


@pytest.mark.slow
def test_a_collection_holds_at_most_a_thousand_items(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo: str
) -> None:
    slug = create(http)["slug"]
    services = live_server.services
    caller = services.auth.authenticate(user.token)
    store = SqlCollectionStore(services.database)
    full = services.collections.get(caller, slug)
    owner = full.owner.id
    for n in range(MAX_ITEMS):
        nested = store.create(
            owner, secrets.token_hex(12), f"n{n}", None, False, "blue", full.updated_at
        )
        item = NewItem(ItemType.COLLECTION, None, collection_id=nested.id)
        store.add_item(full.id, secrets.token_hex(12), item, MAX_ITEMS, full.updated_at)

    response = add(http, slug, repo)

    assert response.status_code == 400
    assert f"at most {MAX_ITEMS} items" in response.headers["X-Error-Message"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "downloads"}, "Cannot sort by 'downloads'"),
        ({"item": "models"}, "Invalid item 'models'"),
        ({"item": "kernels/a/b"}, "Invalid item 'kernels/a/b'"),
    ],
)
def test_listing_refuses_bad_filters_with_a_400(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = http.get("/api/collections", params=params)

    assert response.status_code == 400
    assert message in response.headers["X-Error-Message"]


def test_listing_by_a_paper_finds_nothing(http: httpx.Client) -> None:
    assert http.get("/api/collections", params={"item": "papers/2311.12983"}).json() == []
