"""Test identities: users with tokens, each with an unmodified `huggingface_hub.HfApi`."""

from __future__ import annotations

import dataclasses
import uuid

from huggingface_hub import HfApi

from hubstead.server.domain.accounts import Role
from tests.helpers.live_server import LiveServer


@dataclasses.dataclass(frozen=True)
class HubUser:
    """A user of the live server, as the official client sees them."""

    name: str
    token: str
    api: HfApi


def unique_name(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_user(
    server: LiveServer, prefix: str = "user", *, role: Role = Role.WRITE, admin: bool = False
) -> HubUser:
    """Create a user with a token of `role` through the server's own services."""
    name = unique_name(prefix)
    server.services.auth.create_user(name, fullname=f"Test {name}", is_admin=admin)
    token = server.services.auth.create_token(name, role).secret
    return HubUser(name, token, HfApi(endpoint=server.url, token=token))


def make_org(server: LiveServer, members: dict[str, Role], prefix: str = "org") -> str:
    """Create an organization with members; return its name."""
    name = unique_name(prefix)
    server.services.auth.create_org(name, fullname=f"Org {name}", members=members)
    return name
