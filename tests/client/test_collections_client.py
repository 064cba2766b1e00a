"""hubstead's `HfApi` on collections, against the live hub, checked with the official client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


def test_create_returns_the_collection_the_official_client_reads(
    client: HfApi, user: HubUser, live_server: LiveServer
) -> None:
    title = unique_name("Mine")

    created = client.create_collection(title, description="About", private=True)

    assert isinstance(created, models.Collection)
    assert (created.title, created.owner, created.description, created.private) == (
        title,
        user.name,
        "About",
        True,
    )
    assert created.url == f"{live_server.url}/collections/{created.slug}"
    theirs = user.api.get_collection(created.slug)
    assert (theirs.slug, theirs.position, theirs.theme) == (
        created.slug,
        created.position,
        created.theme,
    )


def test_exists_ok_returns_the_collection_with_that_title(client: HfApi) -> None:
    title = unique_name("Twice")
    first = client.create_collection(title)

    with pytest.raises(errors.HfHubHTTPError) as conflict:
        client.create_collection(title)

    assert conflict.value.status_code == 409
    assert client.create_collection(title, exists_ok=True).slug == first.slug


def test_items_are_added_moved_noted_and_removed(
    client: HfApi, repo_factory: Callable[..., str]
) -> None:
    model, dataset = repo_factory(), repo_factory("dataset")
    slug = client.create_collection(unique_name("Items")).slug
    client.add_collection_item(slug, model, "model", note="First")
    collection = client.add_collection_item(slug, dataset, "dataset")
    again = client.add_collection_item(slug, dataset, "dataset", exists_ok=True)
    assert [i.item_id for i in again.items] == [model, dataset]

    client.update_collection_item(slug, collection.items[1].item_object_id, position=0)
    client.update_collection_item(slug, collection.items[0].item_object_id, note="")
    moved = client.get_collection(slug)

    assert [(i.item_id, i.item_type, i.position, i.note) for i in moved.items] == [
        (dataset, "dataset", 0, None),
        (model, "model", 1, None),
    ]
    client.delete_collection_item(slug, collection.items[0].item_object_id)
    client.delete_collection_item(slug, collection.items[0].item_object_id, missing_ok=True)
    assert [i.item_id for i in client.get_collection(slug).items] == [dataset]


def test_list_collections_numbers_them_and_filters_by_item(
    client: HfApi, user: HubUser, repo: str
) -> None:
    holding = client.create_collection(unique_name("Holding")).slug
    client.create_collection(unique_name("Other"))
    client.add_collection_item(holding, repo, "model")

    mine = list(client.list_collections(owner=user.name))
    found = list(client.list_collections(item=f"models/{repo}"))

    assert [c.position for c in mine] == [0, 1]
    assert [c.slug for c in found] == [holding]
    assert len(list(client.list_collections(owner=user.name, limit=1))) == 1


def test_update_metadata_and_delete(client: HfApi) -> None:
    slug = client.create_collection(unique_name("Before")).slug

    updated = client.update_collection_metadata(slug, title="After", theme="indigo")
    client.delete_collection(updated.slug)

    assert (updated.title, updated.theme) == ("After", "indigo")
    with pytest.raises(errors.HfHubHTTPError) as missing:
        client.get_collection(slug)
    assert missing.value.status_code == 404
    client.delete_collection(slug, missing_ok=True)


def test_limits_raise_bad_request(client: HfApi) -> None:
    with pytest.raises(errors.BadRequestError, match="at most 150 characters"):
        client.create_collection("ok", description="x" * 151)
