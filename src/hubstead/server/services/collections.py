"""`CollectionService`: collections of repos and other collections, and who sees and changes them.

A collection belongs to a user or an organization; writers of that namespace change it. A
private collection is invisible to everyone else: they get what a missing one gets. Items are
checked when added (the caller must see the repo or collection) and filtered again whenever a
collection is read, because a repo can turn private after it was added: nobody learns from a
collection about a repo or collection they cannot see. Papers and buckets are not held here.

Limits, each refused with a 400: a title of 1 to 60 characters, a description of at most 150,
a note of at most 500, at most 1,000 items, one of the Hub's themes.
"""

from __future__ import annotations

import dataclasses
import secrets

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.collections import (
    CollectionItem,
    CollectionQuery,
    CollectionRecord,
    ItemType,
    NestedCollection,
    NewItem,
    parse_slug,
)
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.collections import CollectionStore
from hubstead.server.storage.errors import AlreadyExistsError, CapacityError

MAX_ITEMS = 1000
MAX_TITLE = 60
MAX_DESCRIPTION = 150
MAX_NOTE = 500
THEMES = ("orange", "blue", "green", "purple", "pink", "indigo")
LISTED_ITEMS = 4
"""How many items each collection of a listing shows (the Hub's preview)."""
_UNHELD = {"paper": "Papers", "bucket": "Buckets"}


@dataclasses.dataclass(frozen=True)
class MetadataChange:
    """What `update` changes (None: unchanged)."""

    title: str | None = None
    description: str | None = None
    private: bool | None = None
    theme: str | None = None
    position: int | None = None


class CollectionService:
    """Collections and their items."""

    def __init__(
        self,
        repos: RepoService,
        auth: AuthService,
        store: CollectionStore,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._repos = repos
        self._auth = auth
        self._store = store
        self._clock = clock

    def create(
        self,
        identity: Identity,
        namespace: str,
        title: str,
        *,
        description: str | None = None,
        private: bool = False,
    ) -> CollectionRecord:
        """Create an empty collection in a namespace the caller may write to.

        Raises:
            InvalidRequestError: a title or description out of bounds.
            AuthenticationError, AuthorizationError: the caller may not write there.
            ConflictError: the namespace has a collection with this title (`slug`: its slug).
        """
        access.check_write_token(identity, "create a collection")
        owner = self._auth.get_account(namespace)
        access.check_namespace_write(identity, owner.name, f"create a collection in {owner.name!r}")
        title = _title(title)
        existing = self._store.find_title(owner.id, title)
        if existing is not None:
            raise errors.ConflictError(
                f"A collection titled {title!r} exists already in {owner.name!r}",
                slug=existing.slug,
            )
        record = self._store.create(
            owner.id,
            secrets.token_hex(12),
            title,
            _description(description),
            private,
            THEMES[0],
            self._clock(),
        )
        return self._shown(identity, record)

    def get(self, identity: Identity, slug: str) -> CollectionRecord:
        """The collection with the items the caller can see.

        Raises:
            CollectionNotFoundError: no such collection, or one the caller may not see.
        """
        return self._shown(identity, self._find(identity, slug))

    def list(
        self,
        identity: Identity,
        *,
        owners: list[str],
        item: tuple[str, str] | None,
        offset: int,
        limit: int,
    ) -> Page[CollectionRecord]:
        """A page of the collections the caller can see, each with its first visible items.

        `item` is a type (`model`, ..., `collection`, `paper`) and an id (a slug for
        collections): only collections holding it, and none when the caller cannot see it.
        """
        query = CollectionQuery(
            access.visible_namespaces(identity), owners, offset=offset, limit=limit + 1
        )
        if item is not None:
            found = self._item(identity, *item)
            if found is None:
                return Page([], False)
            query = dataclasses.replace(
                query, item_repo_id=found.repo_id, item_collection_id=found.collection_id
            )
        page = Page.of(self._store.list(query), limit)
        shown = [self._shown(identity, record, LISTED_ITEMS) for record in page.items]
        return Page(shown, page.more)

    def update(self, identity: Identity, slug: str, change: MetadataChange) -> CollectionRecord:
        """Change a collection's title, description, visibility, theme or position.

        Raises:
            CollectionNotFoundError: see `get`.
            AuthenticationError, AuthorizationError: the caller may not change it.
            InvalidRequestError: a value out of bounds.
        """
        record = self._writable(identity, slug)
        values: dict[str, object] = {}
        if change.title is not None:
            values["title"] = _title(change.title)
        if change.description is not None:
            values["description"] = _description(change.description) or None
        if change.theme is not None:
            if change.theme not in THEMES:
                raise errors.InvalidRequestError(
                    f"Invalid theme {change.theme!r}: one of {', '.join(THEMES)}"
                )
            values["theme"] = change.theme
        if change.private is not None:
            values["private"] = change.private
        if change.position is not None:
            values["position"] = _position(change.position)
        updated = self._store.update(record.id, values, self._clock())
        if updated is None:
            raise _missing(slug)
        return self._shown(identity, updated)

    def delete(self, identity: Identity, slug: str) -> None:
        """Delete a collection and its items.

        Raises:
            CollectionNotFoundError, AuthenticationError, AuthorizationError: see `update`.
        """
        if not self._store.delete(self._writable(identity, slug).id):
            raise _missing(slug)

    def add_item(
        self, identity: Identity, slug: str, item_type: str, item_id: str, note: str | None
    ) -> CollectionRecord:
        """Append a repo or a collection the caller can see, with a note.

        Raises:
            CollectionNotFoundError, AuthenticationError, AuthorizationError: see `update`.
            RepoNotFoundError, CollectionNotFoundError: the item is missing or invisible.
            NotSupportedError: papers and buckets.
            InvalidRequestError: an unknown type, a note too long, a full collection, or the
                collection itself.
            ConflictError: the collection holds the item already.
        """
        record = self._writable(identity, slug)
        found = self._item(identity, item_type, item_id, strict=True)
        assert found is not None
        if found.collection_id == record.id:
            raise errors.InvalidRequestError("A collection cannot hold itself")
        new = dataclasses.replace(found, note=_note(note or "") or None)
        try:
            added = self._store.add_item(
                record.id, secrets.token_hex(12), new, MAX_ITEMS, self._clock()
            )
        except AlreadyExistsError as exc:
            raise errors.ConflictError(f"{item_id} is in the collection already") from exc
        except CapacityError as exc:
            raise errors.InvalidRequestError(
                f"A collection holds at most {MAX_ITEMS} items; remove some first"
            ) from exc
        if added is None:
            raise _missing(slug)
        return self.get(identity, slug)

    def update_item(
        self,
        identity: Identity,
        slug: str,
        item_object_id: str,
        *,
        note: str | None = None,
        position: int | None = None,
    ) -> None:
        """Change an item's note (`""` clears it) or move it to another position.

        Raises:
            CollectionNotFoundError: no such collection or item (or invisible).
            AuthenticationError, AuthorizationError: see `update`.
            InvalidRequestError: a note too long, a negative position.
        """
        record = self._writable(identity, slug)
        note = None if note is None else _note(note)
        position = None if position is None else _position(position)
        changed = self._store.update_item(
            record.id, item_object_id, self._clock(), note=note, position=position
        )
        if not changed:
            raise _missing_item(item_object_id)

    def delete_item(self, identity: Identity, slug: str, item_object_id: str) -> None:
        """Remove an item.

        Raises:
            CollectionNotFoundError, AuthenticationError, AuthorizationError: see
                `update_item`.
        """
        record = self._writable(identity, slug)
        if not self._store.delete_item(record.id, item_object_id, self._clock()):
            raise _missing_item(item_object_id)

    # --- helpers --------------------------------------------------------------------------------

    def _find(self, identity: Identity, slug: str) -> CollectionRecord:
        parsed = parse_slug(slug)
        record = self._store.get(parsed[1]) if parsed else None
        if (
            parsed is None
            or record is None
            or record.owner.name.lower() != parsed[0].lower()
            or not _can_see(identity, record.owner.name, record.private)
        ):
            raise _missing(slug)
        return record

    def _writable(self, identity: Identity, slug: str) -> CollectionRecord:
        record = self._find(identity, slug)
        access.check_namespace_write(identity, record.owner.name, f"change the collection {slug}")
        return record

    def _item(
        self, identity: Identity, item_type: str, item_id: str, *, strict: bool = False
    ) -> NewItem | None:
        """The item a type and id name, if the caller can see it (`strict`: else raise)."""
        if item_type in _UNHELD:
            if strict:
                raise errors.NotSupportedError(
                    f"{_UNHELD[item_type]} are not available on this hub: collections here "
                    "hold models, datasets, Spaces and collections"
                )
            return None
        try:
            kind = ItemType(item_type)
        except ValueError:
            raise errors.InvalidRequestError(
                f"Invalid item type {item_type!r}: one of {', '.join(ItemType)}"
            ) from None
        try:
            if kind is ItemType.COLLECTION:
                return NewItem(kind, None, collection_id=self._find(identity, item_id).id)
            repo = self._repos.locate(identity, RepoType(kind.value), item_id, Action.READ)
        except (errors.NotFoundError, errors.RepoMovedError):
            if strict:
                raise
            return None
        return NewItem(kind, None, repo_id=repo.id)

    def _shown(
        self, identity: Identity, record: CollectionRecord, limit: int | None = None
    ) -> CollectionRecord:
        """The record with only the items the caller can see (the first `limit`)."""
        items = [item for item in record.items if _item_visible(identity, item)]
        return dataclasses.replace(record, items=tuple(items[:limit]))


def _can_see(identity: Identity, owner: str, private: bool) -> bool:
    return not private or access.namespace_role(identity, owner) is not None


def _item_visible(identity: Identity, item: CollectionItem) -> bool:
    if item.repo is not None:
        return access.can_see(identity, item.repo)
    nested: NestedCollection | None = item.collection
    return nested is not None and _can_see(identity, nested.owner, nested.private)


def _title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise errors.InvalidRequestError(
            f"A collection's title must have 1 to {MAX_TITLE} characters (it has {len(title)})"
        )
    return title


def _description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise errors.InvalidRequestError(
            f"A collection's description must have at most {MAX_DESCRIPTION} characters "
            f"(it has {len(description)})"
        )
    return description


def _note(note: str) -> str:
    if len(note) > MAX_NOTE:
        raise errors.InvalidRequestError(
            f"An item's note must have at most {MAX_NOTE} characters (it has {len(note)})"
        )
    return note


def _position(position: int) -> int:
    if position < 0:
        raise errors.InvalidRequestError(f"Invalid position {position}: 0 or more")
    return position


def _missing(slug: str) -> errors.CollectionNotFoundError:
    return errors.CollectionNotFoundError(f"Collection not found: {slug}")


def _missing_item(item_object_id: str) -> errors.CollectionNotFoundError:
    return errors.CollectionNotFoundError(f"Collection item not found: {item_object_id}")
