"""Collection endpoints.

Serves: `GET /api/collections` (Link-paginated: `owner`, `item`, `sort`, `limit`), `POST
/api/collections` (create; 409 with the existing `slug`), `GET|PATCH|DELETE
/api/collections/{slug}` (PATCH answers `{"data": collection}`), `POST
/api/collections/{slug}/items` (also `/item`, as the Hub's docs spell it) and `PATCH|DELETE
/api/collections/{slug}/items/{item_object_id}`. A slug is `owner/title-<24 hex>`.

A listing's collections carry no `position` (the client numbers them itself and fails on a
duplicate keyword) and only their first items; every other answer carries `position`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.collections import (
    CollectionItem,
    CollectionRecord,
    CollectionSort,
    ItemType,
)
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    avatar_url,
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    param,
    query_list,
    read_json_object,
    services,
)
from hubstead.server.http.markdown import render_markdown
from hubstead.server.services.collections import MetadataChange

_COLLECTION = "/api/collections/{namespace}/{slug}"
_PAGE_SIZE = 100
# `item=` filters name their type by the plural the Hub's URLs use.
_ITEM_PREFIXES = {
    **{t.api_segment: t.value for t in RepoType if t.value in set(ItemType)},
    "collections": "collection",
    "papers": "paper",
    "buckets": "bucket",
}


def _slug(request: Request) -> str:
    return f"{param(request, 'namespace')}/{param(request, 'slug')}"


async def list_collections(request: Request) -> Response:
    """A page of collections, each with its first items."""
    sort = request.query_params.get("sort") or CollectionSort.TRENDING.value
    if sort not in set(CollectionSort):
        raise errors.InvalidRequestError(
            f"Cannot sort by {sort!r}: one of {', '.join(CollectionSort)}"
        )
    offset = decode_cursor(request)
    limit = int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)
    caller = await identity(request)
    page = await call(
        services(request).collections.list,
        caller,
        owners=query_list(request, "owner"),
        item=_item_filter(request),
        offset=offset,
        limit=limit,
    )
    items = [_collection(request, record, listed=True) for record in page]
    return JSONResponse(items, headers=next_link(request, offset + limit) if page.more else {})


def _item_filter(request: Request) -> tuple[str, str] | None:
    found = query_list(request, "item")
    if not found:
        return None
    if len(found) > 1:
        raise errors.InvalidRequestError("Filter on one item at a time")
    prefix, _, item_id = found[0].partition("/")
    if prefix not in _ITEM_PREFIXES or not item_id:
        raise errors.InvalidRequestError(
            f"Invalid item {found[0]!r}: <{'|'.join(_ITEM_PREFIXES)}>/<id>"
        )
    return _ITEM_PREFIXES[prefix], item_id


async def create_collection(request: Request) -> Response:
    """Create a collection; 409 with the `slug` of one with that title."""
    body = await read_json_object(request)
    if body.get("resourceGroupId") is not None:
        raise errors.NotSupportedError("Resource groups are not available on this hub")
    caller = await identity(request)
    namespace = _optional(body, "namespace", str) or (caller.account.name if caller.account else "")
    record = await call(
        services(request).collections.create,
        caller,
        namespace,
        _required_string(body, "title"),
        description=_optional(body, "description", str),
        private=_optional(body, "private", bool) or False,
    )
    return JSONResponse(_collection(request, record))


async def get_collection(request: Request) -> Response:
    """A collection with its items."""
    caller = await identity(request)
    record = await call(services(request).collections.get, caller, _slug(request))
    return JSONResponse(_collection(request, record))


async def update_collection(request: Request) -> Response:
    """Change a collection's metadata; the Hub wraps the answer in `data`."""
    body = await read_json_object(request)
    change = MetadataChange(
        title=_optional(body, "title", str),
        description=_optional(body, "description", str),
        private=_optional(body, "private", bool),
        theme=_optional(body, "theme", str),
        position=_optional(body, "position", int),
    )
    caller = await identity(request)
    record = await call(services(request).collections.update, caller, _slug(request), change)
    return JSONResponse({"data": _collection(request, record)})


async def delete_collection(request: Request) -> Response:
    """Delete a collection."""
    caller = await identity(request)
    await call(services(request).collections.delete, caller, _slug(request))
    return JSONResponse({})


async def add_collection_item(request: Request) -> Response:
    """Append `{"item": {"id", "type"}, "note"?}`; the collection as it is now."""
    body = await read_json_object(request)
    item = body.get("item")
    if not isinstance(item, dict):
        raise errors.InvalidRequestError("'item' must be an object with 'id' and 'type'")
    caller = await identity(request)
    record = await call(
        services(request).collections.add_item,
        caller,
        _slug(request),
        _required_string(item, "type"),
        _required_string(item, "id"),
        _optional(body, "note", str),
    )
    return JSONResponse(_collection(request, record))


async def update_collection_item(request: Request) -> Response:
    """Change an item's `note` or `position`."""
    body = await read_json_object(request)
    caller = await identity(request)
    await call(
        services(request).collections.update_item,
        caller,
        _slug(request),
        param(request, "item_id"),
        note=_optional(body, "note", str),
        position=_optional(body, "position", int),
    )
    return JSONResponse({})


async def delete_collection_item(request: Request) -> Response:
    """Remove an item."""
    caller = await identity(request)
    await call(
        services(request).collections.delete_item,
        caller,
        _slug(request),
        param(request, "item_id"),
    )
    return JSONResponse({})


def _required_string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise errors.InvalidRequestError(f"{key!r} must be a non-empty string")
    return value


def _optional(body: dict[str, Any], key: str, kind: type[Any]) -> Any:
    value = body.get(key)
    # A JSON boolean is not a position (`bool` is an `int` in Python).
    if value is not None and (
        not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    ):
        raise errors.InvalidRequestError(f"{key!r} must be a {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {str: "string", bool: "boolean", int: "integer"}


def _collection(
    request: Request, record: CollectionRecord, *, listed: bool = False
) -> dict[str, Any]:
    owner = record.owner
    payload: dict[str, Any] = {
        "slug": record.slug,
        "title": record.title,
        "description": record.description,
        "owner": {
            "name": owner.name,
            "type": owner.kind.value,
            "fullname": owner.fullname,
            "avatarUrl": avatar_url(request, owner.name),
        },
        "lastUpdated": payloads.date(record.updated_at),
        "private": record.private,
        "theme": record.theme,
        "upvotes": 0,
        "isUpvotedByUser": False,
        "gating": False,
        "items": [_item(item) for item in record.items],
    }
    if not listed:
        payload["position"] = record.position
    return payload


def _item(item: CollectionItem) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "_id": item.object_id,
        "type": item.type.value,
        "position": item.position,
    }
    if item.note is not None:
        payload["note"] = {"text": item.note, "html": render_markdown(item.note)}
    if item.repo is not None:
        repo = item.repo
        payload.update(
            id=repo.repo_id,
            repoType=repo.type,
            author=repo.namespace,
            private=repo.private,
            likes=repo.likes,
            lastModified=payloads.date(repo.last_modified),
        )
    elif item.collection is not None:
        payload.update(
            id=item.collection.object_id,
            slug=item.collection.slug,
            title=item.collection.title,
            private=item.collection.private,
        )
    return payload


routes = [
    Route("/api/collections", list_collections, methods=["GET"]),
    Route("/api/collections", create_collection, methods=["POST"]),
    Route(_COLLECTION, get_collection, methods=["GET"]),
    Route(_COLLECTION, update_collection, methods=["PATCH"]),
    Route(_COLLECTION, delete_collection, methods=["DELETE"]),
    Route(_COLLECTION + "/items", add_collection_item, methods=["POST"]),
    Route(_COLLECTION + "/item", add_collection_item, methods=["POST"]),
    Route(_COLLECTION + "/items/{item_id}", update_collection_item, methods=["PATCH"]),
    Route(_COLLECTION + "/items/{item_id}", delete_collection_item, methods=["DELETE"]),
]
