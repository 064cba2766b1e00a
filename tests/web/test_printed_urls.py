"""Every URL the tools print opens the page it names.

huggingface_hub builds `RepoUrl`, `CommitInfo.commit_url` and `.pr_url` from what the hub
answers, `Discussion.url` and `Collection.url` from its endpoint; the `hf` CLI and our own print
them. Each must open a page about that very thing, for anyone allowed to see it.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from huggingface_hub import CommitOperationAdd

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clients import hf_ok
from tests.helpers.live_server import LiveServer


def opened(url: str, user: HubUser) -> str:
    """The page at `url`, as the user's browser signed in by their token would see it."""
    headers = {"accept": "text/html", "authorization": f"Bearer {user.token}"}
    answer = httpx.get(url, headers=headers)
    assert answer.status_code == 200, (url, answer.status_code)
    assert answer.headers["content-type"].startswith("text/html"), url
    return answer.text


def test_urls_of_repos_commits_prs_discussions_and_collections(web_hub: LiveServer) -> None:
    user = make_user(web_hub, "printed")
    api = user.api
    model = api.create_repo(f"{user.name}/{unique_name('model')}")
    dataset = api.create_repo(f"{user.name}/{unique_name('data')}", repo_type="dataset")
    commit = api.create_commit(
        model.repo_id,
        [CommitOperationAdd("README.md", b"# Printed\n")],
        commit_message="A card to print",
    )
    pr = api.create_commit(
        model.repo_id,
        [CommitOperationAdd("notes.md", b"a proposal\n")],
        commit_message="Propose notes",
        create_pr=True,
    )
    discussion = api.create_discussion(model.repo_id, title="Where is the licence?")
    collection = api.create_collection(title="Printed things")

    assert str(model) == f"{web_hub.url}/{model.repo_id}"
    assert model.repo_id in opened(str(model), user)
    assert dataset.repo_id in opened(str(dataset), user)
    assert "A card to print" in opened(commit.commit_url, user)
    assert pr.pr_url is not None and "Propose notes" in opened(pr.pr_url, user)
    assert "Where is the licence?" in opened(discussion.url, user)
    assert "Printed things" in opened(collection.url, user)


def test_urls_the_hf_cli_prints(web_hub: LiveServer, tmp_path: Path) -> None:
    user = make_user(web_hub, "hfcli")
    repo_id = f"{user.name}/{unique_name('cli')}"
    created = hf_ok(web_hub, user, tmp_path, "repos", "create", repo_id)
    (notes := tmp_path / "notes.md").write_text("# Notes\n")
    uploaded = hf_ok(web_hub, user, tmp_path, "upload", repo_id, str(notes), "notes.md")

    repo_url, commit_url = (printed(created), printed(uploaded))
    assert repo_id in opened(repo_url, user)
    assert "/commit/" in commit_url or "/blob/" in commit_url or "/tree/" in commit_url
    assert "notes.md" in opened(commit_url, user)


def printed(output: str) -> str:
    """The one hub URL in a command's output."""
    urls: list[str] = re.findall(r"https?://[^\s'\"]+", output)
    assert len(urls) == 1, output
    return urls[0].rstrip(".")
