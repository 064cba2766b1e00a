"""The `RepoStore` contract (rows, tags, redirects, listings), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.hub_events import HubEventKind, HubEventRecord
from hubstead.server.domain.repos import RepoQuery, RepoRecord, TagUsage
from hubstead.server.storage.db import Database
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.hub_events_sql import SqlHubEventLog
from hubstead.server.storage.repos import RepoStore


def repo(
    repos: RepoStore,
    namespace: str,
    name: str,
    *,
    type: str = "model",
    private: bool = False,
    **values: object,
) -> RepoRecord:
    record = repos.create_repo(
        type, namespace, name, f"{type}{namespace}{name}".replace("-", ""), private
    )
    return repos.update_repo(record.id, **values) if values else record


def test_create_repo_starts_with_defaults(repos: RepoStore) -> None:
    created = repos.create_repo("space", "ada", "Demo", "key1", True, sdk="gradio")
    assert created == repos.get_repo("space", "ada", "Demo")
    assert (created.repo_id, created.storage_key, created.private, created.sdk) == (
        "ada/Demo",
        "key1",
        True,
        "gradio",
    )
    assert (created.gated, created.discussions_disabled, created.head) == (None, False, None)
    assert (created.downloads, created.likes, created.tags, created.card_data) == (0, 0, (), None)
    assert created.created_at.tzinfo is not None


def test_repo_ids_are_case_insensitive_per_type(repos: RepoStore) -> None:
    created = repo(repos, "Ada", "Model")
    assert repos.get_repo("model", "ada", "model") == created
    assert repos.get_repo("dataset", "Ada", "Model") is None
    with pytest.raises(AlreadyExistsError):
        repos.create_repo("model", "ADA", "MODEL", "otherkey", False)
    dataset = repos.create_repo("dataset", "ada", "model", "datasetkey", False)
    assert dataset.id != created.id


def test_update_repo_changes_columns_and_replaces_tags(repos: RepoStore) -> None:
    created = repo(repos, "ada", "m")
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    card = {"license": "mit", "language": ["fr", "日本語"], "nested": {"a": [1, 2.5, None]}}
    updated = repos.update_repo(
        created.id,
        head="c" * 40,
        last_modified=when,
        card_data=card,
        library_name="transformers",
        pipeline_tag="text-generation",
        gated="manual",
        tags=["b", "a", "b"],
    )
    assert updated == repos.get_repo("model", "ada", "m")
    assert (updated.head, updated.last_modified, updated.card_data) == ("c" * 40, when, card)
    assert (updated.library_name, updated.pipeline_tag, updated.gated) == (
        "transformers",
        "text-generation",
        "manual",
    )
    assert updated.tags == ("a", "b")
    assert repos.update_repo(created.id, tags=["z"]).tags == ("z",)
    assert repos.update_repo(created.id, tags=[]).tags == ()


def test_move_repo_keeps_a_redirect_from_the_old_id(repos: RepoStore) -> None:
    created = repo(repos, "ada", "old", tags=["t"])
    moved = repos.move_repo(created.id, "acme", "New")
    assert (moved.id, moved.repo_id, moved.tags) == (created.id, "acme/New", ("t",))
    assert repos.get_repo("model", "ada", "old") is None
    assert repos.get_repo("model", "ACME", "new") == moved
    assert repos.get_redirect("model", "Ada", "OLD") == moved
    assert repos.get_redirect("dataset", "ada", "old") is None
    assert repos.get_redirect("model", "ada", "never") is None


def test_redirects_follow_a_repo_across_several_moves(repos: RepoStore) -> None:
    created = repo(repos, "ada", "one")
    repos.move_repo(created.id, "ada", "two")
    final = repos.move_repo(created.id, "ada", "three")
    assert repos.get_redirect("model", "ada", "one") == final
    assert repos.get_redirect("model", "ada", "two") == final
    # Moving back onto an old name drops that redirect.
    back = repos.move_repo(created.id, "ada", "one")
    assert repos.get_repo("model", "ada", "one") == back
    assert repos.get_redirect("model", "ada", "one") is None


def test_move_repo_onto_a_taken_id_fails_and_changes_nothing(repos: RepoStore) -> None:
    first = repo(repos, "ada", "first")
    repo(repos, "ada", "second")
    with pytest.raises(AlreadyExistsError):
        repos.move_repo(first.id, "ada", "SECOND")
    assert repos.get_repo("model", "ada", "first") == first
    assert repos.get_redirect("model", "ada", "first") is None


def test_creating_a_repo_at_a_redirected_id_replaces_the_redirect(repos: RepoStore) -> None:
    created = repo(repos, "ada", "name")
    repos.move_repo(created.id, "ada", "renamed")
    fresh = repos.create_repo("model", "ada", "name", "freshkey", False)
    assert repos.get_repo("model", "ada", "name") == fresh
    assert repos.get_redirect("model", "ada", "name") is None


def test_spaces_are_found_by_their_spelled_host_label(repos: RepoStore) -> None:
    first = repo(repos, "Team_A", "My.App", type="space")
    second = repo(repos, "team-a", "my-app", type="space")
    repo(repos, "team", "a-my-app")  # a model: never a host
    other = repo(repos, "team", "other", type="space")
    assert repos.spaces_by_host_label("team-a-my-app") == [first, second]
    assert repos.spaces_by_host_label("team-other") == [other]
    assert repos.spaces_by_host_label("team-a-my") == []
    assert repos.spaces_by_host_label("team_a-my.app") == []
    # Moves and deletions change what a label finds.
    moved = repos.move_repo(first.id, "team", "moved")
    assert repos.spaces_by_host_label("team-a-my-app") == [second]
    assert repos.spaces_by_host_label("team-moved") == [moved]
    repos.delete_repo(second.id)
    assert repos.spaces_by_host_label("team-a-my-app") == []


def test_a_space_host_label_is_found_by_one_indexed_statement(
    repos: RepoStore, database: Database
) -> None:
    # The lookup of every request to a Space host: not a scan of every Space, however many.
    space = repo(repos, "team", "app", type="space", tags=["gradio"])
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", seen)
    try:
        assert repos.spaces_by_host_label("team-app") == [space]
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", seen)
    [statement] = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert "ix_repos_space_host" in _plan(database, statement, "team-app")


def _plan(database: Database, statement: str, label: str) -> str:
    """The database's plan of the host label lookup `statement` (its one parameter `label`)."""
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", (label,)).all()
            return "\n".join(str(row[-1]) for row in rows)
        # On a table this small PostgreSQL would scan: the plan it has for a large one.
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", {"space_host_1": label}).all()
        return "\n".join(str(row[0]) for row in rows)


def test_delete_repo_removes_row_tags_and_redirects(repos: RepoStore) -> None:
    created = repo(repos, "ada", "gone", tags=["x"])
    repos.move_repo(created.id, "ada", "gone2")
    repos.delete_repo(created.id)
    assert repos.get_repo("model", "ada", "gone2") is None
    assert repos.get_redirect("model", "ada", "gone") is None
    assert repos.list_repos(RepoQuery(type="model", tags=["x"])) == []
    # The storage key and the id can be used again.
    repo(repos, "ada", "gone2")


# --- hub events ---------------------------------------------------------------------------------


def events(database: Database, after: int = 0) -> list[HubEventRecord]:
    return SqlHubEventLog(database).list_events(after, 100)


def test_settings_record_only_what_changed(repos: RepoStore, database: Database) -> None:
    created = repo(repos, "ada", "settings")
    start = events(database)[-1].id

    same = repos.update_settings(created.id, None, private=False, gated=None)
    updated = repos.update_settings(
        created.id, None, private=True, gated="manual", discussions_disabled=False
    )
    repos.update_settings(created.id, None, gated=None)

    assert same == created
    assert (updated.private, updated.gated, updated.discussions_disabled) == (True, "manual", False)
    assert [(e.kind, e.payload) for e in events(database, start)] == [
        (
            HubEventKind.REPO_CONFIG,
            {"private": True, "updatedConfig": {"private": True, "gated": "manual"}},
        ),
        (HubEventKind.REPO_CONFIG, {"private": True, "updatedConfig": {"gated": False}}),
    ]


def test_recording_refs_refreshes_the_row_with_the_event(
    repos: RepoStore, database: Database
) -> None:
    created = repo(repos, "ada", "refs", private=True)
    start = events(database)[-1].id
    moves = [
        RefUpdate("refs/heads/main", "a" * 40, "b" * 40),
        RefUpdate("refs/pr/1", None, "c" * 40),
    ]

    recorded = repos.record_refs(created.id, moves, "b" * 40, None, {"head": "b" * 40})

    assert recorded.head == "b" * 40
    (event,) = events(database, start)
    assert (event.kind, event.repo_name, event.actor_id) == (
        HubEventKind.REPO_CONTENT,
        "ada/refs",
        None,
    )
    assert event.payload == {
        "private": True,
        "headSha": "b" * 40,
        "updatedRefs": [
            {"ref": "refs/heads/main", "oldSha": "a" * 40, "newSha": "b" * 40},
            {"ref": "refs/pr/1", "oldSha": None, "newSha": "c" * 40},
        ],
    }


def test_a_moved_then_deleted_repo_is_named_as_it_was_in_each_event(
    repos: RepoStore, database: Database
) -> None:
    created = repo(repos, "ada", "before")
    repos.update_repo(created.id, head="d" * 40)
    start = events(database)[-1].id

    repos.move_repo(created.id, "ada", "after")
    repos.delete_repo(created.id)
    repos.delete_repo(created.id)  # gone already: nothing to record

    assert [(e.kind, e.repo_name, e.payload) for e in events(database, start)] == [
        (HubEventKind.REPO_MOVE, "ada/before", {"private": False, "movedTo": "ada/after"}),
        (HubEventKind.REPO_DELETE, "ada/after", {"private": False, "headSha": "d" * 40}),
    ]


def test_a_refused_create_or_move_records_nothing(repos: RepoStore, database: Database) -> None:
    created = repo(repos, "ada", "one")
    repo(repos, "ada", "two")
    start = events(database)[-1].id

    with pytest.raises(AlreadyExistsError):
        repos.create_repo("model", "ada", "one", "otherkey", False)
    with pytest.raises(AlreadyExistsError):
        repos.move_repo(created.id, "ada", "two")

    assert events(database, start) == []


# --- listings -----------------------------------------------------------------------------------


def ids(records: list[RepoRecord]) -> list[str]:
    return [r.repo_id for r in records]


@pytest.fixture
def catalog(repos: RepoStore) -> RepoStore:
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
            repos,
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
    repo(repos, "ada", "bert-data", type="dataset", tags=["nlp"])
    return repos


def test_list_repos_defaults_to_newest_first_for_one_type(catalog: RepoStore) -> None:
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
    catalog: RepoStore, sort: str, descending: bool, expected_first: str
) -> None:
    records = catalog.list_repos(RepoQuery(type="model", sort=sort, descending=descending))
    assert len(records) == 5
    assert records[0].repo_id == expected_first


def test_list_repos_filters(catalog: RepoStore) -> None:
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
    catalog: RepoStore,
) -> None:
    def visible(namespaces: list[str] | None) -> list[str]:
        records = catalog.list_repos(RepoQuery(type="model", visible_namespaces=namespaces))
        return sorted(ids(records))

    public = ["acme/Vision-100%", "ada/bert-base", "ada/gpt_tiny"]
    assert visible([]) == public
    assert visible(["ACME"]) == sorted([*public, "acme/secret-bert"])
    assert visible(["bob", "acme"]) == sorted([*public, "acme/secret-bert", "bob/bert-large"])
    assert len(visible(None)) == 5


def test_tag_usage_reads_the_visible_repos_of_one_type(catalog: RepoStore) -> None:
    catalog.update_repo(catalog.list_repos(RepoQuery(type="model"))[0].id, library_name="peft")

    assert catalog.tag_usage("model", []) == TagUsage(
        tags=frozenset({"nlp", "en", "cv"}),
        pipeline_tags=frozenset({"fill-mask", "text-generation", "image-classification"}),
        libraries=frozenset(),
    )
    assert catalog.tag_usage("model", ["BOB"]).libraries == {"peft"}  # bob/bert-large's
    assert catalog.tag_usage("dataset", None) == TagUsage(
        frozenset({"nlp"}), frozenset(), frozenset()
    )
    assert catalog.tag_usage("space", None) == TagUsage(frozenset(), frozenset(), frozenset())


def test_list_repos_pages_with_offset_and_limit(catalog: RepoStore) -> None:
    everything = ids(catalog.list_repos(RepoQuery(type="model", sort="downloads")))
    pages = [
        ids(catalog.list_repos(RepoQuery(type="model", sort="downloads", offset=o, limit=2)))
        for o in (0, 2, 4, 6)
    ]
    assert pages[0] + pages[1] + pages[2] == everything
    assert [len(p) for p in pages] == [2, 2, 1, 0]


def test_list_repos_breaks_ties_by_id_so_pages_are_stable(repos: RepoStore) -> None:
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i in range(5):
        repo(repos, "ada", f"same{i}", created_at=when)
    first = ids(repos.list_repos(RepoQuery(type="model", limit=3)))
    second = ids(repos.list_repos(RepoQuery(type="model", offset=3, limit=3)))
    assert first + second == [f"ada/same{i}" for i in reversed(range(5))]
