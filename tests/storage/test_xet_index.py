"""The `XetIndex` contract (xorbs, who may use them, dedup chunks, files), on SQLite and PostgreSQL.

Also `FsXorbStore`: atomic puts, positioned reads, and the deletion that a fresh touch stops.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.xet import XetFileRecord, XetTerm, XorbRecord
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.repos import RepoStore
from hubstead.server.storage.xet_index import XetIndex
from hubstead.server.storage.xet_index_sql import SqlXetIndex
from hubstead.server.storage.xorbs_fs import FsXorbStore


@pytest.fixture
def index(database: Database) -> XetIndex:
    return SqlXetIndex(database)


@pytest.fixture
def owners(accounts: AccountStore, repos: RepoStore) -> tuple[int, int, int]:
    """A user (its id) and two of its repos (their ids)."""
    user = accounts.create_account("ada", AccountKind.USER, "Ada", None, False)
    first = repos.create_repo("model", "ada", "first", "key-first", False)
    second = repos.create_repo("model", "ada", "second", "key-second", False)
    return user.id, first.id, second.id


def h(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def xorb(name: str, chunks: int = 3) -> XorbRecord:
    ends = tuple(100 * (i + 1) for i in range(chunks))
    return XorbRecord(
        hash=h(name).hex(),
        size=ends[-1],
        chunk_hashes=tuple(h(f"{name}/{i}") for i in range(chunks)),
        chunk_sizes=(90,) * chunks,
        chunk_ends=ends,
    )


def file(name: str, *xorbs: XorbRecord) -> XetFileRecord:
    terms = tuple(XetTerm(x.hash, 0, len(x.chunk_hashes), x.raw_size) for x in xorbs)
    return XetFileRecord(h(name).hex(), h(f"{name}.sha").hex(), sum(t.size for t in terms), terms)


def test_a_xorb_reads_back_as_recorded_and_is_new_once(
    index: XetIndex, owners: tuple[int, int, int]
) -> None:
    user, first, _ = owners
    record = xorb("a")

    assert index.add_xorb(record, first, user, [record.chunk_hashes[1]]) is True
    assert index.add_xorb(record, first, user, []) is False

    assert index.xorbs([record.hash, h("missing").hex()]) == {record.hash: record}
    assert list(index.xorb_hashes()) == [record.hash]


def test_a_xorb_is_usable_from_the_repos_it_is_linked_to_and_by_its_uploaders(
    index: XetIndex, owners: tuple[int, int, int], repos: RepoStore
) -> None:
    user, first, second = owners
    a, b = xorb("a"), xorb("b")
    index.add_xorb(a, first, user, [])
    index.add_xorb(b, first, None, [])
    index.link_xorbs(second, [a.hash])

    assert index.xorb_repos([a.hash, b.hash]) == {
        a.hash: frozenset({first, second}),
        b.hash: frozenset({first}),
    }
    assert index.uploaded_by(user, [a.hash, b.hash]) == {a.hash}

    repos.delete_repo(first)

    assert index.xorb_repos([a.hash, b.hash]) == {a.hash: frozenset({second})}
    assert index.uploaded_by(user, [a.hash]) == {a.hash}


def test_dedup_finds_the_xorbs_holding_a_chunk(
    index: XetIndex, owners: tuple[int, int, int]
) -> None:
    user, first, _ = owners
    shared = h("shared chunk")
    older, newer = xorb("older"), xorb("newer")
    index.add_xorb(older, first, user, [shared])
    index.add_xorb(newer, first, user, [shared])

    assert sorted(index.dedup_xorbs(shared, limit=5)) == sorted([newer.hash, older.hash])
    assert len(index.dedup_xorbs(shared, limit=1)) == 1
    assert index.dedup_xorbs(h("unknown"), limit=5) == []


def test_a_file_is_found_by_hash_by_sha256_and_by_the_xorbs_it_uses(
    index: XetIndex, owners: tuple[int, int, int]
) -> None:
    user, first, _ = owners
    a, b, c = xorb("a"), xorb("b"), xorb("c")
    for record in (a, b, c):
        index.add_xorb(record, first, user, [])
    one, two = file("one", a, b), file("two", b, c)

    index.add_file(one, a.chunk_hashes[0])
    index.add_file(one, a.chunk_hashes[0])
    index.add_file(two, b.chunk_hashes[0])

    assert index.file(one.hash) == one
    assert index.file_for_sha256(two.sha256) == two
    assert index.files_for_sha256([one.sha256, h("nothing").hex()]) == {one.sha256: one}
    assert sorted(f.hash for f in index.files_using(b.hash, limit=5)) == sorted(
        [one.hash, two.hash]
    )
    assert index.files_using(c.hash, limit=5) == [two]
    assert index.dedup_xorbs(a.chunk_hashes[0], limit=5) == [a.hash]
    assert sorted(f.hash for f in index.files()) == sorted([one.hash, two.hash])


def test_deleting_forgets_a_file_and_a_xorb_with_everything_that_names_them(
    index: XetIndex, owners: tuple[int, int, int]
) -> None:
    user, first, _ = owners
    a, b = xorb("a"), xorb("b")
    index.add_xorb(a, first, user, [a.chunk_hashes[2]])
    index.add_xorb(b, first, user, [])
    one = file("one", a, b)
    index.add_file(one, a.chunk_hashes[0])

    assert index.delete_file(one.hash) is True
    assert index.delete_file(one.hash) is False
    assert index.file(one.hash) is None
    assert index.files_using(a.hash, limit=5) == []

    assert index.delete_xorb(a.hash) is True
    assert index.xorbs([a.hash]) == {}
    assert index.xorb_repos([a.hash]) == {}
    assert index.uploaded_by(user, [a.hash]) == set()
    assert index.dedup_xorbs(a.chunk_hashes[2], limit=5) == []
    assert list(index.xorb_hashes()) == [b.hash]


def test_the_xorb_store_puts_once_reads_ranges_and_spares_what_was_touched(
    tmp_path: Path,
) -> None:
    store = FsXorbStore(tmp_path / "xorbs")
    name = h("x").hex()

    assert store.put(name, b"0123456789") is True
    assert store.put(name, b"ignored") is False
    assert store.read(name, 2, 5) == b"234"
    assert store.size(name) == 10 and list(store.hashes()) == [name]

    assert store.delete_unless(name, lambda stat: stat.size == 10) is False
    assert store.read(name, 0, 10) == b"0123456789"
    assert store.delete_unless(name, lambda stat: False) is True
    assert store.size(name) is None and store.touch(name) is False


def test_copying_xorb_links_lets_the_target_use_the_sources_xorbs_only(
    index: XetIndex, owners: tuple[int, int, int], repos: RepoStore
) -> None:
    user, first, second = owners
    a, b = xorb("a"), xorb("b")
    index.add_xorb(a, first, user, [])
    index.add_xorb(b, second, user, [])

    index.copy_xorb_links(first, second)
    index.copy_xorb_links(first, second)

    assert index.xorb_repos([a.hash, b.hash]) == {
        a.hash: frozenset({first, second}),
        b.hash: frozenset({second}),
    }
