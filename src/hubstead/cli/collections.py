"""`hubstead collections ...`: list, show, create, fill and delete collections on the hub.

A collection is named by its slug (`owner/title-<24 hex>`). Data (tables, slugs, `--json`
documents) goes to stdout; confirmations go to stderr.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click

from hubstead.cli._client import confirm_or_require_yes, limit_option, open_api, token_option
from hubstead.cli._errors import EXIT_NOT_FOUND, CliError, reports_client_errors
from hubstead.cli._output import emit_json, emit_table, json_option

if TYPE_CHECKING:
    from hubstead.client._collections import CollectionItemType, CollectionSort
    from hubstead.client.models import Collection

_ITEM_TYPES = ("model", "dataset", "space", "collection")
_SORTS = ("lastModified", "trending", "upvotes")


@click.group()
def collections() -> None:
    """List, show, create, fill and delete collections of repos."""


@collections.command("list")
@click.option("--owner", multiple=True, help="Only those of this user or organization.")
@click.option("--item", help="Only those holding this item: models/<repo id>, datasets/<...>.")
@click.option("--sort", type=click.Choice(_SORTS), help="Order of the listing.")
@limit_option
@token_option
@json_option
@reports_client_errors
def list_collections(
    owner: tuple[str, ...],
    item: str | None,
    sort: CollectionSort | None,
    limit: int,
    token: str | None,
    as_json: bool,
) -> None:
    """List the collections you can see."""
    with open_api(token) as api:
        found = list(
            api.list_collections(
                owner=list(owner) or None, item=item, sort=sort, limit=limit or None
            )
        )
    if as_json:
        emit_json([dataclasses.asdict(c) for c in found])
        return
    rows = [
        {"slug": c.slug, "title": c.title, "private": "yes" if c.private else "no"} for c in found
    ]
    emit_table(rows, False, ["slug", "title", "private"])


@collections.command("info")
@click.argument("slug")
@token_option
@json_option
@reports_client_errors
def info(slug: str, token: str | None, as_json: bool) -> None:
    """Show a collection and its items."""
    with open_api(token) as api:
        collection = api.get_collection(slug)
    if as_json:
        emit_json(dataclasses.asdict(collection))
        return
    _show(collection)


def _show(collection: Collection) -> None:
    fields: dict[str, Any] = {
        "slug": collection.slug,
        "title": collection.title,
        "owner": collection.owner,
        "description": collection.description,
        "private": collection.private,
        "theme": collection.theme,
        "updated": collection.last_updated,
        "url": collection.url,
    }
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        if value is not None:
            click.echo(f"{key.ljust(width)}  {value}")
    rows = [
        {
            "position": i.position,
            "type": i.item_type,
            "id": i.item_id,
            "note": i.note or "",
            "item object id": i.item_object_id,
        }
        for i in collection.items
    ]
    click.echo()
    emit_table(rows, False, ["position", "type", "id", "note", "item object id"])


@collections.command("create")
@click.argument("title")
@click.option("--namespace", help="A user or organization to create it in [default: you].")
@click.option("--description", help="At most 150 characters.")
@click.option("--private", is_flag=True, help="Only the namespace's members see it.")
@click.option("--exists-ok", is_flag=True, help="Succeed if it has a collection with TITLE.")
@token_option
@json_option
@reports_client_errors
def create(
    title: str,
    namespace: str | None,
    description: str | None,
    private: bool,
    exists_ok: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Create a collection titled TITLE and print its slug."""
    with open_api(token) as api:
        collection = api.create_collection(
            title,
            namespace=namespace,
            description=description,
            private=private,
            exists_ok=exists_ok,
        )
    if as_json:
        emit_json(dataclasses.asdict(collection))
    else:
        click.echo(collection.slug)
    click.echo(f"Created {collection.url}", err=True)


@collections.command("add")
@click.argument("slug")
@click.argument("item_id")
@click.option(
    "--type",
    "item_type",
    type=click.Choice(_ITEM_TYPES),
    default="model",
    show_default=True,
    help="What ITEM_ID names (a collection by its slug).",
)
@click.option("--note", help="A note shown with the item (at most 500 characters).")
@click.option("--exists-ok", is_flag=True, help="Succeed if the collection holds it already.")
@token_option
@reports_client_errors
def add(
    slug: str,
    item_id: str,
    item_type: CollectionItemType,
    note: str | None,
    exists_ok: bool,
    token: str | None,
) -> None:
    """Add ITEM_ID (a repo, or a collection) at the end of the collection SLUG."""
    with open_api(token) as api:
        api.add_collection_item(slug, item_id, item_type, note=note, exists_ok=exists_ok)
    click.echo(f"Added {item_type} {item_id} to {slug}.", err=True)


@collections.command("remove")
@click.argument("slug")
@click.argument("item")
@click.option("--missing-ok", is_flag=True, help="Succeed if the collection does not hold it.")
@token_option
@reports_client_errors
def remove(slug: str, item: str, missing_ok: bool, token: str | None) -> None:
    """Remove ITEM (its id, or its item object id) from the collection SLUG."""
    with open_api(token) as api:
        held = [i for i in api.get_collection(slug).items if item in (i.item_id, i.item_object_id)]
        if not held:
            if missing_ok:
                return
            raise CliError(f"{slug} holds no item {item!r}", EXIT_NOT_FOUND)
        for found in held:
            api.delete_collection_item(slug, found.item_object_id, missing_ok=missing_ok)
    click.echo(f"Removed {item} from {slug}.", err=True)


@collections.command("delete")
@click.argument("slug")
@click.option("--missing-ok", is_flag=True, help="Succeed if there is no such collection.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@token_option
@reports_client_errors
def delete(slug: str, missing_ok: bool, yes: bool, token: str | None) -> None:
    """Delete the collection SLUG (not the repos it holds)."""
    confirm_or_require_yes(f"Delete the collection {slug}?", yes)
    with open_api(token) as api:
        api.delete_collection(slug, missing_ok=missing_ok)
    click.echo(f"Deleted {slug}.", err=True)
