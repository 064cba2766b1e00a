"""The `MetadataStore` contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from hubstead.server.storage.db import Database
from hubstead.server.storage.interfaces import (
    AccountKind,
    AlreadyExistsError,
    MetadataStore,
    RepoQuery,
    RepoRecord,
    Role,
)
from hubstead.server.storage.metadata_sql import SqlMetadataStore

T = TypeVar("T")


@pytest.fixture
def store(empty_database_url: str) -> Iterator[MetadataStore]:
    """A migrated, empty metadata store on each database backend."""
    database = Database(empty_database_url)
    database.migrate()
    try:
        yield SqlMetadataStore(database)
    finally:
        database.close()


def user(store: MetadataStore, name: str, *, email: str | None = None) -> int:
    return store.create_account(name, AccountKind.USER, f"User {name}", email, False).id


def org(store: MetadataStore, name: str) -> int:
    return store.create_account(name, AccountKind.ORG, f"Org {name}", None, False).id


def repo(
    store: MetadataStore,
    namespace: str,
    name: str,
    *,
    type: str = "model",
    private: bool = False,
    **values: object,
) -> RepoRecord:
    record = store.create_repo(
        type, namespace, name, f"{type}{namespace}{name}".replace("-", ""), private
    )
    return store.update_repo(record.id, **values) if values else record


def in_threads(count: int, work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `work(i)` in `count` threads released at once; results and exceptions."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            value = work(i)
        except BaseException as exc:  # collected and asserted on by the caller
            with lock:
                failures.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, failures


# --- accounts -----------------------------------------------------------------------------------


def test_create_account_round_trips_every_field(store: MetadataStore) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    created = store.create_account("Ada", AccountKind.USER, "Ada Lovelacé 🤗", "ada@x.org", True)
    fetched = store.get_account("Ada")
    assert fetched == created
    assert (fetched.name, fetched.kind, fetched.fullname) == (
        "Ada",
        AccountKind.USER,
        "Ada Lovelacé 🤗",
    )
    assert (fetched.email, fetched.is_admin) == ("ada@x.org", True)
    assert fetched.created_at.tzinfo is not None
    assert before <= fetched.created_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert store.get_account_by_id(created.id) == created


def test_account_names_are_case_insensitive_and_keep_their_case(store: MetadataStore) -> None:
    user(store, "MixedCase")
    found = store.get_account("mixedcase")
    assert found is not None
    assert found.name == "MixedCase"
    with pytest.raises(AlreadyExistsError):
        user(store, "MIXEDCASE")
    with pytest.raises(AlreadyExistsError):
        org(store, "mixedCase")
    assert store.count_accounts() == 1


def test_missing_accounts_are_none(store: MetadataStore) -> None:
    assert store.get_account("nobody") is None
    assert store.get_account_by_id(12345) is None


def test_list_accounts_sorts_by_name_and_filters_by_kind(store: MetadataStore) -> None:
    user(store, "bob")
    org(store, "Acme")
    user(store, "alice")
    org(store, "zeta")
    assert [a.name for a in store.list_accounts()] == ["Acme", "alice", "bob", "zeta"]
    assert [a.name for a in store.list_accounts(AccountKind.ORG)] == ["Acme", "zeta"]
    assert [a.name for a in store.list_accounts(AccountKind.USER)] == ["alice", "bob"]
    assert store.count_accounts() == 4


def test_delete_account_removes_its_tokens_and_memberships(store: MetadataStore) -> None:
    acme = org(store, "acme")
    ada = user(store, "ada")
    bob = user(store, "bob")
    store.set_membership(acme, ada, Role.ADMIN)
    store.set_membership(acme, bob, Role.READ)
    store.add_token(ada, "laptop", Role.WRITE, "a" * 64)
    assert store.delete_account(ada, with_repos=False) == []
    assert store.get_account("ada") is None
    assert store.find_token("a" * 64) is None
    assert [m.user.name for m in store.members_of(acme)] == ["bob"]
    # The name is free again.
    user(store, "ada")


def test_concurrent_creation_of_one_name_lets_exactly_one_win(store: MetadataStore) -> None:
    results, failures = in_threads(6, lambda i: user(store, "Contested" if i % 2 else "contested"))
    assert len(results) == 1
    assert len(failures) == 5
    assert all(isinstance(f, AlreadyExistsError) for f in failures)
    assert store.count_accounts() == 1


def test_concurrent_writers_of_different_rows_all_succeed(store: MetadataStore) -> None:
    def work(i: int) -> int:
        account = user(store, f"writer{i}")
        for n in range(3):
            store.add_token(account, f"t{n}", Role.READ, f"{i:032d}{n:032d}")
        return account

    results, failures = in_threads(8, work)
    assert failures == []
    assert store.count_accounts() == 8
    assert all(len(store.list_tokens(account)) == 3 for account in results)


# --- memberships --------------------------------------------------------------------------------


def test_set_membership_adds_then_changes_the_role(store: MetadataStore) -> None:
    acme = org(store, "acme")
    ada = user(store, "ada")
    store.set_membership(acme, ada, Role.READ)
    store.set_membership(acme, ada, Role.WRITE)
    [membership] = store.memberships_of(ada)
    assert (membership.org.name, membership.user.name, membership.role) == (
        "acme",
        "ada",
        Role.WRITE,
    )
    assert store.members_of(acme) == [membership]


def test_memberships_are_sorted_and_scoped(store: MetadataStore) -> None:
    acme, beta = org(store, "acme"), org(store, "Beta")
    ada, bob = user(store, "ada"), user(store, "Bob")
    store.set_membership(beta, ada, Role.READ)
    store.set_membership(acme, ada, Role.ADMIN)
    store.set_membership(acme, bob, Role.WRITE)
    assert [m.org.name for m in store.memberships_of(ada)] == ["acme", "Beta"]
    assert [(m.user.name, m.role) for m in store.members_of(acme)] == [
        ("ada", Role.ADMIN),
        ("Bob", Role.WRITE),
    ]
    assert store.memberships_of(user(store, "loner")) == []


def test_remove_membership_reports_whether_there_was_one(store: MetadataStore) -> None:
    acme, ada = org(store, "acme"), user(store, "ada")
    store.set_membership(acme, ada, Role.READ)
    assert store.remove_membership(acme, ada) is True
    assert store.remove_membership(acme, ada) is False
    assert store.members_of(acme) == []


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_are_found_by_hash_with_their_user(store: MetadataStore) -> None:
    ada = user(store, "ada")
    record = store.add_token(ada, "ci", Role.WRITE, "f" * 64)
    found = store.find_token("f" * 64)
    assert found is not None
    token, account = found
    assert token == record
    assert (token.name, token.role, token.user_id, token.last_used_at) == (
        "ci",
        Role.WRITE,
        ada,
        None,
    )
    assert account.name == "ada"
    assert store.find_token("e" * 64) is None


def test_a_token_hash_is_unique(store: MetadataStore) -> None:
    ada, bob = user(store, "ada"), user(store, "bob")
    store.add_token(ada, "one", Role.READ, "1" * 64)
    with pytest.raises(AlreadyExistsError):
        store.add_token(bob, "two", Role.READ, "1" * 64)


def test_list_and_delete_tokens_by_name(store: MetadataStore) -> None:
    ada, bob = user(store, "ada"), user(store, "bob")
    store.add_token(ada, "laptop", Role.READ, "1" * 64)
    store.add_token(ada, "ci", Role.WRITE, "2" * 64)
    store.add_token(ada, "laptop", Role.ADMIN, "3" * 64)
    store.add_token(bob, "laptop", Role.READ, "4" * 64)
    assert [t.token_hash[0] for t in store.list_tokens(ada)] == ["1", "2", "3"]
    assert store.delete_token(ada, "laptop") == 2
    assert store.delete_token(ada, "laptop") == 0
    assert [t.name for t in store.list_tokens(ada)] == ["ci"]
    assert [t.name for t in store.list_tokens(bob)] == ["laptop"]


# --- repos --------------------------------------------------------------------------------------


def test_create_repo_starts_with_defaults(store: MetadataStore) -> None:
    created = store.create_repo("space", "ada", "Demo", "key1", True, sdk="gradio")
    assert created == store.get_repo("space", "ada", "Demo")
    assert (created.repo_id, created.storage_key, created.private, created.sdk) == (
        "ada/Demo",
        "key1",
        True,
        "gradio",
    )
    assert (created.gated, created.discussions_disabled, created.head) == (None, False, None)
    assert (created.downloads, created.likes, created.tags, created.card_data) == (0, 0, (), None)
    assert created.created_at.tzinfo is not None


def test_repo_ids_are_case_insensitive_per_type(store: MetadataStore) -> None:
    created = repo(store, "Ada", "Model")
    assert store.get_repo("model", "ada", "model") == created
    assert store.get_repo("dataset", "Ada", "Model") is None
    with pytest.raises(AlreadyExistsError):
        store.create_repo("model", "ADA", "MODEL", "otherkey", False)
    dataset = store.create_repo("dataset", "ada", "model", "datasetkey", False)
    assert dataset.id != created.id


def test_update_repo_changes_columns_and_replaces_tags(store: MetadataStore) -> None:
    created = repo(store, "ada", "m")
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    card = {"license": "mit", "language": ["fr", "日本語"], "nested": {"a": [1, 2.5, None]}}
    updated = store.update_repo(
        created.id,
        head="c" * 40,
        last_modified=when,
        card_data=card,
        library_name="transformers",
        pipeline_tag="text-generation",
        gated="manual",
        tags=["b", "a", "b"],
    )
    assert updated == store.get_repo("model", "ada", "m")
    assert (updated.head, updated.last_modified, updated.card_data) == ("c" * 40, when, card)
    assert (updated.library_name, updated.pipeline_tag, updated.gated) == (
        "transformers",
        "text-generation",
        "manual",
    )
    assert updated.tags == ("a", "b")
    assert store.update_repo(created.id, tags=["z"]).tags == ("z",)
    assert store.update_repo(created.id, tags=[]).tags == ()


def test_move_repo_keeps_a_redirect_from_the_old_id(store: MetadataStore) -> None:
    created = repo(store, "ada", "old", tags=["t"])
    moved = store.move_repo(created.id, "acme", "New")
    assert (moved.id, moved.repo_id, moved.tags) == (created.id, "acme/New", ("t",))
    assert store.get_repo("model", "ada", "old") is None
    assert store.get_repo("model", "ACME", "new") == moved
    assert store.get_redirect("model", "Ada", "OLD") == moved
    assert store.get_redirect("dataset", "ada", "old") is None
    assert store.get_redirect("model", "ada", "never") is None


def test_redirects_follow_a_repo_across_several_moves(store: MetadataStore) -> None:
    created = repo(store, "ada", "one")
    store.move_repo(created.id, "ada", "two")
    final = store.move_repo(created.id, "ada", "three")
    assert store.get_redirect("model", "ada", "one") == final
    assert store.get_redirect("model", "ada", "two") == final
    # Moving back onto an old name drops that redirect.
    back = store.move_repo(created.id, "ada", "one")
    assert store.get_repo("model", "ada", "one") == back
    assert store.get_redirect("model", "ada", "one") is None


def test_move_repo_onto_a_taken_id_fails_and_changes_nothing(store: MetadataStore) -> None:
    first = repo(store, "ada", "first")
    repo(store, "ada", "second")
    with pytest.raises(AlreadyExistsError):
        store.move_repo(first.id, "ada", "SECOND")
    assert store.get_repo("model", "ada", "first") == first
    assert store.get_redirect("model", "ada", "first") is None


def test_creating_a_repo_at_a_redirected_id_replaces_the_redirect(store: MetadataStore) -> None:
    created = repo(store, "ada", "name")
    store.move_repo(created.id, "ada", "renamed")
    fresh = store.create_repo("model", "ada", "name", "freshkey", False)
    assert store.get_repo("model", "ada", "name") == fresh
    assert store.get_redirect("model", "ada", "name") is None


def test_delete_repo_removes_row_tags_and_redirects(store: MetadataStore) -> None:
    created = repo(store, "ada", "gone", tags=["x"])
    store.move_repo(created.id, "ada", "gone2")
    store.delete_repo(created.id)
    assert store.get_repo("model", "ada", "gone2") is None
    assert store.get_redirect("model", "ada", "gone") is None
    assert store.list_repos(RepoQuery(type="model", tags=["x"])) == []
    # The storage key and the id can be used again.
    repo(store, "ada", "gone2")


# --- listings -----------------------------------------------------------------------------------


def ids(records: list[RepoRecord]) -> list[str]:
    return [r.repo_id for r in records]


@pytest.fixture
def catalog(store: MetadataStore) -> MetadataStore:
    """Five models, one dataset, with distinct dates, counters, tags and visibility."""
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = [
        ("ada", "bert-base", False, None, "fill-mask", ["nlp", "en"], 10, 1),
        ("ada", "gpt_tiny", False, "auto", "text-generation", ["nlp"], 30, 5),
        ("acme", "Vision-100%", False, None, "image-classification", ["cv"], 20, 9),
        ("acme", "secret-bert", True, None, "fill-mask", ["nlp"], 50, 0),
        ("bob", "bert-large", True, "manual", None, [], 0, 2),
    ]
    for i, (ns, name, private, gated, pipeline, tags, downloads, likes) in enumerate(rows):
        repo(
            store,
            ns,
            name,
            private=private,
            gated=gated,
            pipeline_tag=pipeline,
            tags=tags,
            downloads=downloads,
            likes=likes,
            created_at=base + dt.timedelta(days=i),
            last_modified=base + dt.timedelta(days=10 - i),
        )
    repo(store, "ada", "bert-data", type="dataset", tags=["nlp"])
    return store


def test_list_repos_defaults_to_newest_first_for_one_type(catalog: MetadataStore) -> None:
    assert ids(catalog.list_repos(RepoQuery(type="model"))) == [
        "bob/bert-large",
        "acme/secret-bert",
        "acme/Vision-100%",
        "ada/gpt_tiny",
        "ada/bert-base",
    ]
    assert ids(catalog.list_repos(RepoQuery(type="dataset"))) == ["ada/bert-data"]
    assert catalog.list_repos(RepoQuery(type="space")) == []


@pytest.mark.parametrize(
    ("sort", "descending", "expected_first"),
    [
        ("created_at", False, "ada/bert-base"),
        ("last_modified", True, "ada/bert-base"),
        ("last_modified", False, "bob/bert-large"),
        ("downloads", True, "acme/secret-bert"),
        ("downloads", False, "bob/bert-large"),
        ("likes", True, "acme/Vision-100%"),
        ("id", False, "acme/secret-bert"),
        ("id", True, "bob/bert-large"),
    ],
)
def test_list_repos_sorts(
    catalog: MetadataStore, sort: str, descending: bool, expected_first: str
) -> None:
    records = catalog.list_repos(RepoQuery(type="model", sort=sort, descending=descending))
    assert len(records) == 5
    assert records[0].repo_id == expected_first


def test_list_repos_filters(catalog: MetadataStore) -> None:
    def query(**kwargs: object) -> list[str]:
        return sorted(ids(catalog.list_repos(RepoQuery(type="model", **kwargs))))  # type: ignore[arg-type]

    assert query(search=["BERT"]) == ["acme/secret-bert", "ada/bert-base", "bob/bert-large"]
    assert query(search=["bert", "ada/"]) == ["ada/bert-base"]
    assert query(search=["100%"]) == ["acme/Vision-100%"]
    # LIKE wildcards in a search are literal characters.
    assert query(search=["_"]) == ["ada/gpt_tiny"]
    assert query(search=["%"]) == ["acme/Vision-100%"]
    assert query(author="ACME") == ["acme/Vision-100%", "acme/secret-bert"]
    assert query(tags=["nlp"]) == ["acme/secret-bert", "ada/bert-base", "ada/gpt_tiny"]
    assert query(tags=["nlp", "en"]) == ["ada/bert-base"]
    assert query(gated=True) == ["ada/gpt_tiny", "bob/bert-large"]
    assert len(query(gated=False)) == 3
    assert query(pipeline_tag="fill-mask") == ["acme/secret-bert", "ada/bert-base"]
    assert query(author="nobody") == []


def test_list_repos_hides_private_repos_outside_visible_namespaces(
    catalog: MetadataStore,
) -> None:
    def visible(namespaces: list[str] | None) -> list[str]:
        records = catalog.list_repos(RepoQuery(type="model", visible_namespaces=namespaces))
        return sorted(ids(records))

    public = ["acme/Vision-100%", "ada/bert-base", "ada/gpt_tiny"]
    assert visible([]) == public
    assert visible(["ACME"]) == sorted([*public, "acme/secret-bert"])
    assert visible(["bob", "acme"]) == sorted([*public, "acme/secret-bert", "bob/bert-large"])
    assert len(visible(None)) == 5


def test_list_repos_pages_with_offset_and_limit(catalog: MetadataStore) -> None:
    everything = ids(catalog.list_repos(RepoQuery(type="model", sort="downloads")))
    pages = [
        ids(catalog.list_repos(RepoQuery(type="model", sort="downloads", offset=o, limit=2)))
        for o in (0, 2, 4, 6)
    ]
    assert pages[0] + pages[1] + pages[2] == everything
    assert [len(p) for p in pages] == [2, 2, 1, 0]


def test_list_repos_breaks_ties_by_id_so_pages_are_stable(store: MetadataStore) -> None:
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i in range(5):
        repo(store, "ada", f"same{i}", created_at=when)
    first = ids(store.list_repos(RepoQuery(type="model", limit=3)))
    second = ids(store.list_repos(RepoQuery(type="model", offset=3, limit=3)))
    assert first + second == [f"ada/same{i}" for i in reversed(range(5))]
