"""The `LfsIndex` contract (which repos may reference which objects), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.storage import lfs_index_sql
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.lfs_index_sql import SqlLfsIndex
from hubstead.server.storage.repos import RepoStore
from tests.storage.test_accounts import in_threads

GiB = 1024**3


@pytest.fixture
def index(database: Database) -> LfsIndex:
    return SqlLfsIndex(database)


@pytest.fixture
def two_repos(accounts: AccountStore, repos: RepoStore) -> tuple[int, int]:
    """Two repos of one user."""
    accounts.create_account("ada", AccountKind.USER, "Ada", None, False)
    first = repos.create_repo("model", "ada", "first", "key-first", False)
    second = repos.create_repo("model", "ada", "second", "key-second", False)
    return first.id, second.id


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def test_a_link_belongs_to_its_repo_only(index: LfsIndex, two_repos: tuple[int, int]) -> None:
    first, second = two_repos

    index.link(first, digest("a"), 10)

    assert index.linked_size(first, digest("a")) == 10
    assert index.linked_size(second, digest("a")) is None
    assert index.linked_size(first, digest("b")) is None


def test_linking_twice_keeps_one_link_and_its_first_size(
    index: LfsIndex, two_repos: tuple[int, int]
) -> None:
    first, _ = two_repos

    index.link(first, digest("a"), 10)
    index.link(first, digest("a"), 10)

    assert [r.sha256 for r in index.list(first, 0, 100)] == [digest("a")]
    assert index.usage([first])[first] == 10


def test_concurrent_links_of_one_object_all_succeed(
    index: LfsIndex, two_repos: tuple[int, int]
) -> None:
    first, second = two_repos

    _, failures = in_threads(8, lambda i: index.link((first, second)[i % 2], digest("a"), 5))

    assert failures == []
    assert index.linked_size(first, digest("a")) == 5
    assert index.linked_size(second, digest("a")) == 5
    assert len(index.list(first, 0, 100)) == 1


def test_sizes_past_four_gib_round_trip(index: LfsIndex, two_repos: tuple[int, int]) -> None:
    first, _ = two_repos

    index.link(first, digest("huge"), 6 * GiB + 1)
    index.link(first, digest("more"), 5 * GiB)

    assert index.linked_size(first, digest("huge")) == 6 * GiB + 1
    assert index.usage([first])[first] == 11 * GiB + 1


def test_list_pages_through_a_repos_objects(index: LfsIndex, two_repos: tuple[int, int]) -> None:
    first, second = two_repos
    names = [digest(str(n)) for n in range(5)]
    for name in names:
        index.link(first, name, 1)
    index.link(second, digest("other"), 1)

    pages = [index.list(first, offset, 2) for offset in (0, 2, 4)]

    listed = [r.sha256 for page in pages for r in page]
    assert sorted(listed) == sorted(names)
    assert [len(page) for page in pages] == [2, 2, 1]
    records = index.list(first, 0, 10)
    assert all(r.repo_id == first and r.created_at.tzinfo is not None for r in records)
    created = [r.created_at for r in records]
    assert created == sorted(created, reverse=True)


def test_unlink_forgets_only_the_named_objects(index: LfsIndex, two_repos: tuple[int, int]) -> None:
    first, second = two_repos
    for name in ("a", "b", "c"):
        index.link(first, digest(name), 3)
    index.link(second, digest("a"), 3)

    removed = index.unlink(first, [digest("a"), digest("b"), digest("never")])

    assert removed == 2
    assert index.unlink(first, []) == 0
    assert index.linked_size(first, digest("a")) is None
    assert index.linked_size(first, digest("c")) == 3
    assert index.linked_size(second, digest("a")) == 3
    assert index.usage([first])[first] == 3


def test_linked_digests_covers_every_repo(index: LfsIndex, two_repos: tuple[int, int]) -> None:
    first, second = two_repos
    index.link(first, digest("a"), 1)
    index.link(second, digest("a"), 1)
    index.link(second, digest("b"), 1)

    assert index.linked_digests() == {digest("a"), digest("b")}
    assert index.usage([first, second]) == {first: 1, second: 2}


def test_usage_counts_zero_for_a_repo_without_objects(
    index: LfsIndex, two_repos: tuple[int, int]
) -> None:
    first, second = two_repos
    index.link(first, digest("a"), 7)

    assert index.usage([first, second]) == {first: 7, second: 0}
    assert index.usage([]) == {}


def test_deleting_a_repo_drops_its_links(
    index: LfsIndex, repos: RepoStore, two_repos: tuple[int, int]
) -> None:
    first, second = two_repos
    index.link(first, digest("a"), 1)
    index.link(second, digest("a"), 1)

    repos.delete_repo(first)

    assert index.linked_size(first, digest("a")) is None
    assert index.linked_size(second, digest("a")) == 1
    assert index.linked_digests() == {digest("a")}


def test_records_pages_through_every_link_in_order(
    index: LfsIndex, accounts: AccountStore, repos: RepoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.create_account("owner", AccountKind.USER, "Owner", None, False)
    rows = [repos.create_repo("model", "owner", f"r{n}", f"key{n}", False) for n in range(2)]
    links = sorted((f"{n:064x}", repo.id) for n in range(5) for repo in rows)
    for sha, repo_id in links:
        index.link(repo_id, sha, 7)
    monkeypatch.setattr(lfs_index_sql, "_RECORDS_PAGE", 3)

    records = list(index.records())

    assert [(r.sha256, r.repo_id) for r in records] == links
    assert index.is_linked(f"{4:064x}")
    assert not index.is_linked(f"{9:064x}")
    index.unlink(rows[0].id, [f"{4:064x}"])
    assert index.is_linked(f"{4:064x}")
    index.unlink(rows[1].id, [f"{4:064x}"])
    assert not index.is_linked(f"{4:064x}")


def test_copying_links_gives_the_target_the_sources_objects_with_their_dates(
    index: LfsIndex, two_repos: tuple[int, int]
) -> None:
    first, second = two_repos
    index.link(first, digest("a"), 10)
    index.link(first, digest("b"), 20)
    index.link(second, digest("b"), 20)
    index.link(second, digest("c"), 30)

    index.copy_links(first, second)
    index.copy_links(first, second)

    assert index.linked_size(second, digest("a")) == 10
    sources = {r.sha256: r.created_at for r in index.list(first, 0, 10)}
    targets = {r.sha256: r.created_at for r in index.list(second, 0, 10)}
    assert set(sources) == {digest(n) for n in "ab"}
    assert set(targets) == {digest(n) for n in "abc"}
    assert targets[digest("a")] == sources[digest("a")]
