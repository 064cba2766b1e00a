"""Collections through the official client: create, get, list, update, delete, and items."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, unique_name
from tests.helpers.live_server import LiveServer


def test_create_get_and_delete_a_collection(
    live_server: LiveServer, user: HubUser, hf_api: HfApi
) -> None:
    title = f"Best models {unique_name('c')}"
    created = hf_api.create_collection(title, description="The ones I use")

    assert created.slug.startswith(f"{user.name}/best-models-")
    assert (created.title, created.description, created.private) == (
        title,
        "The ones I use",
        False,
    )
    assert created.owner["name"] == user.name  # type: ignore[index]
    assert created.items == []
    assert created.url == f"{live_server.url}/collections/{created.slug}"
    fetched = hf_api.get_collection(created.slug)
    assert (fetched.slug, fetched.title, fetched.position) == (
        created.slug,
        title,
        created.position,
    )

    hf_api.delete_collection(created.slug)

    with pytest.raises(HfHubHTTPError) as missing:
        hf_api.get_collection(created.slug)
    assert missing.value.response.status_code == 404
    hf_api.delete_collection(created.slug, missing_ok=True)


def test_create_with_a_taken_title_is_a_409_unless_exists_ok(hf_api: HfApi) -> None:
    title = unique_name("Same title")
    first = hf_api.create_collection(title)

    with pytest.raises(HfHubHTTPError) as conflict:
        hf_api.create_collection(title)
    again = hf_api.create_collection(title.upper(), exists_ok=True)

    assert conflict.value.response.status_code == 409
    assert conflict.value.response.json()["slug"] == first.slug
    assert again.slug == first.slug


def test_items_are_added_with_notes_reordered_and_removed(
    hf_api: HfApi, repo_factory: Callable[..., str]
) -> None:
    model, dataset, space = repo_factory(), repo_factory("dataset"), repo_factory("space")
    slug = hf_api.create_collection(unique_name("Items")).slug

    hf_api.add_collection_item(slug, model, "model", note="Start here")
    hf_api.add_collection_item(slug, dataset, "dataset")
    collection = hf_api.add_collection_item(slug, space, "space")

    assert [(i.item_id, i.item_type, i.position) for i in collection.items] == [
        (model, "model", 0),
        (dataset, "dataset", 1),
        (space, "space", 2),
    ]
    assert collection.items[0].note == "Start here"
    first, second, _ = collection.items

    hf_api.update_collection_item(slug, first.item_object_id, position=1, note="Then this")
    moved = hf_api.get_collection(slug)
    assert [i.item_id for i in moved.items] == [dataset, model, space]
    assert moved.items[1].note == "Then this"

    hf_api.delete_collection_item(slug, second.item_object_id)
    hf_api.delete_collection_item(slug, second.item_object_id, missing_ok=True)
    remaining = hf_api.get_collection(slug)
    assert [(i.item_id, i.position) for i in remaining.items] == [(model, 0), (space, 1)]


def test_adding_an_item_twice_is_a_409_unless_exists_ok(hf_api: HfApi, repo: str) -> None:
    slug = hf_api.create_collection(unique_name("Twice")).slug
    hf_api.add_collection_item(slug, repo, "model")

    with pytest.raises(HfHubHTTPError) as conflict:
        hf_api.add_collection_item(slug, repo, "model")
    same = hf_api.add_collection_item(slug, repo, "model", exists_ok=True)

    assert conflict.value.response.status_code == 409
    assert [i.item_id for i in same.items] == [repo]


def test_a_collection_can_hold_another_collection(hf_api: HfApi) -> None:
    inner = hf_api.create_collection(unique_name("Inner")).slug
    outer = hf_api.create_collection(unique_name("Outer")).slug

    collection = hf_api.add_collection_item(outer, inner, "collection")

    [item] = collection.items
    assert (item.item_id, item.item_type) == (inner, "collection")


def test_update_metadata_returns_the_collection_and_keeps_old_slugs_working(
    hf_api: HfApi,
) -> None:
    old = hf_api.create_collection(unique_name("Old name")).slug

    updated = hf_api.update_collection_metadata(
        old, title="New name", description="Renamed", theme="pink", private=True
    )

    assert updated.slug != old
    assert updated.slug.endswith(old[-24:])
    assert (updated.title, updated.description, updated.theme, updated.private) == (
        "New name",
        "Renamed",
        "pink",
        True,
    )
    assert hf_api.get_collection(old).slug == updated.slug


def test_list_collections_by_owner_and_item(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory()
    holding = hf_api.create_collection(unique_name("Holding")).slug
    hf_api.create_collection(unique_name("Empty"))
    hf_api.add_collection_item(holding, repo, "model")

    mine = list(hf_api.list_collections(owner=user.name))
    with_repo = list(hf_api.list_collections(item=f"models/{repo}"))

    assert len(mine) == 2
    assert [c.position for c in mine] == [0, 1]
    assert [c.slug for c in with_repo] == [holding]
    assert [i.item_id for i in with_repo[0].items] == [repo]
    [newest] = hf_api.list_collections(owner=user.name, limit=1, sort="lastModified")
    assert newest.slug == holding


def test_an_org_writer_creates_collections_in_the_org(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.WRITE})

    created = user.api.create_collection(unique_name("Org picks"), namespace=org)

    assert created.slug.startswith(f"{org}/")
    with pytest.raises(HfHubHTTPError) as refused:
        other_user.api.create_collection(unique_name("Not mine"), namespace=org)
    assert refused.value.response.status_code == 403


def test_private_collections_and_private_items_are_hidden_from_outsiders(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    private_repo, public_repo = repo_factory(private=True), repo_factory()
    secret = user.api.create_collection(unique_name("Secret"), private=True).slug
    shown = user.api.create_collection(unique_name("Shown")).slug
    user.api.add_collection_item(shown, private_repo, "model")
    user.api.add_collection_item(shown, public_repo, "model")
    user.api.add_collection_item(shown, secret, "collection")

    with pytest.raises(HfHubHTTPError) as hidden:
        other_user.api.get_collection(secret)
    assert hidden.value.response.status_code == 404
    assert [i.item_id for i in other_user.api.get_collection(shown).items] == [public_repo]
    assert [c.slug for c in other_user.api.list_collections(owner=user.name)] == [shown]
    assert list(other_user.api.list_collections(item=f"models/{private_repo}")) == []
    assert len(user.api.get_collection(shown).items) == 3


def test_an_outsider_cannot_change_a_public_collection(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    slug = user.api.create_collection(unique_name("Mine")).slug

    for change in (
        lambda: other_user.api.add_collection_item(slug, repo, "model"),
        lambda: other_user.api.update_collection_metadata(slug, title="Theirs"),
        lambda: other_user.api.delete_collection(slug),
    ):
        with pytest.raises(HfHubHTTPError) as refused:
            change()
        assert refused.value.response.status_code == 403


def test_items_the_caller_cannot_see_are_refused_as_missing(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    private_repo = repo_factory(private=True)
    slug = other_user.api.create_collection(unique_name("Theirs")).slug

    with pytest.raises(HfHubHTTPError) as missing:
        other_user.api.add_collection_item(slug, private_repo, "model")

    assert missing.value.response.status_code == 404


def test_limits_are_clear_400s(hf_api: HfApi, repo: str) -> None:
    slug = hf_api.create_collection(unique_name("Limits")).slug
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: hf_api.create_collection("x" * 61), "title must have 1 to 60"),
        (lambda: hf_api.create_collection("  "), "title must have 1 to 60"),
        (lambda: hf_api.create_collection("ok", description="d" * 151), "at most 150"),
        (lambda: hf_api.update_collection_metadata(slug, theme="black"), "Invalid theme"),
        (lambda: hf_api.add_collection_item(slug, repo, "model", note="n" * 501), "at most 500"),
    ]
    for call, message in cases:
        with pytest.raises(BadRequestError, match=message):
            call()
    assert hf_api.create_collection("ok " + unique_name("d"), description="d" * 150).description


def test_papers_are_refused_as_not_available(hf_api: HfApi) -> None:
    slug = hf_api.create_collection(unique_name("Papers")).slug

    with pytest.raises(HfHubHTTPError) as refused:
        hf_api.add_collection_item(slug, "2311.12983", "paper")

    assert refused.value.response.status_code == 501
    assert "Papers are not available on this hub" in str(refused.value)
