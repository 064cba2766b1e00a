"""`hf discussions ...` of huggingface_hub 2.4.0, the real entry point, against the hub."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import DiscussionComment

from tests.helpers.accounts import HubUser
from tests.helpers.clients import hf_ok, run_hf
from tests.helpers.live_server import LiveServer
from tests.helpers.pull_requests import commit_to_pull_request


class Hf:
    """Runs `hf discussions` as one user, with the hub as its endpoint."""

    def __init__(self, server: LiveServer, user: HubUser, home: Path) -> None:
        self._as = (server, user, home)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_hf(*self._as, "discussions", *args)

    def ok(self, *args: str) -> str:
        return hf_ok(*self._as, "discussions", *args)


@pytest.fixture
def hf(live_server: LiveServer, user: HubUser, tmp_path: Path) -> Hf:
    return Hf(live_server, user, tmp_path / "home")


def test_create_list_info_comment_rename_close_and_reopen(
    hf: Hf, live_server: LiveServer, user: HubUser, repo: str
) -> None:
    created = hf.ok("create", repo, "--title", "Bug report", "--body", "It *fails*")
    pr = hf.ok("create", repo, "--title", "Fix it", "--pr")

    assert f"Created discussion #1 on {repo}" in created
    assert f"url: {live_server.url}/{repo}/discussions/1" in created
    assert f"Created pull request #2 on {repo}" in pr
    assert "ref: refs/pr/2" in pr
    table = hf.ok("list", repo).splitlines()
    assert table[0].split() == ["NUM", "TITLE", "IS_PULL_REQUEST", "STATUS", "AUTHOR", "CREATED_AT"]
    assert table[2].split()[:2] == ["2", "Fix"]
    assert "draft" in table[2]
    assert table[3].split()[:3] == ["1", "Bug", "report"]
    assert "open" in table[3]

    assert f"Commented on #1 in {repo}" in hf.ok("comment", repo, "1", "--body", "Thanks")
    assert "title: Better title" in hf.ok("rename", repo, "1", "Better title")
    assert f"Closed #1 in {repo}" in hf.ok("close", repo, "1", "--yes", "--comment", "done")
    closed = [
        d["num"] for d in json.loads(hf.ok("list", repo, "--status", "closed", "--format", "json"))
    ]
    assert closed == [1]
    assert f"Reopened #1 in {repo}" in hf.ok("reopen", repo, "1", "--yes")

    info = json.loads(hf.ok("info", repo, "1"))
    assert (info["title"], info["status"], info["author"]) == ("Better title", "open", user.name)
    assert [e["type"] for e in info["events"]] == [
        "comment",
        "comment",
        "title-change",
        "status-change",
        "comment",
        "status-change",
    ]
    assert [e["content"] for e in info["events"] if e["type"] == "comment"] == [
        "It *fails*",
        "Thanks",
        "done",
    ]
    assert user.api.get_discussion_details(repo, 1).title == "Better title"


def test_diff_and_merge_a_pull_request(
    hf: Hf, live_server: LiveServer, user: HubUser, repo: str
) -> None:
    hf.ok("create", repo, "--title", "Fix it", "--pr")
    head = commit_to_pull_request(user, repo, 1, {"fix.txt": b"fixed\n"})

    diff = hf.ok("diff", repo, "1")
    hf.ok("reopen", repo, "1", "--yes")  # a draft is set open before it is merged
    merged = hf.ok("merge", repo, "1", "--yes", "--comment", "merging")
    again = hf.run("merge", repo, "1", "--yes")

    assert "+++ b/fix.txt" in diff
    assert "+fixed" in diff
    assert f"Merged #1 in {repo}" in merged
    assert user.api.repo_info(repo).sha == head
    assert again.returncode == 1
    assert "Pull request #1 is already merged" in again.stderr
    listed = hf.ok("list", repo, "--status", "merged", "--kind", "pull_request", "--format", "json")
    assert [(d["num"], d["status"]) for d in json.loads(listed)] == [(1, "merged")]


def test_an_unknown_number_and_a_stranger_are_told_what_went_wrong(
    hf: Hf, live_server: LiveServer, other_user: HubUser, repo: str, tmp_path: Path
) -> None:
    hf.ok("create", repo, "--title", "Mine")
    stranger = Hf(live_server, other_user, tmp_path / "other")

    missing = hf.run("info", repo, "99")
    renamed = stranger.run("rename", repo, "1", "Theirs now")

    assert missing.returncode == 1
    assert f"{repo} has no discussion #99" in missing.stderr
    assert renamed.returncode == 1
    assert f"Only the author of #1 or a writer of {repo} may rename it" in renamed.stderr


def test_create_with_attach_embeds_the_uploaded_image(
    hf: Hf, live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    image = tmp_path / "before.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"pixels")

    hf.ok("create", repo, "--title", "Rendering", "--attach", f"{image}#Before the fix")

    first = user.api.get_discussion_details(repo, 1).events[0]
    assert isinstance(first, DiscussionComment)
    assert f"![Before the fix]({live_server.url}/attachments/" in first.content
