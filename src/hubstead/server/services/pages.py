"""`Page`: what a listing method returns, one window of a longer listing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one page (iterating a page gives them), and whether more follow it."""

    items: list[T]
    more: bool

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def of(cls, found: Sequence[T], limit: int) -> Page[T]:
        """The page in `found`, fetched with one item more than `limit` to tell if more follow."""
        return cls(list(found[:limit]), len(found) > limit)
