"""hubstead's `HfApi` on discussions and pull requests, against the live hub.

Results are checked against what the official client reads from the same hub.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import hubstead
from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


@pytest.fixture
def stranger(live_server: LiveServer, other_user: HubUser) -> Iterator[HfApi]:
    """hubstead's `HfApi` acting as `other_user`, who has no rights on `user`'s repos."""
    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as api:
        yield api


def test_create_discussion_returns_its_details_with_the_description_first(
    client: HfApi, user: HubUser, repo: str, live_server: LiveServer
) -> None:
    created = client.create_discussion(repo, "  A question  ", description="Why **so**?")

    assert isinstance(created, models.DiscussionWithDetails)
    assert created.title == "A question"
    assert (created.status, created.is_pull_request) == ("open", False)
    assert (created.repo_id, created.repo_type, created.author) == (repo, "model", user.name)
    assert created.num >= 1
    assert created.url == f"{live_server.url}/{repo}/discussions/{created.num}"
    assert created.git_reference is None
    assert created.created_at.tzinfo is not None
    assert abs(created.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert (created.target_branch, created.conflicting_files, created.merge_commit_oid) == (
        None,
        None,
        None,
    )
    [first] = created.events
    assert isinstance(first, models.DiscussionComment)
    assert first.content == "Why **so**?"
    assert "<strong>so</strong>" in first.rendered
    assert (first.author, first.edited, first.hidden, first.number_of_edits) == (
        user.name,
        False,
        False,
        0,
    )
    official = user.api.get_discussion_details(repo, created.num)
    assert official.events[0].id == first.id
    assert official.created_at == created.created_at


def test_a_blank_description_is_replaced_by_a_default_one(client: HfApi, repo: str) -> None:
    created = client.create_discussion(repo, "Blank description", description="   ")

    [first] = created.events
    assert isinstance(first, models.DiscussionComment)
    assert first.content == "Discussion opened with the hubstead Python library"


def test_pull_request_is_a_draft_whose_ref_starts_at_main(
    client: HfApi, user: HubUser, repo: str
) -> None:
    head = user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo).oid

    pr = client.create_pull_request(repo, "Add things")

    assert (pr.status, pr.is_pull_request) == ("draft", True)
    assert pr.git_reference == f"refs/pr/{pr.num}"
    assert pr.target_branch == "refs/heads/main"
    assert pr.conflicting_files == ()
    assert pr.merge_commit_oid is None
    assert not pr.diff
    assert client.repo_info(repo, revision=pr.git_reference).sha == head


def test_listing_is_newest_first_and_filtered(
    client: HfApi, stranger: HfApi, other_user: HubUser, repo: str
) -> None:
    discussion = client.create_discussion(repo, "Plain talk")
    pr = client.create_pull_request(repo, "Some changes")
    theirs = stranger.create_discussion(repo, "Outside view")
    client.change_discussion_status(repo, discussion.num, "closed")

    every = list(client.get_repo_discussions(repo))
    prs = list(client.get_repo_discussions(repo, discussion_type="pull_request"))
    opened = list(client.get_repo_discussions(repo, discussion_status="open"))
    closed = list(client.get_repo_discussions(repo, discussion_status="closed"))
    by_other = list(client.get_repo_discussions(repo, author=other_user.name))
    by_nobody = list(client.get_repo_discussions(repo, author=unique_name("nobody")))
    searched = list(client.get_repo_discussions(repo, search="CHANGES"))

    assert [d.num for d in every] == [theirs.num, pr.num, discussion.num]
    assert all(isinstance(d, models.Discussion) for d in every)
    assert [d.num for d in prs] == [pr.num]
    assert [d.num for d in opened] == [theirs.num, pr.num]  # the draft counts as open
    assert [(d.num, d.status) for d in closed] == [(discussion.num, "closed")]
    assert [(d.num, d.author) for d in by_other] == [(theirs.num, other_user.name)]
    assert by_nobody == []
    assert [d.num for d in searched] == [pr.num]
    assert every[1].git_reference == f"refs/pr/{pr.num}"


def test_listing_fetches_every_page(client: HfApi, user: HubUser, repo: str) -> None:
    with httpx.Client(base_url=client.endpoint) as http:
        for index in range(52):
            http.post(
                f"/api/models/{repo}/discussions",
                json={"title": f"Thread {index}", "description": "x"},
                headers={"Authorization": f"Bearer {user.token}"},
            ).raise_for_status()

    found = list(client.get_repo_discussions(repo))

    assert [d.title for d in found] == [f"Thread {index}" for index in reversed(range(52))]
    assert [d.num for d in found] == [d.num for d in user.api.get_repo_discussions(repo)]


def test_invalid_filters_and_numbers_are_refused_before_sending(client: HfApi, repo: str) -> None:
    with pytest.raises(errors.HFValidationError, match="discussion_type"):
        list(client.get_repo_discussions(repo, discussion_type="issues"))  # type: ignore[arg-type]
    with pytest.raises(errors.HFValidationError, match="discussion_status"):
        list(client.get_repo_discussions(repo, discussion_status="merged"))  # type: ignore[arg-type]
    with pytest.raises(errors.HFValidationError, match="positive integer"):
        client.get_discussion_details(repo, 0)
    with pytest.raises(errors.HFValidationError, match="'open' or 'closed'"):
        client.change_discussion_status(repo, 1, "merged")  # type: ignore[arg-type]
    with pytest.raises(errors.HFValidationError):
        client.get_discussion_details("a/b/c", 1)


def test_comment_edit_and_hide(
    client: HfApi, stranger: HfApi, other_user: HubUser, repo: str
) -> None:
    num = client.create_discussion(repo, "Talk").num

    comment = stranger.comment_discussion(repo, num, "Hello *there*")
    edited = stranger.edit_discussion_comment(repo, num, comment.id.upper(), "Hello again")
    with pytest.warns(UserWarning, match="irreversible"):
        hidden = client.hide_discussion_comment(repo, num, comment.id)

    assert isinstance(comment, models.DiscussionComment)
    assert (comment.content, comment.author, comment.edited) == (
        "Hello *there*",
        other_user.name,
        False,
    )
    assert "<em>there</em>" in comment.rendered
    assert (edited.id, edited.content, edited.edited) == (comment.id, "Hello again", True)
    assert edited.number_of_edits == len(edited.edit_history) >= 1
    assert edited.last_edited_by == other_user.name
    assert edited.last_edited_at >= comment.last_edited_at
    assert (hidden.id, hidden.hidden, hidden.content) == (comment.id, True, "")
    events = client.get_discussion_details(repo, num).events
    assert [e.id for e in events][-1] == comment.id
    assert isinstance(events[-1], models.DiscussionComment) and events[-1].hidden


def test_rename_and_status_changes_join_the_timeline(
    client: HfApi, user: HubUser, repo: str
) -> None:
    num = client.create_discussion(repo, "Old title").num

    renamed = client.rename_discussion(repo, num, "New title")
    closed = client.change_discussion_status(repo, num, "closed", comment="  Done here  ")
    reopened = client.change_discussion_status(repo, num, "open")

    assert isinstance(renamed, models.DiscussionTitleChange)
    assert (renamed.old_title, renamed.new_title, renamed.author) == (
        "Old title",
        "New title",
        user.name,
    )
    assert isinstance(closed, models.DiscussionStatusChange) and closed.new_status == "closed"
    assert reopened.new_status == "open"
    details = client.get_discussion_details(repo, num)
    assert (details.title, details.status) == ("New title", "open")
    kinds = [type(e).__name__ for e in details.events]
    assert kinds == [
        "DiscussionComment",
        "DiscussionTitleChange",
        "DiscussionStatusChange",
        "DiscussionComment",
        "DiscussionStatusChange",
    ]
    assert isinstance(details.events[3], models.DiscussionComment)
    assert details.events[3].content == "Done here"
    official = user.api.get_discussion_details(repo, num)
    assert [e.id for e in official.events] == [e.id for e in details.events]


def test_a_pull_requests_commits_show_in_its_diff_and_reach_main_when_merged(
    client: HfApi, user: HubUser, repo: str
) -> None:
    pr = client.create_pull_request(repo, "Add a file")
    client.upload_file(
        path_or_fileobj=b"hello\n", path_in_repo="new.txt", repo_id=repo, revision=pr.git_reference
    )
    discussion = client.create_discussion(repo, "Not a PR")

    diff = client.get_discussion_details(repo, pr.num).diff
    with pytest.raises(errors.BadRequestError, match="draft"):
        client.merge_pull_request(repo, pr.num)
    with pytest.raises(errors.BadRequestError, match="not a pull request"):
        client.merge_pull_request(repo, discussion.num)
    client.change_discussion_status(repo, pr.num, "open")
    client.merge_pull_request(repo, pr.num, comment="Thanks!")
    with pytest.raises(errors.BadRequestError, match="already merged"):
        client.merge_pull_request(repo, pr.num)

    assert diff is not None and "diff --git a/new.txt b/new.txt" in diff and "+hello" in diff
    merged = client.get_discussion_details(repo, pr.num)
    assert merged.status == "merged"
    assert merged.merge_commit_oid == client.repo_info(repo).sha
    assert client.file_exists(repo, "new.txt")
    last = merged.events[-1]
    assert isinstance(last, models.DiscussionComment) and last.content == "Thanks!"
    assert any(
        isinstance(e, models.DiscussionStatusChange) and e.new_status == "merged"
        for e in merged.events
    )
    assert user.api.get_discussion_details(repo, pr.num).merge_commit_oid == merged.merge_commit_oid


def test_missing_discussions_and_repos_are_not_found(
    client: HfApi, user: HubUser, repo: str
) -> None:
    missing_repo = f"{user.name}/{unique_name('missing')}"

    with pytest.raises(errors.HfHubHTTPError) as no_thread:
        client.get_discussion_details(repo, 999)
    with pytest.raises(errors.HfHubHTTPError) as no_comment_target:
        client.comment_discussion(repo, 999, "hello")
    with pytest.raises(errors.RepositoryNotFoundError):
        list(client.get_repo_discussions(missing_repo))
    with pytest.raises(errors.RepositoryNotFoundError):
        client.create_discussion(missing_repo, "Hello there")

    assert no_thread.value.status_code == 404
    assert "no discussion #999" in str(no_thread.value)
    assert no_comment_target.value.status_code == 404
    assert str(no_comment_target.value).startswith(
        f"Failed to comment on discussion #999 of {repo}: 404"
    )


def test_refusals_carry_the_status_and_the_servers_reason(
    client: HfApi, stranger: HfApi, live_server: LiveServer, repo: str
) -> None:
    created = client.create_discussion(repo, "Mine")
    num, first = created.num, created.events[0].id

    with pytest.raises(errors.HfHubHTTPError) as rename:
        stranger.rename_discussion(repo, num, "Theirs now")
    with pytest.raises(errors.HfHubHTTPError) as hide, pytest.warns(UserWarning):
        stranger.hide_discussion_comment(repo, num, first)
    with (
        HfApi(endpoint=live_server.url, token=False, trust_env=False) as anonymous,
        pytest.raises(errors.HfHubHTTPError) as unsigned,
    ):
        anonymous.create_discussion(repo, "Anonymous")
    with pytest.raises(errors.BadRequestError, match="must not be empty"):
        client.comment_discussion(repo, num, "   ")
    with pytest.raises(errors.BadRequestError, match="3 to 200 characters"):
        client.create_discussion(repo, "ab")
    with pytest.raises(errors.BadRequestError, match="already open"):
        client.change_discussion_status(repo, num, "open")

    assert rename.value.status_code == 403
    assert "Only the author" in str(rename.value)
    assert hide.value.status_code == 403
    assert unsigned.value.status_code == 401


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_datasets_and_spaces_have_discussions_too(
    client: HfApi, live_server: LiveServer, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo_id = repo_factory(repo_type)

    created = client.create_discussion(repo_id, "Typed", repo_type=repo_type)
    listed = list(client.get_repo_discussions(repo_id, repo_type=repo_type))

    assert created.repo_type == repo_type
    assert created.url == f"{live_server.url}/{repo_type}s/{repo_id}/discussions/{created.num}"
    assert [d.num for d in listed] == [created.num]
    with pytest.raises(errors.RepositoryNotFoundError):
        client.get_discussion_details(repo_id, created.num)  # as a model: no such repo


def test_module_functions_use_the_environment(
    monkeypatch: pytest.MonkeyPatch, live_server: LiveServer, user: HubUser, repo: str
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", live_server.url)
    monkeypatch.setenv("HF_TOKEN", user.token)

    created = hubstead.create_discussion(repo, "From the module")
    hubstead.comment_discussion(repo, created.num, "A comment")

    assert [d.num for d in hubstead.get_repo_discussions(repo)] == [created.num]
    assert len(hubstead.get_discussion_details(repo, created.num).events) == 2


def test_commit_info_names_the_pull_request_it_opened() -> None:
    url = "https://hub.example/datasets/alice/data/commit/" + "a" * 40
    opened = models.CommitInfo(
        url, "msg", "", "a" * 40, pr_url="https://hub.example/datasets/alice/data/discussions/7"
    )
    plain = models.CommitInfo(url, "msg", "", "a" * 40)

    assert (opened.pr_num, opened.pr_revision) == (7, "refs/pr/7")
    assert (plain.pr_num, plain.pr_revision) == (None, None)
    with pytest.raises(ValueError, match="pull request URL"):
        _ = models.CommitInfo(url, "msg", "", "a" * 40, pr_url="https://hub.example/x").pr_num


def test_events_the_hub_sends_that_this_hub_does_not_yet_are_parsed() -> None:
    # Shapes from huggingface.co (shared/protocol/platform.md §1.2): commit events, unknown
    # kinds, deleted authors, and conflicts the hub cannot list.
    commit = models.parse_discussion_event(
        {
            "id": "65a1" + "0" * 20,
            "type": "commit",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "author": {"name": "alice"},
            "data": {"subject": "Add weights", "oid": "b" * 40},
        }
    )
    unknown = models.parse_discussion_event(
        {"id": "65a2" + "0" * 20, "type": "pinned", "createdAt": "2024-01-01T00:00:00Z"}
    )
    details = models.DiscussionWithDetails.from_json(
        {
            "num": 3,
            "title": "Conflicted",
            "status": "open",
            "isPullRequest": True,
            "createdAt": "2024-01-01T00:00:00.123456Z",
            "repo": {"name": "alice/model", "type": "model"},
            "events": [],
            "changes": {"base": "refs/heads/main"},
            "filesWithConflicts": True,
        },
        "https://hub.example",
    )

    assert isinstance(commit, models.DiscussionCommit)
    assert (commit.summary, commit.oid, commit.author) == ("Add weights", "b" * 40, "alice")
    assert commit.created_at == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert type(unknown) is models.DiscussionEvent
    assert (unknown.type, unknown.author) == ("pinned", "deleted")
    assert (details.author, details.conflicting_files, details.diff) == ("deleted", True, None)
    assert details.created_at.microsecond == 123456
    assert details.url == "https://hub.example/alice/model/discussions/3"


def test_upload_attachment_gives_the_url_the_official_client_gets_for_the_same_file(
    client: HfApi, user: HubUser, tmp_path: Path
) -> None:
    video = tmp_path / "clip.webm"
    video.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(5000))

    url = client.upload_attachment(video)

    assert url == user.api.upload_attachment(video)
    assert url.endswith(".webm")
    assert httpx.get(url).content == video.read_bytes()


def test_upload_attachment_refuses_other_types_before_sending_and_reads_the_hubs_refusals(
    client: HfApi, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"<html>")
    with pytest.raises(errors.HFValidationError, match="supported formats"):
        client.upload_attachment(page)
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<html>")

    with pytest.raises(errors.HfHubHTTPError) as caught:
        client.upload_attachment(fake)

    assert caught.value.response is not None
    assert caught.value.response.status_code == 415
