"""hubstead's `HfApi` on git history: refs, commits, branches, tags and super-squash."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd

from hubstead import errors
from hubstead.client import models
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.helpers.refs import create_ref


def commit(user: HubUser, repo_id: str, path: str, content: bytes, message: str) -> str:
    info = user.api.create_commit(
        repo_id, [CommitOperationAdd(path, content)], commit_message=message
    )
    return str(info.oid)


def test_branch_created_from_a_revision_is_listed_by_both_clients(
    client: HfApi, user: HubUser, repo: str
) -> None:
    first = commit(user, repo, "a.txt", b"1", "first")
    commit(user, repo, "a.txt", b"2", "second")

    client.create_branch(repo, branch="release/v1", revision=first)

    refs = client.list_repo_refs(repo)
    assert isinstance(refs, models.GitRefs)
    branches = {b.name: b for b in refs.branches}
    assert branches["release/v1"].target_commit == first
    assert branches["release/v1"].ref == "refs/heads/release/v1"
    assert refs.pull_requests is None
    official = {b.name: b.target_commit for b in user.api.list_repo_refs(repo).branches}
    assert official["release/v1"] == first
    assert client.revision_exists(repo, "release/v1")


def test_existing_branch_is_a_409_unless_exist_ok(client: HfApi, repo: str) -> None:
    client.create_branch(repo, branch="dev")

    with pytest.raises(errors.HfHubHTTPError) as caught:
        client.create_branch(repo, branch="dev")
    client.create_branch(repo, branch="dev", exist_ok=True)

    assert caught.value.status_code == 409


def test_branch_errors_name_what_is_missing_or_invalid(client: HfApi, repo: str) -> None:
    with pytest.raises(errors.RevisionNotFoundError):
        client.create_branch(repo, branch="dev", revision="no-such-revision")
    with pytest.raises(errors.BadRequestError):
        client.create_branch(repo, branch="bad..name")
    with pytest.raises(errors.RevisionNotFoundError):
        client.delete_branch(repo, branch="never-created")


def test_deleted_branch_is_gone_for_the_official_client(
    client: HfApi, user: HubUser, repo: str
) -> None:
    user.api.create_branch(repo, branch="feature")

    client.delete_branch(repo, branch="feature")

    assert [b.name for b in user.api.list_repo_refs(repo).branches] == ["main"]


def test_a_read_only_user_cannot_create_a_branch_but_exist_ok_accepts_an_existing_one(
    live_server: LiveServer, other_user: HubUser, client: HfApi, repo: str
) -> None:
    client.create_branch(repo, branch="dev")

    with HfApi(endpoint=live_server.url, token=other_user.token, trust_env=False) as other:
        with pytest.raises(errors.HfHubHTTPError) as caught:
            other.create_branch(repo, branch="other")
        other.create_branch(repo, branch="dev", exist_ok=True)

    assert caught.value.status_code == 403


def test_tags_are_created_listed_and_deleted(client: HfApi, user: HubUser, repo: str) -> None:
    first = commit(user, repo, "a.txt", b"1", "first")
    commit(user, repo, "a.txt", b"2", "second")

    client.create_tag(repo, tag="v1.0", revision=first, tag_message="first release")
    client.create_tag(repo, tag="latest")

    tags = {t.name: t.target_commit for t in client.list_repo_refs(repo).tags}
    assert tags["v1.0"] == first
    assert tags["latest"] == user.api.model_info(repo).sha
    assert {t.name for t in user.api.list_repo_refs(repo).tags} == {"v1.0", "latest"}
    with pytest.raises(errors.HfHubHTTPError) as caught:
        client.create_tag(repo, tag="v1.0")
    assert caught.value.status_code == 409
    client.create_tag(repo, tag="v1.0", exist_ok=True)

    client.delete_tag(repo, tag="v1.0")

    assert [t.name for t in client.list_repo_refs(repo).tags] == ["latest"]
    with pytest.raises(errors.RevisionNotFoundError):
        client.delete_tag(repo, tag="v1.0")


def test_pull_request_refs_are_listed_only_when_asked(
    live_server: LiveServer, client: HfApi, user: HubUser, repo: str
) -> None:
    head = commit(user, repo, "a.txt", b"1", "first")
    create_ref(live_server, user, repo, "refs/pr/1", head)

    refs = client.list_repo_refs(repo, include_pull_requests=True)

    assert refs.pull_requests is not None
    assert [(p.name, p.target_commit) for p in refs.pull_requests] == [("refs/pr/1", head)]
    assert client.list_repo_refs(repo).pull_requests is None


def test_commits_are_listed_newest_first_with_formatted_text(
    client: HfApi, user: HubUser, repo: str
) -> None:
    commit(user, repo, "a.txt", b"1", "first <b>")
    second = commit(user, repo, "a.txt", b"2", "second")

    history = client.list_repo_commits(repo, formatted=True)

    assert [c.title for c in history][:2] == ["second", "first <b>"]
    assert history[0].commit_id == second
    assert history[0].created_at is not None and history[0].authors
    assert history[1].formatted_title == "first &lt;b&gt;"
    assert [c.commit_id for c in history] == [c.commit_id for c in user.api.list_repo_commits(repo)]
    assert client.list_repo_commits(repo)[0].formatted_title is None
    with pytest.raises(errors.RevisionNotFoundError):
        client.list_repo_commits(repo, revision="nope")


def test_commit_history_is_followed_across_pages(client: HfApi, user: HubUser, repo: str) -> None:
    for i in range(52):  # the server sends 50 commits per page
        commit(user, repo, "n.txt", str(i).encode(), f"commit {i}")

    history = client.list_repo_commits(repo)

    assert [c.title for c in history[:52]] == [f"commit {i}" for i in reversed(range(52))]
    assert len({c.commit_id for c in history}) == len(history)


def test_super_squash_leaves_one_commit_with_the_same_files(
    client: HfApi, user: HubUser, repo: str
) -> None:
    commit(user, repo, "a.txt", b"1", "first")
    commit(user, repo, "b.txt", b"2", "second")
    files = sorted(user.api.list_repo_files(repo))

    client.super_squash_history(repo, commit_message="squashed")

    history = client.list_repo_commits(repo)
    assert [c.title for c in history] == ["squashed"]
    assert sorted(client.list_repo_files(repo)) == files
    with pytest.raises(errors.RevisionNotFoundError):
        client.super_squash_history(repo, branch="nope")
