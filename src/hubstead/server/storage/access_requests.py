"""The `AccessRequestStore` Protocol: users' requests to read gated repos, one per user and repo.

Requests go with their repo (deleted with it, kept through a move) and with their user's
account. Every change records a hub event in its own transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hubstead.server.domain.access_requests import AccessRequestRecord, AccessStatus


class AccessRequestStore(Protocol):
    """The access requests of each repo."""

    def ask(
        self,
        repo_id: int,
        user_id: int,
        status: AccessStatus,
        fields: dict[str, str],
        at: dt.datetime,
    ) -> AccessRequestRecord:
        """Record a user's request with `status`; an earlier request of theirs stays as it is.

        Returns:
            The new request, or the one the user made before (whatever its status).
        """

    def find(self, repo_id: int, user_id: int) -> AccessRequestRecord | None:
        """The user's request for the repo."""

    def get(self, repo_id: int, request_id: int) -> AccessRequestRecord | None:
        """The repo's request with this id."""

    def set_status(
        self,
        request_id: int,
        expected: AccessStatus,
        status: AccessStatus,
        rejection_reason: str | None,
        actor_id: int,
        at: dt.datetime,
    ) -> AccessRequestRecord | None:
        """Move a request from `expected` to `status` (a rejection's reason kept, else cleared).

        Returns:
            The changed request; None when it is gone or no longer in `expected`.
        """

    def grant(
        self, repo_id: int, user_id: int, actor_id: int, at: dt.datetime
    ) -> AccessRequestRecord | None:
        """Accept the user's request, creating one (marked `granted`) when there is none.

        Returns:
            The accepted request; None when it was accepted already.
        """

    def list(
        self, repo_id: int, status: AccessStatus, offset: int, limit: int
    ) -> list[AccessRequestRecord]:
        """Up to `limit` of the repo's requests with `status` from `offset`, oldest first."""

    def accepted_repos(self, user_id: int) -> frozenset[int]:
        """The repos whose requests from the user are accepted."""
