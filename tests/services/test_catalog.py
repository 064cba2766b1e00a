"""`CatalogService`: repo info and listings, each one call, on a hub the official client filled."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import RepoQuery, RepoRecord
from hubstead.server.services.auth import Identity
from hubstead.server.services.catalog import Details, RepoInfo
from hubstead.server.services.registry import Services
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.helpers.storage import lfs_bytes, upload_lfs

CARD = b"---\nlicense: mit\ntags: [catalog]\n---\n# A model\n"


@pytest.fixture
def hub(live_server: LiveServer) -> Services:
    return live_server.services


@pytest.fixture
def caller(hub: Services, user: HubUser) -> Identity:
    return hub.auth.authenticate(user.token)


def filled_repo(user: HubUser, name: str) -> tuple[str, int]:
    """A repo with a card and an LFS file; its id and the LFS file's size."""
    repo_id = f"{user.name}/{name}"
    user.api.create_repo(repo_id)
    user.api.upload_file(path_or_fileobj=CARD, path_in_repo="README.md", repo_id=repo_id)
    weights = lfs_bytes(name, 1000)
    upload_lfs(user.api, repo_id, "weights.bin", weights)
    return repo_id, len(weights)


@contextmanager
def statements(hub: Services) -> Iterator[list[str]]:
    """The SQL statements the database runs meanwhile."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    sa.event.listen(hub.database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(hub.database.engine, "before_cursor_execute", record)


def test_info_describes_the_revision_asked_for(
    hub: Services, caller: Identity, user: HubUser
) -> None:
    repo_id, size = filled_repo(user, "described")
    first = user.api.list_repo_commits(repo_id)[-1].commit_id

    head = hub.catalog.info(caller, RepoType.MODEL, repo_id, "main", Details())
    initial = hub.catalog.info(caller, RepoType.MODEL, repo_id, first, Details())

    assert head.facts.card_data == {"license": "mit", "tags": ["catalog"]}
    assert head.files is not None
    assert sorted(f.path for f in head.files) == [".gitattributes", "README.md", "weights.bin"]
    assert head.used_storage is not None and head.used_storage > size
    assert (initial.commit.id, initial.facts.card_data) == (first, None)
    assert initial.files is not None
    assert [f.path for f in initial.files] == [".gitattributes"]


def test_info_leaves_out_the_details_not_asked_for(
    hub: Services, caller: Identity, user: HubUser
) -> None:
    repo_id, _ = filled_repo(user, "bare")

    info = hub.catalog.info(
        caller, RepoType.MODEL, repo_id, "main", Details(files=False, used_storage=False)
    )

    assert (info.files, info.used_storage) == (None, None)
    assert info.facts.tags == ("catalog", "license:mit")


def test_a_listing_without_details_gives_the_rows(
    hub: Services, caller: Identity, user: HubUser
) -> None:
    repo_id, _ = filled_repo(user, "row")

    page = hub.catalog.list(caller, RepoQuery(type="model", author=user.name))

    assert [item.repo_id for item in page.items if isinstance(item, RepoRecord)] == [repo_id]
    assert len(page.items) == 1
    assert not page.more


def test_a_described_listing_reads_the_database_as_often_for_many_repos_as_for_one(
    hub: Services, caller: Identity, user: HubUser
) -> None:
    query = RepoQuery(type="model", author=user.name)
    sizes = dict([filled_repo(user, "first")])
    with statements(hub) as for_one:
        hub.catalog.list(caller, query, Details())
    sizes.update(filled_repo(user, f"more-{n}") for n in range(4))

    with statements(hub) as for_five:
        page = hub.catalog.list(caller, query, Details())

    assert len(for_five) == len(for_one)
    assert all(isinstance(item, RepoInfo) for item in page.items)
    used = {
        item.repo.repo_id: item.used_storage for item in page.items if isinstance(item, RepoInfo)
    }
    assert used.keys() == sizes.keys()
    assert all((used[repo_id] or 0) > size for repo_id, size in sizes.items())


def test_a_listing_pages_and_says_when_more_follow(
    hub: Services, caller: Identity, user: HubUser
) -> None:
    for n in range(3):
        user.api.create_repo(f"{user.name}/paged-{n}")
    query = RepoQuery(type="model", author=user.name, sort="id", descending=False, limit=2)

    first = hub.catalog.list(caller, query, Details(used_storage=False))
    last = hub.catalog.list(caller, dataclasses.replace(query, offset=2), Details())

    assert [item.repo.name for item in first.items if isinstance(item, RepoInfo)] == [
        "paged-0",
        "paged-1",
    ]
    assert first.more
    assert [item.repo.name for item in last.items if isinstance(item, RepoInfo)] == ["paged-2"]
    assert not last.more
