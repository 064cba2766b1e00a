"""`HfApi` methods about collections: list, read, create, change and delete them and their items.

A collection is named by its slug, `owner/title-<24 hex>`; items by their `item_object_id`.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any, Literal

from hubstead.client import models
from hubstead.client._api_base import ApiBase, query_params
from hubstead.errors import HfHubHTTPError

CollectionItemType = Literal["model", "dataset", "space", "paper", "collection", "bucket"]
CollectionSort = Literal["lastModified", "trending", "upvotes"]


class CollectionMethods(ApiBase):
    """Collection methods of `HfApi`."""

    def list_collections(
        self,
        *,
        owner: list[str] | str | None = None,
        item: list[str] | str | None = None,
        sort: CollectionSort | None = None,
        limit: int | None = None,
        token: bool | str | None = None,
    ) -> Iterator[models.Collection]:
        """The collections you can see, each with its first 4 items, fetched page by page.

        Args:
            owner: only those of these users or organizations.
            item: only those holding this item, as `models/<repo id>`, `datasets/...`,
                `spaces/...` or `collections/<slug>`.
            sort: `lastModified`, `trending` or `upvotes`.
            limit: at most this many.
            token: overrides the client's token.
        """
        params = query_params({"owner": owner, "item": item, "sort": sort, "limit": limit})
        found = self.session.paginate("api/collections", params, token=token)
        for position, data in enumerate(islice(found, limit)):
            yield models.Collection.from_json(data, self.endpoint, position)

    def get_collection(
        self, collection_slug: str, *, token: bool | str | None = None
    ) -> models.Collection:
        """A collection with all its items (those you can see).

        Raises:
            HfHubHTTPError: no such collection, or not visible to you (404).
        """
        data = self._get(f"api/collections/{collection_slug}", token=token)
        return models.Collection.from_json(data, self.endpoint)

    def create_collection(
        self,
        title: str,
        *,
        namespace: str | None = None,
        description: str | None = None,
        private: bool = False,
        resource_group_id: str | None = None,
        exists_ok: bool = False,
        token: bool | str | None = None,
    ) -> models.Collection:
        """Create an empty collection in your namespace (or `namespace`).

        Args:
            title: 1 to 60 characters.
            namespace: a user or organization you may write to; default: you.
            description: at most 150 characters.
            private: only the namespace's members see it.
            resource_group_id: not available on hubstead (refused with a 501).
            exists_ok: return the namespace's collection with that title if there is one.
            token: overrides the client's token.

        Raises:
            BadRequestError: a title or description out of bounds.
            HfHubHTTPError: 409 when a collection has the title (and not `exists_ok`).
        """
        if namespace is None:
            namespace = self._get("api/whoami-v2", token=token)["name"]
        payload: dict[str, Any] = {"title": title, "namespace": namespace, "private": private}
        if description is not None:
            payload["description"] = description
        if resource_group_id is not None:
            payload["resourceGroupId"] = resource_group_id
        try:
            data = self._send("POST", "api/collections", token=token, json=payload)
        except HfHubHTTPError as exc:
            if exists_ok and exc.response is not None and exc.status_code == 409:
                return self.get_collection(exc.response.json()["slug"], token=token)
            raise
        return models.Collection.from_json(data, self.endpoint)

    def update_collection_metadata(
        self,
        collection_slug: str,
        *,
        title: str | None = None,
        description: str | None = None,
        position: int | None = None,
        private: bool | None = None,
        theme: str | None = None,
        token: bool | str | None = None,
    ) -> models.Collection:
        """Change a collection's title, description, position, visibility or theme.

        A new title changes the slug; the old slug keeps working.
        """
        payload = {
            "title": title,
            "description": description,
            "position": position,
            "private": private,
            "theme": theme,
        }
        data = self._send(
            "PATCH",
            f"api/collections/{collection_slug}",
            token=token,
            json={key: value for key, value in payload.items() if value is not None},
        )
        return models.Collection.from_json(data["data"], self.endpoint)

    def delete_collection(
        self, collection_slug: str, *, missing_ok: bool = False, token: bool | str | None = None
    ) -> None:
        """Delete a collection (not the repos it holds).

        Raises:
            HfHubHTTPError: 404 when there is none (and not `missing_ok`), 403 when not yours.
        """
        self._delete(f"api/collections/{collection_slug}", missing_ok=missing_ok, token=token)

    def add_collection_item(
        self,
        collection_slug: str,
        item_id: str,
        item_type: CollectionItemType,
        *,
        note: str | None = None,
        exists_ok: bool = False,
        token: bool | str | None = None,
    ) -> models.Collection:
        """Append a repo or a collection (by slug), with a note of at most 500 characters.

        Raises:
            HfHubHTTPError: 404 for an item you cannot see, 409 when it is there already (and
                not `exists_ok`), 501 for papers and buckets.
        """
        payload: dict[str, Any] = {"item": {"id": item_id, "type": item_type}}
        if note is not None:
            payload["note"] = note
        try:
            data = self._send(
                "POST", f"api/collections/{collection_slug}/items", token=token, json=payload
            )
        except HfHubHTTPError as exc:
            if exists_ok and exc.response is not None and exc.status_code == 409:
                return self.get_collection(collection_slug, token=token)
            raise
        return models.Collection.from_json(data, self.endpoint)

    def update_collection_item(
        self,
        collection_slug: str,
        item_object_id: str,
        *,
        note: str | None = None,
        position: int | None = None,
        token: bool | str | None = None,
    ) -> None:
        """Change an item's note or move it to `position` (the items between shift)."""
        payload = {"note": note, "position": position}
        self._send(
            "PATCH",
            f"api/collections/{collection_slug}/items/{item_object_id}",
            token=token,
            json={key: value for key, value in payload.items() if value is not None},
        )

    def delete_collection_item(
        self,
        collection_slug: str,
        item_object_id: str,
        *,
        missing_ok: bool = False,
        token: bool | str | None = None,
    ) -> None:
        """Remove an item from a collection.

        Raises:
            HfHubHTTPError: 404 when there is no such item (and not `missing_ok`).
        """
        path = f"api/collections/{collection_slug}/items/{item_object_id}"
        self._delete(path, missing_ok=missing_ok, token=token)

    def _delete(self, path: str, *, missing_ok: bool, token: bool | str | None) -> None:
        try:
            self._send("DELETE", path, token=token)
        except HfHubHTTPError as exc:
            if not (missing_ok and exc.status_code == 404):
                raise
