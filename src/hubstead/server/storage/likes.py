"""The `LikeStore` Protocol: which users like which repos, and each repo's count of likes.

A like goes with its repo (deleted with it, kept through a move) and with its user. The
repo row's `likes` column always equals its number of likes: each change updates both in one
transaction (and deleting an account takes its likes off the counts, `accounts_sql`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from hubstead.server.domain.likes import LikedRepo, Liker


class LikeStore(Protocol):
    """Likes of repos by users."""

    def like(self, account_id: int, repo_id: int, at: dt.datetime) -> bool:
        """Record a like; False (and nothing changes) when the user already likes the repo."""

    def unlike(self, account_id: int, repo_id: int) -> bool:
        """Remove a like; False when there was none."""

    def likes(self, account_id: int, repo_id: int) -> bool:
        """Whether the user likes the repo."""

    def likers(self, repo_id: int, offset: int, limit: int) -> list[Liker]:
        """The users who like a repo, most recent like first."""

    def liked_repos(
        self, account_id: int, visible_namespaces: Sequence[str] | None, offset: int, limit: int
    ) -> list[LikedRepo]:
        """The repos a user likes, most recent first.

        Private repos are included only when in `visible_namespaces` (None: all of them).
        """
