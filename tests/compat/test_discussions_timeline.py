"""A thread's timeline as the official client reads it, and the hub events every change records."""

from __future__ import annotations

from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.community import (
    DiscussionComment,
    DiscussionCommit,
    DiscussionStatusChange,
    DiscussionTitleChange,
)
from huggingface_hub.errors import BadRequestError

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.hub_events import HubEventKind, HubEventRecord
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.hub_events import events_of, last_event_id, refs_payload, repo_key
from tests.helpers.live_server import LiveServer
from tests.helpers.pull_requests import commit_to_pull_request


def comment(api: HfApi, repo: str, num: int, index: int = 0) -> DiscussionComment:
    event = api.get_discussion_details(repo, num).events[index]
    assert isinstance(event, DiscussionComment)
    return event


def test_an_edited_comment_keeps_its_history(user: HubUser, repo: str) -> None:
    thread = user.api.create_discussion(repo, title="Question", description="first")
    first = comment(user.api, repo, thread.num)

    user.api.edit_discussion_comment(repo, thread.num, first.id, "second")
    edited = user.api.edit_discussion_comment(repo, thread.num, first.id, "third")

    for found in (edited, comment(user.api, repo, thread.num)):
        assert found.id == first.id
        assert found.content == "third"
        assert found.edited is True
        assert found.hidden is False
        assert found.number_of_edits == 2
        assert [entry["raw"] for entry in found.edit_history] == ["first", "second"]
        assert found.last_edited_by == user.name
        assert found.rendered == "<p>third</p>\n"


def test_a_hidden_comment_loses_its_content_and_history_for_good(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    thread = other_user.api.create_discussion(repo, title="Spam", description="buy now")
    first = comment(user.api, repo, thread.num)
    other_user.api.edit_discussion_comment(repo, thread.num, first.id, "buy now!!")

    with pytest.warns(UserWarning, match="Hiding a comment is irreversible"):
        hidden = user.api.hide_discussion_comment(repo, thread.num, first.id)

    for found in (hidden, comment(other_user.api, repo, thread.num)):
        assert found.hidden is True
        assert found.content == ""
        assert found.rendered == ""
        assert found.edit_history == []
        assert found.author == other_user.name
    with pytest.raises(BadRequestError, match="A hidden comment cannot be edited"):
        other_user.api.edit_discussion_comment(repo, thread.num, first.id, "back again")


def test_renames_status_changes_and_commits_are_events(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    pr = user.api.create_pull_request(repo, title="Old title")
    commit = commit_to_pull_request(user, repo, pr.num, {"a.txt": b"a\n"})

    renamed = user.api.rename_discussion(repo, pr.num, "New title")
    opened = user.api.change_discussion_status(repo, pr.num, "open")
    closed = user.api.change_discussion_status(repo, pr.num, "closed", comment="Not now")
    reopened = user.api.change_discussion_status(repo, pr.num, "open")

    assert (renamed.old_title, renamed.new_title) == ("Old title", "New title")
    assert [opened.new_status, closed.new_status, reopened.new_status] == ["open", "closed", "open"]
    events = user.api.get_discussion_details(repo, pr.num).events
    assert [type(e) for e in events] == [
        DiscussionComment,  # the description
        DiscussionCommit,
        DiscussionTitleChange,
        DiscussionStatusChange,
        DiscussionStatusChange,
        DiscussionComment,  # the closing comment, after the change
        DiscussionStatusChange,
    ]
    assert isinstance(events[1], DiscussionCommit)
    assert (events[1].oid, events[1].summary) == (commit, "change on the pull request")
    assert isinstance(events[5], DiscussionComment)
    assert events[5].content == "Not now"
    assert [e.id for e in events[2:5]] == [renamed.id, opened.id, closed.id]
    assert all(e.author == user.name for e in events)
    assert user.api.get_discussion_details(repo, pr.num).title == "New title"


def test_a_deleted_authors_threads_and_comments_read_as_deleted(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    leaver = make_user(live_server, "leaver")
    thread = leaver.api.create_discussion(repo, title="From someone leaving")
    leaver.api.comment_discussion(repo, thread.num, "bye")
    user.api.comment_discussion(repo, thread.num, "see you")

    live_server.services.auth.delete_account(leaver.name, AccountKind.USER)

    found = user.api.get_discussion_details(repo, thread.num)
    assert found.author == "deleted"
    assert [e.author for e in found.events] == ["deleted", "deleted", user.name]
    [listed] = user.api.get_repo_discussions(repo)
    assert listed.author == "deleted"
    user.api.comment_discussion(repo, thread.num, "the thread lives on")


# --- the outbox ------------------------------------------------------------------------------


def summary(event: HubEventRecord) -> tuple[str, int | None, dict[str, Any]]:
    payload = {k: v for k, v in event.payload.items() if k != "event_id"}
    return event.kind.value, event.discussion_num, payload


def test_every_change_records_a_hub_event(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    account = live_server.services.auth.get_account(user.name, AccountKind.USER)
    start = last_event_id(live_server)
    discussion = other_user.api.create_discussion(repo, title="Question", description="Why?")
    first = comment(user.api, repo, discussion.num)
    other_user.api.comment_discussion(repo, discussion.num, "Anyone?")
    other_user.api.edit_discussion_comment(repo, discussion.num, first.id, "Why, really?")
    with pytest.warns(UserWarning, match="irreversible"):
        user.api.hide_discussion_comment(repo, discussion.num, first.id)
    user.api.rename_discussion(repo, discussion.num, "A better title")
    user.api.change_discussion_status(repo, discussion.num, "closed")
    base = user.api.repo_info(repo).sha
    pr = user.api.create_pull_request(repo, title="Fix")
    commit = commit_to_pull_request(user, repo, pr.num, {"fix.txt": b"fix\n"})
    user.api.change_discussion_status(repo, pr.num, "open")
    user.api.merge_pull_request(repo, pr.num)

    events = events_of(live_server, repo_key(live_server, user.token, repo), start)

    D, P = discussion.num, pr.num
    pr_ref = f"refs/pr/{P}"

    assert [summary(e) for e in events] == [
        ("discussion.create", D, {"title": "Question", "is_pull_request": False, "status": "open"}),
        ("discussion.comment.create", D, {}),
        ("discussion.comment.update", D, {"change": "edit"}),
        ("discussion.comment.update", D, {"change": "hide"}),
        ("discussion.update", D, {"title": "A better title"}),
        ("discussion.update", D, {"status": "closed"}),
        ("discussion.create", P, {"title": "Fix", "is_pull_request": True, "status": "draft"}),
        ("repo.content.update", None, refs_payload(base, (pr_ref, None, base))),
        ("discussion.update", P, {"commit_id": commit}),
        ("repo.content.update", None, refs_payload(base, (pr_ref, base, commit))),
        ("discussion.update", P, {"status": "open"}),
        ("repo.content.update", None, refs_payload(commit, ("refs/heads/main", base, commit))),
        ("discussion.update", P, {"status": "merged", "merge_commit_id": commit}),
    ]
    other = live_server.services.auth.get_account(other_user.name, AccountKind.USER)
    assert [e.actor_id for e in events] == [other.id] * 3 + [account.id] * 10
    assert events[2].payload["event_id"] == int(first.id, 16)
    assert events[3].payload["event_id"] == int(first.id, 16)
    assert all(e.kind in HubEventKind for e in events)
    ids = [e.id for e in events]
    assert ids == sorted(ids)
