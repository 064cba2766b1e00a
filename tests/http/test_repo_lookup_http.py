"""A missing repo costs what a private one does, so response times tell nobody which exists.

The work is compared deterministically: the SQL statements each request runs on the hub's
engine, counted with a SQLAlchemy event, for the same caller and route.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

ROUTES = (
    "/api/models/{id}",
    "/api/models/{id}/revision/main",
    "/api/models/{id}/tree/main",
    "/api/models/{id}/refs",
    "/{id}/resolve/main/config.json",
    "/{id}.git/info/refs?service=git-upload-pack",
)


@pytest.fixture
def statements(live_server: LiveServer) -> Iterator[list[str]]:
    """The SQL statements the hub runs from now on."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = live_server.services.database.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def work(
    server: LiveServer, seen: list[str], path: str, headers: dict[str, str]
) -> tuple[int, int, int]:
    seen.clear()
    response = httpx.get(server.url + path, headers=headers)
    return response.status_code, len(seen), sum(s == "BEGIN" for s in seen)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("caller", ["anonymous", "stranger"])
def test_a_missing_repo_does_the_same_work_as_a_private_one(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    statements: list[str],
    route: str,
    caller: str,
) -> None:
    private = f"{user.name}/{unique_name('private')}"
    user.api.create_repo(private, private=True)
    headers = {"authorization": f"Bearer {other_user.token}"} if caller == "stranger" else {}

    hidden = work(live_server, statements, route.format(id=private), headers)
    missing = work(live_server, statements, route.format(id=f"{user.name}/nothing-here"), headers)
    foreign = work(live_server, statements, route.format(id=f"{unique_name('ns')}/x"), headers)

    assert hidden[0] in (401, 404)
    assert hidden == missing == foreign
