"""Collections: an account's list, one collection, and its owner's changes.

Serves: `GET /collections` (every collection the visitor may see, most recently changed first),
`GET /collections/{owner}` (the collections the visitor may see, and for whoever may
write in the namespace a form to create one), `POST /collections/{owner}` (create, then to the
new collection), `GET /collections/{owner}/{title-id}` (its items with their notes; an old slug
answers a permanent redirect to the current one, as the API resolves it), and for writers of
the namespace `POST .../settings` (title, description, privacy), `POST .../items` (add a repo
or a collection with a note), `POST .../items/{item_id}/delete` and `POST .../delete` (with a
confirmation box). A private collection is a 404 page for everyone else, as in the API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.collections import CollectionRecord, ItemType
from hubstead.server.http.context import call, int_param, param, services
from hubstead.server.services import access
from hubstead.server.services.collections import (
    MAX_DESCRIPTION,
    MAX_NOTE,
    MAX_TITLE,
    MetadataChange,
)
from hubstead.server.web import csrf
from hubstead.server.web.pages.people import account_param
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in, visitor

LISTING_PAGE = 30
_MAX_PAGE = 10_000
# Form errors a writer can fix: the page again, with the message.
_FIXABLE = (
    errors.InvalidRequestError,
    errors.ConflictError,
    errors.NotSupportedError,
    errors.RepoNotFoundError,
    errors.RepoMovedError,
)
_LIMITS = {"max_title": MAX_TITLE, "max_description": MAX_DESCRIPTION, "max_note": MAX_NOTE}


def _slug(request: Request) -> str:
    return f"{param(request, 'owner')}/{param(request, 'slug')}"


def _may_write(caller: Visitor, owner: str) -> bool:
    """Whether to show the owner's forms (the service decides again on each change)."""
    role = access.namespace_role(caller.identity, owner)
    return caller.signed_in and role is not None and role.allows(Role.WRITE)


async def get_list(request: Request) -> Response:
    """An account's collections, or (`/collections`) everyone's the visitor may see."""
    owner = param(request, "owner") if "owner" in request.path_params else None
    return await _list_page(request, owner)


async def _list_page(
    request: Request,
    owner: str | None,
    status: int = 200,
    error: str | None = None,
    title: str = "",
) -> Response:
    caller = await visitor(request)
    page_number = int_param(request, "p", 1, maximum=_MAX_PAGE) - 1
    found = await call(
        services(request).collections.list,
        caller.identity,
        owners=[] if owner is None else [owner],
        item=None,
        offset=page_number * LISTING_PAGE,
        limit=LISTING_PAGE,
    )
    return await render(
        request,
        "collections/list.html",
        status,
        owner=owner,
        collections=found,
        page_number=page_number + 1,
        may_write=owner is not None and _may_write(caller, owner),
        error=error,
        title=title,
        **_LIMITS,
    )


async def post_create(request: Request) -> Response:
    """Create a collection in the namespace, then show it."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    owner = param(request, "owner")
    title = form.get("title", "")
    try:
        record = await call(
            services(request).collections.create,
            caller.identity,
            owner,
            title,
            description=form.get("description", "").strip() or None,
            private=form.get("private") == "on",
        )
    except (errors.InvalidRequestError, errors.ConflictError) as exc:
        status = errors.status_of(exc)
        return await _list_page(request, owner, status, exc.message, title)
    return RedirectResponse(f"/collections/{record.slug}", status_code=303)


async def get_collection(request: Request) -> Response:
    """A collection and its items; an old slug redirects to the current one."""
    caller = await visitor(request)
    slug = _slug(request)
    record = await call(services(request).collections.get, caller.identity, slug)
    if record.slug != slug:
        return RedirectResponse(f"/collections/{record.slug}", status_code=301)
    return await _collection_page(request, caller, record)


async def _collection_page(
    request: Request,
    caller: Visitor,
    record: CollectionRecord,
    status: int = 200,
    error: str | None = None,
) -> Response:
    return await render(
        request,
        "collections/collection.html",
        status,
        collection=record,
        may_write=_may_write(caller, record.owner.name),
        item_types=list(ItemType),
        error=error,
        **_LIMITS,
    )


async def _refused(request: Request, caller: Visitor, exc: errors.HubError) -> Response:
    """The collection page again with why a change was refused."""
    record = await call(services(request).collections.get, caller.identity, _slug(request))
    return await _collection_page(request, caller, record, errors.status_of(exc), exc.message)


async def post_settings(request: Request) -> Response:
    """Change the title, description and privacy."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    change = MetadataChange(
        title=form.get("title", ""),
        description=form.get("description", "").strip(),
        private=form.get("private") == "on",
    )
    try:
        record = await call(
            services(request).collections.update, caller.identity, _slug(request), change
        )
    except _FIXABLE as exc:
        return await _refused(request, caller, exc)
    return RedirectResponse(f"/collections/{record.slug}", status_code=303)


async def post_item(request: Request) -> Response:
    """Add a repo or a collection, with a note."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    try:
        record = await call(
            services(request).collections.add_item,
            caller.identity,
            _slug(request),
            form.get("type", ""),
            form.get("id", "").strip().strip("/"),
            form.get("note", "").strip() or None,
        )
    except _FIXABLE as exc:
        return await _refused(request, caller, exc)
    return RedirectResponse(f"/collections/{record.slug}", status_code=303)


async def post_delete_item(request: Request) -> Response:
    """Remove an item."""
    await signed_in(request)
    caller, _ = await csrf.read_form(request)
    slug = _slug(request)
    await call(
        services(request).collections.delete_item, caller.identity, slug, param(request, "item")
    )
    return RedirectResponse(f"/collections/{slug}", status_code=303)


async def post_delete(request: Request) -> Response:
    """Delete the collection, once the confirmation box is ticked."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    slug = _slug(request)
    if form.get("confirm") != "on":
        exc = errors.InvalidRequestError("Tick the box to confirm the deletion")
        return await _refused(request, caller, exc)
    await call(services(request).collections.delete, caller.identity, slug)
    return RedirectResponse(f"/collections/{param(request, 'owner')}", status_code=303)


_OWNER = "/collections/" + account_param("owner")
_ONE = _OWNER + "/{slug}"

routes = [
    Route("/collections", get_list, methods=["GET"]),
    Route(_OWNER, get_list, methods=["GET"]),
    Route(_OWNER, post_create, methods=["POST"]),
    Route(_ONE, get_collection, methods=["GET"]),
    Route(_ONE + "/settings", post_settings, methods=["POST"]),
    Route(_ONE + "/items", post_item, methods=["POST"]),
    Route(_ONE + "/items/{item}/delete", post_delete_item, methods=["POST"]),
    Route(_ONE + "/delete", post_delete, methods=["POST"]),
]
