"""Accounts (users and organizations), organization memberships and access tokens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class AccountKind(enum.StrEnum):
    """Users and organizations share one namespace."""

    USER = "user"
    ORG = "org"


class Role(enum.StrEnum):
    """A member's role in an organization, or a token's role; ordered by power."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Whether this role includes `needed`."""
        order = [Role.READ, Role.WRITE, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclasses.dataclass(frozen=True)
class Account:
    """A user or an organization."""

    id: int
    name: str
    kind: AccountKind
    fullname: str
    email: str | None
    is_admin: bool
    created_at: dt.datetime
    # Organizations: a repo created without a visibility is private.
    private_by_default: bool = False


@dataclasses.dataclass(frozen=True)
class Membership:
    """A user's role in an organization."""

    org: Account
    user: Account
    role: Role


@dataclasses.dataclass(frozen=True)
class TokenRecord:
    """An access token as stored: only its hash, never the token itself."""

    id: int
    user_id: int
    name: str
    role: Role
    token_hash: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
