"""`hubstead discussions ...` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token, stdin: str | None = None) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, ["discussions", *args], env=env, input=stdin)

    return invoke


def test_create_prints_the_url_and_opens_the_discussion(
    run: Run, user: HubUser, repo: str, live_server: LiveServer
) -> None:
    result = run("create", repo, "--title", "First thread", "--body", "Some *text*")

    assert result.exit_code == 0, result.output
    [discussion] = user.api.get_repo_discussions(repo)
    assert result.stdout.strip() == f"{live_server.url}/{repo}/discussions/{discussion.num}"
    assert f"Opened discussion #{discussion.num}" in result.stderr
    details = user.api.get_discussion_details(repo, discussion.num)
    assert (details.title, details.is_pull_request) == ("First thread", False)
    assert details.events[0].content == "Some *text*"  # type: ignore[attr-defined]


def test_create_a_pull_request_with_the_description_from_stdin(
    run: Run, user: HubUser, repo: str
) -> None:
    result = run(
        "create",
        repo,
        "--title",
        "A change",
        "--pr",
        "--description",
        "-",
        "--json",
        stdin="From stdin\n",
    )

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["is_pull_request"] is True
    assert created["status"] == "draft"
    assert created["git_reference"] == f"refs/pr/{created['num']}"
    assert created["target_branch"] == "refs/heads/main"
    assert created["events"][0]["content"] == "From stdin"  # stripped, as huggingface_hub does
    assert "_event" not in created["events"][0]
    assert f"commit to refs/pr/{created['num']}" in result.stderr
    assert user.api.get_discussion_details(repo, created["num"]).status == "draft"


def test_list_filters_and_prints_a_table_or_json(
    run: Run, user: HubUser, other_user: HubUser, repo: str
) -> None:
    first = user.api.create_discussion(repo, "Closed topic").num
    pr = user.api.create_pull_request(repo, "Draft change").num
    theirs = other_user.api.create_discussion(repo, "Their topic").num
    user.api.change_discussion_status(repo, first, "closed")

    table = run("list", repo)
    every = json.loads(run("list", repo, "--status", "all", "--json").stdout)
    drafts = json.loads(run("list", repo, "--status", "draft", "--json").stdout)
    closed = json.loads(run("list", repo, "--status", "closed", "--json").stdout)
    prs = json.loads(
        run("list", repo, "--status", "all", "--kind", "pull_request", "--json").stdout
    )
    typed = json.loads(
        run("list", repo, "--status", "all", "--type", "discussion", "--json").stdout
    )
    by_other = json.loads(run("list", repo, "--author", other_user.name, "--json").stdout)
    searched = json.loads(run("list", repo, "--search", "THEIR", "--json").stdout)
    limited = json.loads(run("list", repo, "--status", "all", "--limit", "1", "--json").stdout)

    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["NUM", "TYPE", "STATUS", "TITLE", "AUTHOR", "CREATED"]
    assert [line.split()[0] for line in lines[1:]] == [str(theirs), str(pr)]  # open by default
    assert "pull request  draft" in lines[2]
    assert [d["num"] for d in every] == [theirs, pr, first]
    assert every[0]["url"].endswith(f"/{repo}/discussions/{theirs}")
    assert [d["num"] for d in drafts] == [pr]
    assert [d["num"] for d in closed] == [first]
    assert [d["num"] for d in prs] == [pr]
    assert [d["num"] for d in typed] == [theirs, first]
    assert [(d["num"], d["author"]) for d in by_other] == [(theirs, other_user.name)]
    assert [d["num"] for d in searched] == [theirs]
    assert [d["num"] for d in limited] == [theirs]


def test_list_of_a_repo_without_discussions_says_none(run: Run, repo: str) -> None:
    result = run("list", repo)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "(none)" in result.stderr


def test_info_shows_the_timeline(run: Run, user: HubUser, other_user: HubUser, repo: str) -> None:
    num = user.api.create_discussion(repo, "Old name", description="Opening words").num
    comment = other_user.api.comment_discussion(repo, num, "line one\nline two")
    user.api.rename_discussion(repo, num, "New name")
    user.api.change_discussion_status(repo, num, "closed")

    human = run("info", repo, str(num))
    as_json = json.loads(run("info", repo, str(num), "--json").stdout)

    assert human.exit_code == 0, human.output
    out = human.stdout
    assert out.splitlines()[0] == f"#{num}  New name"
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:4])
    assert fields == {"type": "discussion", "status": "closed", "author": user.name}
    assert f"[{comment.id}]  commented:\n    line one\n    line two" in out
    assert "renamed it from 'Old name' to 'New name'" in out
    assert "set the status to closed" in out
    assert f"{other_user.name}  [{comment.id}]" in out
    assert [e["type"] for e in as_json["events"]] == [
        "comment",
        "comment",
        "title-change",
        "status-change",
    ]
    assert as_json["events"][1]["id"] == comment.id
    assert as_json["events"][2]["old_title"] == "Old name"


def test_comment_from_an_argument_or_stdin(run: Run, user: HubUser, repo: str) -> None:
    num = user.api.create_discussion(repo, "Talk").num

    argument = run("comment", repo, str(num), "Hello **there**")
    piped = run("comment", repo, str(num), "-", stdin="From a pipe")
    option = run("comment", repo, str(num), "--body", "As in hf")
    neither = run("comment", repo, str(num))
    both = run("comment", repo, str(num), "One", "--body", "Two")

    assert argument.exit_code == 0, argument.output
    assert piped.exit_code == 0, piped.output
    assert option.exit_code == 0, option.output
    assert neither.exit_code == both.exit_code == 1
    assert "either as COMMENT or with --body" in neither.stderr
    events = user.api.get_discussion_details(repo, num).events
    contents = [e.content for e in events[1:]]  # type: ignore[attr-defined]
    assert contents == ["Hello **there**", "From a pipe", "As in hf"]
    assert f"Commented on #{num} of {repo} (comment {events[1].id})" in argument.stderr


def test_close_reopen_and_rename(run: Run, user: HubUser, repo: str) -> None:
    num = user.api.create_discussion(repo, "Some title").num

    closed = run("close", repo, str(num), "--comment", "Resolved")
    closed_again = run("close", repo, str(num))
    reopened = run("reopen", repo, str(num))
    renamed = run("rename", repo, str(num), "Better title")

    assert closed.exit_code == 0, closed.output
    assert f"Closed #{num} of {repo}." in closed.stderr
    assert closed_again.exit_code == 1
    assert "already closed" in closed_again.stderr
    assert reopened.exit_code == 0, reopened.output
    assert renamed.exit_code == 0, renamed.output
    assert "'Better title'" in renamed.stderr
    details = user.api.get_discussion_details(repo, num)
    assert (details.title, details.status) == ("Better title", "open")
    assert details.events[2].content == "Resolved"  # type: ignore[attr-defined]


def test_merge_needs_an_open_pull_request_and_a_confirmation(
    run: Run, user: HubUser, repo: str
) -> None:
    head = user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo).oid
    num = user.api.create_pull_request(repo, "Change").num

    before = run("info", repo, str(num))
    unconfirmed = run("merge", repo, str(num))
    draft = run("merge", repo, str(num), "--yes")
    run("reopen", repo, str(num))
    merged = run("merge", repo, str(num), "--yes", "--comment", "Shipping it")

    assert unconfirmed.exit_code == 1
    assert "--yes" in unconfirmed.stderr
    assert draft.exit_code == 1
    assert "draft" in draft.stderr
    assert merged.exit_code == 0, merged.output
    assert f"Merged #{num} into refs/heads/main of {repo} (commit {head})." in merged.stderr
    details = user.api.get_discussion_details(repo, num)
    assert details.status == "merged"
    assert details.events[-1].content == "Shipping it"  # type: ignore[attr-defined]
    header = before.stdout.split("\n\n")[0].splitlines()[1:]
    fields = dict(line.split(None, 1) for line in header)
    assert fields["type"] == "pull request"
    assert (fields["status"], fields["ref"]) == ("draft", f"refs/pr/{num}")
    assert (fields["target"], fields["conflicts"]) == ("refs/heads/main", "none")
    assert f"merge commit  {head}" in run("info", repo, str(num)).stdout


def test_diff_prints_a_pull_requests_changes_only(run: Run, user: HubUser, repo: str) -> None:
    pr = user.api.create_pull_request(repo, "Add a file")
    discussion = user.api.create_discussion(repo, "Just talk").num
    empty = run("diff", repo, str(pr.num))
    user.api.upload_file(
        path_or_fileobj=b"hello\n", path_in_repo="pr.txt", repo_id=repo, revision=pr.git_reference
    )
    # main moves on: its new file is not a change of the pull request.
    user.api.upload_file(path_or_fileobj=b"new", path_in_repo="main-only.txt", repo_id=repo)

    changed = run("diff", repo, str(pr.num))
    not_a_pr = run("diff", repo, str(discussion))

    assert empty.exit_code == 0, empty.output
    assert empty.stdout == ""
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.startswith("diff --git a/pr.txt b/pr.txt")
    assert "+hello" in changed.stdout
    assert "main-only.txt" not in changed.stdout
    assert not_a_pr.exit_code == 1
    assert "is a discussion, not a pull request" in not_a_pr.stderr


def test_unknown_numbers_and_repos_exit_with_not_found(run: Run, user: HubUser, repo: str) -> None:
    missing_repo = f"{user.name}/{unique_name('missing')}"

    results = {
        "info": run("info", repo, "999"),
        "comment": run("comment", repo, "999", "hello"),
        "close": run("close", repo, "999"),
        "rename": run("rename", repo, "999", "A title"),
        "merge": run("merge", repo, "999", "--yes"),
        "diff": run("diff", repo, "999"),
        "list": run("list", missing_repo),
        "create": run("create", missing_repo, "--title", "Hello"),
    }

    for name, result in results.items():
        assert result.exit_code == 2, (name, result.output)
    assert "no discussion #999" in results["info"].stderr
    assert "404" in results["comment"].stderr


def test_refusals_exit_with_auth_or_usage_codes(
    run: Run, user: HubUser, other_user: HubUser, repo: str
) -> None:
    num = user.api.create_discussion(repo, "Owned").num

    anonymous = run("create", repo, "--title", "No token", token=None)
    stranger_rename = run("rename", repo, str(num), "Taken over", token=other_user.token)
    stranger_merge = run("merge", repo, str(num), "--yes", token=other_user.token)
    empty = run("comment", repo, str(num), "   ")
    short = run("create", repo, "--title", "ab")
    zero = run("info", repo, "0")
    bad_type = run("list", repo, "--repo-type", "bucket")

    assert anonymous.exit_code == 3
    assert "401" in anonymous.stderr
    assert stranger_rename.exit_code == 3
    assert "Only the author" in stranger_rename.stderr
    assert stranger_merge.exit_code == 3
    assert empty.exit_code == 1
    assert "must not be empty" in empty.stderr
    assert short.exit_code == 1
    assert "3 to 200 characters" in short.stderr
    assert zero.exit_code == 1
    assert bad_type.exit_code == 1
    assert user.api.get_discussion_details(repo, num).title == "Owned"


def test_dataset_discussions_with_repo_type(
    run: Run, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    dataset = repo_factory("dataset")

    created = run("create", dataset, "--repo-type", "dataset", "--title", "Data issue")
    as_model = run("list", dataset)
    listed = json.loads(run("list", dataset, "--repo-type", "dataset", "--json").stdout)

    assert created.exit_code == 0, created.output
    assert "/datasets/" in created.stdout
    assert as_model.exit_code == 2
    assert [d["title"] for d in listed] == ["Data issue"]
    assert [d.title for d in user.api.get_repo_discussions(dataset, repo_type="dataset")] == [
        "Data issue"
    ]


def test_edit_replaces_your_comment_and_keeps_its_history(
    run: Run, user: HubUser, repo: str
) -> None:
    num = user.api.create_discussion(repo, "Typos", description="Frist post").num
    comment_id = user.api.get_discussion_details(repo, num).events[0].id

    result = run("edit", repo, str(num), comment_id, "First post")

    assert result.exit_code == 0, result.output
    comment = user.api.get_discussion_details(repo, num).events[0]
    assert (comment.content, comment.edited) == ("First post", True)  # type: ignore[attr-defined]
    assert [edit["raw"] for edit in comment.edit_history] == ["Frist post"]  # type: ignore[attr-defined]


def test_edit_of_someone_elses_comment_is_refused_with_the_permission_exit_code(
    run: Run, other_user: HubUser, repo: str
) -> None:
    num = other_user.api.create_discussion(repo, "Theirs", description="Mine, not yours").num
    comment_id = other_user.api.get_discussion_details(repo, num).events[0].id

    result = run("edit", repo, str(num), comment_id, "Hijacked")

    assert result.exit_code == 3
    assert "Only the author of a comment may edit it" in result.stderr
    comment = other_user.api.get_discussion_details(repo, num).events[0]
    assert comment.content == "Mine, not yours"  # type: ignore[attr-defined]


def test_hide_erases_a_comment_for_good_once_confirmed(
    run: Run, user: HubUser, other_user: HubUser, repo: str
) -> None:
    num = other_user.api.create_discussion(repo, "Spam", description="Buy things").num
    comment_id = other_user.api.get_discussion_details(repo, num).events[0].id

    unconfirmed = run("hide", repo, str(num), comment_id)
    hidden = run("hide", repo, str(num), comment_id, "--yes")

    assert unconfirmed.exit_code == 1
    assert "--yes" in unconfirmed.stderr
    assert hidden.exit_code == 0, hidden.output
    comment = user.api.get_discussion_details(repo, num).events[0]
    assert (comment.hidden, comment.content) == (True, "")  # type: ignore[attr-defined]


def test_upload_with_create_pr_prints_the_pull_request_and_leaves_main_alone(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    card = tmp_path / "card.md"
    card.write_text("A card.\n")
    env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": user.token}
    main = user.api.model_info(repo).sha

    result = CliRunner().invoke(
        cli, ["upload", repo, str(card), "--create-pr", "--commit-message", "Add a card"], env=env
    )
    card.write_text("A better card.\n")
    follow_up = CliRunner().invoke(
        cli, ["upload", repo, str(card), "--revision", "refs/pr/1"], env=env
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{live_server.url}/{repo}/discussions/1"
    assert follow_up.exit_code == 0, follow_up.output
    assert user.api.model_info(repo).sha == main
    assert [b.name for b in user.api.list_repo_refs(repo).branches] == ["main"]
    details = user.api.get_discussion_details(repo, 1)
    assert [e.summary for e in details.events if e.type == "commit"] == [  # type: ignore[attr-defined]
        "Add a card",
        "Upload card.md with hubstead",
    ]
