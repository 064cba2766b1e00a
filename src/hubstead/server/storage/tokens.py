"""`TokenStore`: users' access tokens, stored by their hash."""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.accounts import Account, Role, TokenRecord


class TokenStore(Protocol):
    """Users' access tokens: only their hash is stored, never the token itself."""

    def add_token(self, user_id: int, name: str, role: Role, token_hash: str) -> TokenRecord:
        """Store a new token hash."""

    def find_token(self, token_hash: str) -> tuple[TokenRecord, Account] | None:
        """The token with this hash and its user, or None."""

    def list_tokens(self, user_id: int) -> list[TokenRecord]:
        """A user's tokens, oldest first."""

    def delete_token(self, user_id: int, name: str) -> int:
        """Delete a user's tokens by name; how many were deleted."""
