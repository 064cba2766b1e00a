"""The `CollectionStore` Protocol: collections of accounts and their ordered items.

A collection goes with its owner; an item goes with the repo or collection it names. Item
positions are always 0, 1, 2, ... in order: adding appends, moving an item shifts the ones
between, deleting closes the gap. The collections of an owner are numbered the same way.
Every change to a collection or its items moves its `updated_at`. Changes to a collection or
an item that does not exist return None or False and change nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.collections import (
    CollectionItem,
    CollectionQuery,
    CollectionRecord,
    NewItem,
)


class CollectionStore(Protocol):
    """Collections and their items."""

    def create(
        self,
        owner_id: int,
        object_id: str,
        title: str,
        description: str | None,
        private: bool,
        theme: str,
        at: dt.datetime,
    ) -> CollectionRecord:
        """Add a collection after the owner's others (AlreadyExistsError: id taken)."""

    def find_title(self, owner_id: int, title: str) -> CollectionRecord | None:
        """The owner's collection with this title (ignoring case), if any."""

    def get(self, object_id: str) -> CollectionRecord | None:
        """The collection with this object id, with its items."""

    def list(self, query: CollectionQuery) -> list[CollectionRecord]:
        """A page of the collections the query asks for, most recently changed first."""

    def update(
        self, collection_id: int, values: dict[str, object], at: dt.datetime
    ) -> CollectionRecord | None:
        """Change `title`, `description`, `private`, `theme`, or `position` (a move)."""

    def delete(self, collection_id: int) -> bool:
        """Delete a collection with its items, and close the gap among the owner's."""

    def add_item(
        self, collection_id: int, object_id: str, item: NewItem, max_items: int, at: dt.datetime
    ) -> CollectionItem | None:
        """Append an item.

        Raises:
            AlreadyExistsError: the collection holds that repo or collection already.
            CapacityError: the collection holds `max_items` already.
        """

    def update_item(
        self,
        collection_id: int,
        object_id: str,
        at: dt.datetime,
        *,
        note: str | None = None,
        position: int | None = None,
    ) -> bool:
        """Set an item's note (`""` clears it), or move it to `position` (capped at the last)."""

    def delete_item(self, collection_id: int, object_id: str, at: dt.datetime) -> bool:
        """Remove an item and close the gap."""
