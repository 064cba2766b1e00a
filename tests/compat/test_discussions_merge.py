"""Merging pull requests with the official client: fast-forward, merge commits, conflicts, races.

Everything goes through `HfApi`; commits reach `refs/pr/N` with `revision="refs/pr/N"`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from hubstead.protocol import RepoType
from hubstead.server.services.access import Action
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.helpers.pull_requests import commit_to_pull_request


def main_head(api: HfApi, repo: str) -> str:
    sha = api.repo_info(repo).sha
    assert sha is not None
    return sha


def parents(server: LiveServer, user: HubUser, repo: str, commit_id: str) -> list[str]:
    identity = server.services.auth.authenticate(user.token)
    record = server.services.repos.locate(identity, RepoType.MODEL, repo, Action.READ)
    return list(
        Pygit2GitStore(server.data_dir / "repos").commit(record.storage_key, commit_id).parents
    )


def ready_pr(user: HubUser, repo: str, files: dict[str, bytes | None]) -> tuple[int, str]:
    """A pull request, set open, holding one commit with `files`; its number and head."""
    pr = user.api.create_pull_request(repo, title="Change things")
    head = commit_to_pull_request(user, repo, pr.num, files)
    user.api.change_discussion_status(repo, pr.num, "open")
    return pr.num, head


def read(api: HfApi, repo: str, path: str, revision: str, tmp_path: Path) -> bytes:
    return Path(
        api.hf_hub_download(repo, path, revision=revision, cache_dir=tmp_path / "cache")
    ).read_bytes()


def test_a_pull_request_on_top_of_main_is_fast_forwarded(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    num, head = ready_pr(user, repo, {"weights.txt": b"v2\n"})

    user.api.merge_pull_request(repo, num)

    assert main_head(user.api, repo) == head
    found = user.api.get_discussion_details(repo, num)
    assert found.status == "merged"
    assert found.merge_commit_oid == head
    assert found.conflicting_files == []
    assert read(user.api, repo, "weights.txt", "main", tmp_path) == b"v2\n"


def test_divergent_changes_merge_into_a_commit_with_both_parents(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    num, head = ready_pr(user, repo, {"from-pr.txt": b"pr\n"})
    moved = user.api.upload_file(
        path_or_fileobj=b"main\n", path_in_repo="from-main.txt", repo_id=repo
    ).oid

    user.api.merge_pull_request(repo, num)

    merged = main_head(user.api, repo)
    assert merged not in (head, moved)
    assert parents(live_server, user, repo, merged) == [moved, head]
    assert {"from-pr.txt", "from-main.txt"} <= set(user.api.list_repo_files(repo))
    assert user.api.get_discussion_details(repo, num).merge_commit_oid == merged
    commits = user.api.list_repo_commits(repo)
    assert commits[0].title == "Merge pull request #1: Change things"


def test_a_conflict_is_409_naming_the_paths_and_changes_nothing(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"base\n", path_in_repo="config.json", repo_id=repo)
    num, _ = ready_pr(user, repo, {"config.json": b"from the PR\n", "other.txt": b"x\n"})
    user.api.upload_file(path_or_fileobj=b"from main\n", path_in_repo="config.json", repo_id=repo)
    before = main_head(user.api, repo)

    with pytest.raises(HfHubHTTPError) as refused:
        user.api.merge_pull_request(repo, num)

    assert refused.value.response.status_code == 409
    assert "conflicts with 'main' in: config.json" in str(refused.value)
    assert main_head(user.api, repo) == before
    found = user.api.get_discussion_details(repo, num)
    assert found.status == "open"
    assert found.conflicting_files == ["config.json"]
    assert found.merge_commit_oid is None


def test_drafts_closed_and_merged_pull_requests_are_not_merged(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    pr = user.api.create_pull_request(repo, title="Draft first")
    commit_to_pull_request(user, repo, pr.num, {"a.txt": b"a\n"})
    before = main_head(user.api, repo)

    with pytest.raises(BadRequestError, match="is a draft: set it open before merging"):
        user.api.merge_pull_request(repo, pr.num)
    user.api.change_discussion_status(repo, pr.num, "closed")
    with pytest.raises(BadRequestError, match="is closed: reopen it before merging"):
        user.api.merge_pull_request(repo, pr.num)
    assert main_head(user.api, repo) == before
    user.api.change_discussion_status(repo, pr.num, "open")
    user.api.merge_pull_request(repo, pr.num)
    with pytest.raises(BadRequestError, match="is already merged"):
        user.api.merge_pull_request(repo, pr.num)
    with pytest.raises(BadRequestError, match="is merged: its status cannot change"):
        user.api.change_discussion_status(repo, pr.num, "closed")


def test_merging_with_a_comment_adds_it_after_the_status_change(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    num, _ = ready_pr(user, repo, {"a.txt": b"a\n"})

    user.api.merge_pull_request(repo, num, comment="Thanks, **merged**!")

    events = user.api.get_discussion_details(repo, num).events
    assert [event.type for event in events[-2:]] == ["status-change", "comment"]
    assert events[-2].new_status == "merged"  # type: ignore[attr-defined]
    assert events[-1].content == "Thanks, **merged**!"  # type: ignore[attr-defined]
    assert events[-1].author == user.name


def test_a_merged_pull_requests_ref_and_diff_stay_readable(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    num, head = ready_pr(user, repo, {"notes.txt": b"notes\n"})
    user.api.upload_file(path_or_fileobj=b"later\n", path_in_repo="later.txt", repo_id=repo)
    user.api.merge_pull_request(repo, num)

    found = user.api.get_discussion_details(repo, num)
    refs = user.api.list_repo_refs(repo, include_pull_requests=True)

    assert read(user.api, repo, "notes.txt", f"refs/pr/{num}", tmp_path) == b"notes\n"
    assert [(r.ref, r.target_commit) for r in refs.pull_requests or []] == [
        (f"refs/pr/{num}", head)
    ]
    assert found.diff is not None
    assert "+++ b/notes.txt" in found.diff
    assert "later.txt" not in found.diff


def test_commits_to_main_racing_a_merge_all_land_and_so_does_the_merge(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    num, head = ready_pr(user, repo, {"from-pr.txt": b"pr\n"})
    writers = 4
    start = threading.Barrier(writers + 1)
    landed: list[str] = []
    failures: list[BaseException] = []

    def commit(i: int) -> None:
        try:
            start.wait()
            for j in range(3):
                info = user.api.upload_file(
                    path_or_fileobj=f"{i}-{j}\n".encode(),
                    path_in_repo=f"main-{i}-{j}.txt",
                    repo_id=repo,
                )
                landed.append(info.oid)
        except BaseException as exc:
            failures.append(exc)

    def merge() -> None:
        try:
            start.wait()
            user.api.merge_pull_request(repo, num)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(writers)]
    threads.append(threading.Thread(target=merge))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    history = {c.commit_id for c in user.api.list_repo_commits(repo)}
    assert len(landed) == writers * 3
    assert set(landed) <= history
    assert head in history
    files = set(user.api.list_repo_files(repo))
    assert {f"main-{i}-{j}.txt" for i in range(writers) for j in range(3)} <= files
    assert "from-pr.txt" in files
    found = user.api.get_discussion_details(repo, num)
    assert found.status == "merged"
    assert found.merge_commit_oid in history


def test_two_merges_of_one_pull_request_at_once_merge_it_once(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    num, _ = ready_pr(user, repo, {"from-pr.txt": b"pr\n"})
    user.api.upload_file(path_or_fileobj=b"main\n", path_in_repo="from-main.txt", repo_id=repo)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def merge() -> None:
        start.wait()
        try:
            user.api.merge_pull_request(repo, num)
            outcomes.append("merged")
        except BadRequestError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=merge) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes)[1] == "merged"
    assert "Pull request #1 is already merged" in sorted(outcomes)[0]
    titles = [c.title for c in user.api.list_repo_commits(repo)]
    assert titles.count("Merge pull request #1: Change things") == 1
    merged = user.api.get_discussion_details(repo, num)
    assert merged.merge_commit_oid == main_head(user.api, repo)
    assert [e.type for e in merged.events].count("status-change") == 2  # open, merged


def test_a_merge_comment_too_long_is_413_and_merges_nothing(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    num, _ = ready_pr(user, repo, {"a.txt": b"a\n"})
    before = main_head(user.api, repo)

    with pytest.raises(HfHubHTTPError) as refused:
        user.api.merge_pull_request(repo, num, comment="x" * 65537)

    assert refused.value.response.status_code == 413
    assert main_head(user.api, repo) == before
    assert user.api.get_discussion_details(repo, num).status == "open"


def test_merged_and_closed_pull_requests_still_take_comments(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    merged, _ = ready_pr(user, repo, {"a.txt": b"a\n"})
    user.api.merge_pull_request(repo, merged)
    closed = user.api.create_pull_request(repo, title="Abandoned").num
    user.api.change_discussion_status(repo, closed, "closed")

    for num in (merged, closed):
        posted = other_user.api.comment_discussion(repo, num, "Late thoughts")
        assert posted.content == "Late thoughts"
        assert user.api.get_discussion_details(repo, num).events[-1].id == posted.id
