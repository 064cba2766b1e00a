"""Collections: curated, ordered lists of repos and other collections, owned by an account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Sequence

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.repos import RepoRecord

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"^([^/]+)/(?:[^/]*-)?([0-9a-f]{24})$")


def collection_slug(owner: str, title: str, object_id: str) -> str:
    """`owner/title-in-lower-case-<object id>`: the title part is decoration, the id finds it."""
    text = _NOT_SLUG.sub("-", title.lower()).strip("-")[:64].strip("-")
    return f"{owner}/{text or 'collection'}-{object_id}"


def parse_slug(slug: str) -> tuple[str, str] | None:
    """The owner and object id a slug names, or None when it is not one."""
    match = _SLUG.match(slug)
    return (match.group(1), match.group(2)) if match else None


class ItemType(enum.StrEnum):
    """What an item of a collection names."""

    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"
    COLLECTION = "collection"


class CollectionSort(enum.StrEnum):
    """The orders a listing of collections can have (all newest change first here)."""

    LAST_MODIFIED = "lastModified"
    TRENDING = "trending"
    UPVOTES = "upvotes"


@dataclasses.dataclass(frozen=True)
class CollectionOwner:
    """The account a collection belongs to."""

    id: int
    name: str
    kind: AccountKind
    fullname: str


@dataclasses.dataclass(frozen=True)
class NestedCollection:
    """A collection as an item of another: enough to name it and decide who sees it."""

    object_id: str
    owner: str
    title: str
    private: bool

    @property
    def slug(self) -> str:
        """Its slug (`collection_slug`)."""
        return collection_slug(self.owner, self.title, self.object_id)


@dataclasses.dataclass(frozen=True)
class CollectionItem:
    """An item: a repo (`repo`) or a collection (`collection`), at a position, with a note."""

    object_id: str
    type: ItemType
    position: int
    note: str | None
    repo: RepoRecord | None = None
    collection: NestedCollection | None = None


@dataclasses.dataclass(frozen=True)
class CollectionRecord:
    """A collection with its items, in position order."""

    id: int
    object_id: str
    owner: CollectionOwner
    title: str
    description: str | None
    private: bool
    theme: str
    position: int
    created_at: dt.datetime
    updated_at: dt.datetime
    items: tuple[CollectionItem, ...]

    @property
    def slug(self) -> str:
        """Its slug (`collection_slug`)."""
        return collection_slug(self.owner.name, self.title, self.object_id)


@dataclasses.dataclass(frozen=True)
class NewItem:
    """An item to append: a repo's row id or a collection's row id."""

    type: ItemType
    note: str | None
    repo_id: int | None = None
    collection_id: int | None = None


@dataclasses.dataclass(frozen=True)
class CollectionQuery:
    """Which collections a listing asks for.

    `visible_namespaces`: whose private collections may be listed (None: all); `owners` and
    the item (`item_repo_id` or `item_collection_id`) narrow the listing down.
    """

    visible_namespaces: Sequence[str] | None
    owners: Sequence[str] = ()
    item_repo_id: int | None = None
    item_collection_id: int | None = None
    offset: int = 0
    limit: int = 100
