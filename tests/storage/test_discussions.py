"""The `DiscussionStore` and `HubEventLog` contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.discussions import (
    Comment,
    CommentEdit,
    CommitAdded,
    DiscussionEvent,
    DiscussionQuery,
    DiscussionRecord,
    DiscussionSort,
    DiscussionStatus,
    DiscussionType,
    EventKind,
    NewDiscussion,
    StatusChange,
    TitleChange,
)
from hubstead.server.domain.hub_events import HubEventKind
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.discussions import DiscussionStore
from hubstead.server.storage.discussions_sql import SqlDiscussionStore
from hubstead.server.storage.hub_events import HubEventLog
from hubstead.server.storage.hub_events_sql import SqlHubEventLog
from hubstead.server.storage.repos import RepoStore
from tests.storage.test_accounts import in_threads

T0 = dt.datetime(2024, 5, 17, 15, 49, 6, tzinfo=dt.UTC)
OPEN, DRAFT = DiscussionStatus.OPEN, DiscussionStatus.DRAFT
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@dataclasses.dataclass(frozen=True)
class World:
    """Two users, a repo of ada's and one of bob's, and the last hub event of their making."""

    ada: int
    bob: int
    repo: int
    other: int
    start: int


@pytest.fixture
def store(database: Database) -> DiscussionStore:
    return SqlDiscussionStore(database)


@pytest.fixture
def outbox(database: Database) -> HubEventLog:
    return SqlHubEventLog(database)


@pytest.fixture
def world(accounts: AccountStore, repos: RepoStore, outbox: HubEventLog) -> World:
    ada = accounts.create_account("ada", AccountKind.USER, "Ada", None, False).id
    bob = accounts.create_account("bob", AccountKind.USER, "Bob", None, False).id
    repo = repos.create_repo("model", "ada", "demo", "key-demo", False).id
    other = repos.create_repo("dataset", "bob", "data", "key-data", False).id
    start = outbox.list_events(0, 10)[-1].id  # the repos' `repo.create`
    return World(ada, bob, repo, other, start)


def discussion(
    author: int,
    title: str = "A question",
    *,
    description: str | None = "Why?",
    when: dt.datetime = T0,
) -> NewDiscussion:
    return NewDiscussion(title, author, False, OPEN, None, description, when)


def pull_request(author: int, title: str = "Add weights", when: dt.datetime = T0) -> NewDiscussion:
    return NewDiscussion(title, author, True, DRAFT, "main", None, when)


def timeline(store: DiscussionStore, repo_id: int, num: int) -> list[DiscussionEvent]:
    events = store.events(repo_id, num)
    assert events is not None
    return events


def comment_of(event: DiscussionEvent | None) -> Comment:
    assert event is not None and isinstance(event.detail, Comment)
    return event.detail


def test_a_discussion_records_its_author_and_opens_with_its_description(
    store: DiscussionStore, world: World
) -> None:
    created = store.create(world.repo, discussion(world.ada, "Licence?", description="Which one?"))

    assert created == DiscussionRecord(
        created.id,
        world.repo,
        1,
        "Licence?",
        world.ada,
        "ada",
        False,
        OPEN,
        T0,
        T0,
        None,
        None,
        comments=1,  # the description
    )
    assert created.git_ref is None
    assert store.get(world.repo, 1) == created
    events = timeline(store, world.repo, 1)
    assert [event.kind for event in events] == [EventKind.COMMENT]
    assert (events[0].author_name, events[0].created_at) == ("ada", T0)
    assert events[0].detail == Comment("Which one?", False, 0, T0)


def test_a_pull_request_has_a_ref_a_target_and_may_open_without_a_comment(
    store: DiscussionStore, world: World
) -> None:
    created = store.create(world.repo, pull_request(world.bob))

    assert (created.is_pull_request, created.status, created.target_branch) == (True, DRAFT, "main")
    assert created.git_ref == "refs/pr/1"
    assert store.events(world.repo, 1) == []


def test_discussions_and_pull_requests_share_one_sequence_per_repo(
    store: DiscussionStore, world: World
) -> None:
    nums = [
        store.create(world.repo, discussion(world.ada)).num,
        store.create(world.repo, pull_request(world.ada)).num,
        store.create(world.other, pull_request(world.bob)).num,
        store.create(world.repo, discussion(world.bob)).num,
    ]

    assert nums == [1, 2, 1, 3]
    assert store.get(world.repo, 4) is None
    assert store.get(world.other, 2) is None


def test_concurrent_creators_get_distinct_consecutive_numbers(
    store: DiscussionStore, world: World
) -> None:
    count = 12

    created, failures = in_threads(
        count,
        lambda i: store.create(world.repo, discussion(world.ada, f"Thread {i}", when=at(i))),
    )

    assert failures == []
    assert sorted(record.num for record in created) == list(range(1, count + 1))
    for record in created:
        assert store.get(world.repo, record.num) == record
    assert store.list(world.repo, DiscussionQuery(limit=100)).total == count


def test_listing_filters_by_type_status_author_and_title(
    store: DiscussionStore, world: World
) -> None:
    store.create(world.repo, discussion(world.ada, "Licence question"))
    store.create(world.repo, pull_request(world.bob, "Fix the LICENCE file"))
    store.create(world.repo, discussion(world.bob, "100% accuracy?"))
    store.create(world.other, discussion(world.ada, "Licence of the data"))
    store.change_status(world.repo, 1, DiscussionStatus.CLOSED, world.ada, at(1))

    def nums(**filters: Any) -> list[int]:
        page = store.list(world.repo, DiscussionQuery(**filters))
        assert page.total == len(page.discussions)
        return [record.num for record in page.discussions]

    assert nums() == [3, 2, 1]
    assert nums(type=DiscussionType.PULL_REQUEST) == [2]
    assert nums(type=DiscussionType.DISCUSSION) == [3, 1]
    assert nums(statuses=frozenset({OPEN, DRAFT})) == [3, 2]
    assert nums(statuses=frozenset({DiscussionStatus.CLOSED})) == [1]
    assert nums(author_id=world.bob) == [3, 2]
    assert nums(search="licence") == [2, 1]
    assert nums(search="100%") == [3]
    assert nums(search="%") == [3]
    assert nums(search="_") == []
    assert nums(type=DiscussionType.DISCUSSION, author_id=world.ada, search="LICENCE") == [1]


def test_listing_pages_through_the_threads_with_the_total_count(
    store: DiscussionStore, world: World
) -> None:
    for i in range(7):
        store.create(world.repo, discussion(world.ada, f"Thread {i}", when=at(i)))

    pages = [
        store.list(world.repo, DiscussionQuery(offset=offset, limit=3)) for offset in (0, 3, 6)
    ]

    assert [[record.num for record in page.discussions] for page in pages] == [
        [7, 6, 5],
        [4, 3, 2],
        [1],
    ]
    assert {page.total for page in pages} == {7}
    past_end = store.list(world.repo, DiscussionQuery(offset=9, limit=3))
    assert (past_end.discussions, past_end.total) == ((), 7)


def test_recently_updated_puts_the_thread_with_the_newest_event_first(
    store: DiscussionStore, world: World
) -> None:
    for i in range(3):
        store.create(world.repo, discussion(world.ada, f"Thread {i}", when=at(i)))
    store.add_comment(world.repo, 1, world.bob, "Bump", at(10))

    updated = store.list(world.repo, DiscussionQuery(sort=DiscussionSort.RECENTLY_UPDATED))
    created = store.list(world.repo, DiscussionQuery(sort=DiscussionSort.RECENTLY_CREATED))

    assert [record.num for record in updated.discussions] == [1, 3, 2]
    assert [record.num for record in created.discussions] == [3, 2, 1]
    assert updated.discussions[0].updated_at == at(10)


def test_a_timeline_lists_every_kind_of_event_in_order(
    store: DiscussionStore, world: World
) -> None:
    store.create(world.repo, NewDiscussion("Add weights", world.bob, True, DRAFT, "main", "Hi", T0))

    store.add_commit(world.repo, 1, COMMIT, "Upload model.safetensors", world.bob, at(1))
    store.change_status(world.repo, 1, OPEN, world.bob, at(2))
    store.rename(world.repo, 1, "Add the weights", world.ada, at(3))
    store.add_comment(world.repo, 1, world.ada, "Thanks!", at(4))
    merge = "a" * 40
    store.change_status(world.repo, 1, DiscussionStatus.MERGED, world.ada, at(5), merge)

    events = timeline(store, world.repo, 1)
    assert [(event.author_name, event.created_at, event.detail) for event in events] == [
        ("bob", T0, Comment("Hi", False, 0, T0)),
        ("bob", at(1), CommitAdded(COMMIT, "Upload model.safetensors")),
        ("bob", at(2), StatusChange(OPEN)),
        ("ada", at(3), TitleChange("Add weights", "Add the weights")),
        ("ada", at(4), Comment("Thanks!", False, 0, at(4))),
        ("ada", at(5), StatusChange(DiscussionStatus.MERGED)),
    ]
    assert len({event.id for event in events}) == len(events)
    merged = store.get(world.repo, 1)
    assert merged is not None
    assert (merged.title, merged.status, merged.merge_commit_id) == (
        "Add the weights",
        "merged",
        merge,
    )
    assert merged.updated_at == at(5)


def test_each_change_returns_the_event_it_appended(store: DiscussionStore, world: World) -> None:
    store.create(world.repo, discussion(world.ada))

    comment = store.add_comment(world.repo, 1, world.bob, "Me too", at(1))
    closed = store.change_status(world.repo, 1, DiscussionStatus.CLOSED, world.ada, at(2))

    assert timeline(store, world.repo, 1)[-2:] == [comment, closed]
    assert closed is not None and closed.kind is EventKind.STATUS_CHANGE


def test_editing_a_comment_keeps_its_earlier_contents(store: DiscussionStore, world: World) -> None:
    store.create(world.repo, discussion(world.ada, description="Frist"))
    first = timeline(store, world.repo, 1)[0]

    store.edit_comment(world.repo, 1, first.id, "First", at(1))
    edited = store.edit_comment(world.repo, 1, first.id, "First!", at(2))

    history = (CommentEdit("Frist", T0), CommentEdit("First", at(1)))
    assert comment_of(edited) == Comment("First!", False, 2, at(2), history)
    assert store.events(world.repo, 1) == [edited]
    assert edited is not None and edited.created_at == T0
    thread = store.get(world.repo, 1)
    assert thread is not None and thread.updated_at == at(2)


def test_hiding_a_comment_erases_its_content_and_history_for_good(
    store: DiscussionStore, world: World
) -> None:
    store.create(world.repo, discussion(world.ada, description="Spam"))
    first = timeline(store, world.repo, 1)[0]
    store.edit_comment(world.repo, 1, first.id, "More spam", at(1))

    hidden = store.hide_comment(world.repo, 1, first.id, world.bob, at(2))

    assert comment_of(hidden) == Comment("", True, 1, at(2), hidden_by="bob")
    assert store.edit_comment(world.repo, 1, first.id, "Back again", at(3)) is None
    assert store.hide_comment(world.repo, 1, first.id, world.bob, at(4)) == hidden
    assert store.events(world.repo, 1) == [hidden]


def test_changes_to_what_does_not_exist_change_nothing(
    store: DiscussionStore, outbox: HubEventLog, world: World
) -> None:
    store.create(world.repo, discussion(world.ada))
    store.create(world.other, discussion(world.bob))
    status = store.change_status(world.repo, 1, DiscussionStatus.CLOSED, world.ada, at(1))
    assert status is not None
    comment = timeline(store, world.other, 1)[0]
    before = (
        store.events(world.repo, 1),
        store.events(world.other, 1),
        outbox.list_events(world.start, 99),
    )

    assert store.events(world.repo, 2) is None
    assert store.add_comment(world.repo, 2, world.ada, "Hello?", at(2)) is None
    assert store.change_status(world.repo, 2, OPEN, world.ada, at(2)) is None
    assert store.rename(world.repo, 2, "New title", world.ada, at(2)) is None
    assert store.add_commit(world.repo, 2, COMMIT, "Commit", world.ada, at(2)) is None
    # A comment of another thread, and an event that is not a comment.
    assert store.edit_comment(world.repo, 1, comment.id, "Mine now", at(2)) is None
    assert store.hide_comment(world.repo, 1, comment.id, world.ada, at(2)) is None
    assert store.edit_comment(world.repo, 1, status.id, "Text", at(2)) is None
    assert store.hide_comment(world.repo, 1, status.id, world.ada, at(2)) is None

    after = (
        store.events(world.repo, 1),
        store.events(world.other, 1),
        outbox.list_events(world.start, 99),
    )
    assert after == before


def test_every_change_is_recorded_as_a_hub_event_in_order(
    store: DiscussionStore, outbox: HubEventLog, world: World
) -> None:
    store.create(world.repo, discussion(world.ada, "Question"))
    comment = store.add_comment(world.repo, 1, world.bob, "Answer", at(1))
    assert comment is not None
    store.edit_comment(world.repo, 1, comment.id, "Better answer", at(2))
    store.hide_comment(world.repo, 1, comment.id, world.ada, at(3))
    renamed = store.rename(world.repo, 1, "Answered", world.ada, at(4))
    closed = store.change_status(world.repo, 1, DiscussionStatus.CLOSED, world.ada, at(5))
    pr = store.create(world.other, pull_request(world.bob, when=at(6)))
    pushed = store.add_commit(world.other, 1, COMMIT, "Upload", world.bob, at(7))
    assert renamed is not None and closed is not None and pushed is not None

    events = outbox.list_events(world.start, 100)

    first_comment = timeline(store, world.repo, 1)[0].id
    assert [
        (e.kind, e.repo_id, e.discussion_num, e.actor_id, e.payload, e.created_at) for e in events
    ] == [
        (
            HubEventKind.DISCUSSION_CREATE,
            world.repo,
            1,
            world.ada,
            {
                "title": "Question",
                "is_pull_request": False,
                "status": "open",
                "event_id": first_comment,
            },
            T0,
        ),
        (HubEventKind.COMMENT_CREATE, world.repo, 1, world.bob, {"event_id": comment.id}, at(1)),
        (
            HubEventKind.COMMENT_UPDATE,
            world.repo,
            1,
            world.bob,
            {"event_id": comment.id, "change": "edit"},
            at(2),
        ),
        (
            HubEventKind.COMMENT_UPDATE,
            world.repo,
            1,
            world.ada,
            {"event_id": comment.id, "change": "hide"},
            at(3),
        ),
        (
            HubEventKind.DISCUSSION_UPDATE,
            world.repo,
            1,
            world.ada,
            {"event_id": renamed.id, "title": "Answered"},
            at(4),
        ),
        (
            HubEventKind.DISCUSSION_UPDATE,
            world.repo,
            1,
            world.ada,
            {"event_id": closed.id, "status": "closed"},
            at(5),
        ),
        (
            HubEventKind.DISCUSSION_CREATE,
            world.other,
            pr.num,
            world.bob,
            {"title": "Add weights", "is_pull_request": True, "status": "draft"},
            at(6),
        ),
        (
            HubEventKind.DISCUSSION_UPDATE,
            world.other,
            1,
            world.bob,
            {"event_id": pushed.id, "commit_id": COMMIT},
            at(7),
        ),
    ]


def test_a_merge_is_recorded_with_its_commit(
    store: DiscussionStore, outbox: HubEventLog, world: World
) -> None:
    store.create(world.repo, pull_request(world.bob))
    merged = store.change_status(world.repo, 1, DiscussionStatus.MERGED, world.ada, at(1), COMMIT)
    assert merged is not None

    (_, event) = outbox.list_events(world.start, 10)

    assert event.payload == {"event_id": merged.id, "status": "merged", "merge_commit_id": COMMIT}


def test_the_outbox_is_read_a_page_at_a_time_after_the_last_id_seen(
    store: DiscussionStore, outbox: HubEventLog, world: World
) -> None:
    store.create(world.repo, discussion(world.ada))
    for i in range(4):
        store.add_comment(world.repo, 1, world.bob, f"Comment {i}", at(i))
    everything = outbox.list_events(world.start, 100)

    first = outbox.list_events(world.start, 2)
    second = outbox.list_events(first[-1].id, 2)
    last = outbox.list_events(second[-1].id, 2)

    assert first + second + last == everything
    assert len(everything) == 5
    assert outbox.list_events(everything[-1].id, 2) == []


def test_concurrent_changes_each_record_one_hub_event(
    store: DiscussionStore, outbox: HubEventLog, world: World
) -> None:
    store.create(world.repo, discussion(world.ada))
    count = 10

    comments, failures = in_threads(
        count, lambda i: store.add_comment(world.repo, 1, world.bob, f"Comment {i}", at(i))
    )

    assert failures == []
    recorded = outbox.list_events(world.start, 100)[1:]
    assert {e.payload["event_id"] for e in recorded} == {c.id for c in comments if c}
    assert len(recorded) == count


def test_threads_go_with_their_repo_and_survive_a_move(
    store: DiscussionStore, outbox: HubEventLog, repos: RepoStore, world: World
) -> None:
    store.create(world.repo, discussion(world.ada))
    store.create(world.repo, pull_request(world.ada))
    kept = store.create(world.other, discussion(world.bob))
    moved = repos.move_repo(world.repo, "ada", "renamed")
    assert [record.num for record in store.list(moved.id, DiscussionQuery()).discussions] == [2, 1]
    recorded = outbox.list_events(world.start, 100)

    repos.delete_repo(world.repo)

    assert store.get(world.repo, 1) is None
    assert store.events(world.repo, 1) is None
    assert store.list(world.repo, DiscussionQuery()).total == 0
    assert store.get(world.other, 1) == kept
    *kept_events, deleted = outbox.list_events(world.start, 100)
    assert kept_events == recorded
    assert (deleted.kind, deleted.repo_name) == (HubEventKind.REPO_DELETE, "ada/renamed")
    again = repos.create_repo("model", "ada", "demo", "key-demo-2", False).id
    assert store.create(again, discussion(world.ada)).num == 1


def test_a_deleted_authors_threads_and_events_remain_without_an_author(
    store: DiscussionStore, accounts: AccountStore, world: World
) -> None:
    store.create(world.repo, discussion(world.bob, description="From bob"))
    store.add_comment(world.repo, 1, world.ada, "From ada", at(1))
    store.add_commit(world.repo, 1, COMMIT, "Bob's commit", world.bob, at(2))

    accounts.delete_account(world.bob, with_repos=True)

    thread = store.get(world.repo, 1)
    events = timeline(store, world.repo, 1)
    assert thread is not None and (thread.author_id, thread.author_name) == (None, None)
    assert [(event.author_id, event.author_name) for event in events] == [
        (None, None),
        (world.ada, "ada"),
        (None, None),
    ]
    assert store.list(world.repo, DiscussionQuery()).discussions == (thread,)


def test_an_event_keeps_the_names_of_its_repo_and_actor_after_their_ids_are_given_again(
    store: DiscussionStore,
    outbox: HubEventLog,
    world: World,
    accounts: AccountStore,
    repos: RepoStore,
) -> None:
    newcomer = accounts.create_account("cyd", AccountKind.USER, "Cyd", None, False).id
    later = repos.create_repo("space", "cyd", "later", "key-later", False).id
    store.create(later, discussion(newcomer, "From the first owner"))
    repos.delete_repo(later)
    accounts.delete_account(newcomer, with_repos=True)
    # SQLite gives the newest row's id again once it is deleted: the event must still say whose.
    repos.create_repo("model", "ada", "reused", "key-reused", False)

    (event,) = [e for e in outbox.list_events(0, 10) if e.kind is HubEventKind.DISCUSSION_CREATE]

    assert (event.repo_type, event.repo_name, event.actor_name) == ("space", "cyd/later", "cyd")
    assert (event.repo_id, event.actor_id) == (later, newcomer)
