"""The `ProfileStore` Protocol: what a user's or organization's profile shows beyond its row.

Who follows whom (users follow users and organizations; follows go with either account) and how
many discussions a user opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubstead.server.domain.accounts import Account


class ProfileStore(Protocol):
    """Follows between accounts, and counts of what accounts did."""

    def follow(self, follower_id: int, followee_id: int) -> bool:
        """Record that an account follows another; False when it already did."""

    def unfollow(self, follower_id: int, followee_id: int) -> bool:
        """Forget that an account follows another; False when it did not."""

    def is_following(self, follower_id: int, followee_id: int) -> bool:
        """Whether an account follows another."""

    def followers(self, account_id: int, offset: int, limit: int) -> list[Account]:
        """The accounts following this one, by name, from `offset`, at most `limit`."""

    def following(self, account_id: int, offset: int, limit: int) -> list[Account]:
        """The accounts this one follows, by name, from `offset`, at most `limit`."""

    def count_followers(self, account_id: int) -> int:
        """How many accounts follow this one."""

    def count_following(self, account_id: int) -> int:
        """How many accounts this one follows."""

    def count_discussions(self, author_id: int, visible_namespaces: Sequence[str] | None) -> int:
        """How many discussions and pull requests the account opened in repos one may see.

        Those of public repos count, and of private repos in `visible_namespaces` (None: in
        every namespace).
        """

    def count_likes(self, account_id: int, visible_namespaces: Sequence[str] | None) -> int:
        """How many repos one may see the account likes.

        Public ones count, and private ones in `visible_namespaces` (None: in every namespace).
        """
