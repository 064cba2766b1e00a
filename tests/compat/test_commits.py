"""Commits through the official client: uploads, deletions, copies, parents, cards, PRs."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    RepoFile,
)
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

from tests.helpers.accounts import HubUser


def files_of(user: HubUser, repo: str, revision: str | None = None) -> set[str]:
    return set(user.api.list_repo_files(repo, revision=revision))


def head_of(user: HubUser, repo: str) -> str:
    sha = user.api.repo_info(repo).sha
    assert sha is not None
    return sha


def read(user: HubUser, repo: str, path: str, revision: str = "main") -> bytes:
    response = httpx.get(
        f"{user.api.endpoint}/{repo}/resolve/{revision}/{path}",
        headers={"authorization": f"Bearer {user.token}"},
    )
    response.raise_for_status()
    return response.content


def test_upload_file_adds_and_overwrites_a_file(user: HubUser, repo: str) -> None:
    first = user.api.upload_file(path_or_fileobj=b"v1", path_in_repo="dir/a.txt", repo_id=repo)
    second = user.api.upload_file(path_or_fileobj=b"v2", path_in_repo="dir/a.txt", repo_id=repo)

    assert first.oid != second.oid
    assert head_of(user, repo) == second.oid
    assert read(user, repo, "dir/a.txt") == b"v2"
    assert read(user, repo, "dir/a.txt", first.oid) == b"v1"


def test_upload_file_from_a_local_path(user: HubUser, repo: str, tmp_path: Path) -> None:
    local = tmp_path / "config.json"
    local.write_text('{"hidden_size": 8}')

    user.api.upload_file(path_or_fileobj=str(local), path_in_repo="config.json", repo_id=repo)

    assert read(user, repo, "config.json") == b'{"hidden_size": 8}'


def test_uploading_unchanged_content_makes_no_new_commit(user: HubUser, repo: str) -> None:
    first = user.api.upload_file(path_or_fileobj=b"same", path_in_repo="a.txt", repo_id=repo)
    commits_before = len(user.api.list_repo_commits(repo))

    again = user.api.upload_file(path_or_fileobj=b"same", path_in_repo="a.txt", repo_id=repo)

    assert again.oid == first.oid
    assert len(user.api.list_repo_commits(repo)) == commits_before


def test_an_empty_file_is_committed(user: HubUser, repo: str) -> None:
    user.api.upload_file(path_or_fileobj=b"", path_in_repo="empty.pkl", repo_id=repo)

    (info,) = user.api.get_paths_info(repo, ["empty.pkl"])
    assert isinstance(info, RepoFile)
    assert info.size == 0
    assert info.lfs is None
    assert read(user, repo, "empty.pkl") == b""


def test_upload_folder_keeps_nested_folders_under_path_in_repo(
    user: HubUser, repo: str, tmp_path: Path
) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "top.txt").write_text("top")
    (tmp_path / "sub" / "mid.txt").write_text("mid")
    (tmp_path / "sub" / "deeper" / "low.txt").write_text("low")

    user.api.upload_folder(folder_path=tmp_path, path_in_repo="data", repo_id=repo)

    assert files_of(user, repo) == {
        ".gitattributes",
        "data/top.txt",
        "data/sub/mid.txt",
        "data/sub/deeper/low.txt",
    }
    assert read(user, repo, "data/sub/deeper/low.txt") == b"low"


def test_upload_folder_with_allow_patterns_uploads_only_matches(
    user: HubUser, repo: str, tmp_path: Path
) -> None:
    (tmp_path / "keep.json").write_text("{}")
    (tmp_path / "skip.txt").write_text("no")

    user.api.upload_folder(folder_path=tmp_path, repo_id=repo, allow_patterns=["*.json"])

    assert files_of(user, repo) == {".gitattributes", "keep.json"}


def test_upload_folder_with_delete_patterns_replaces_matching_files(
    user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.create_commit(
        repo,
        [
            CommitOperationAdd("old-1.txt", b"1"),
            CommitOperationAdd("old-2.txt", b"2"),
            CommitOperationAdd("keep.md", b"k"),
        ],
        commit_message="seed",
    )
    (tmp_path / "new.txt").write_text("new")

    user.api.upload_folder(folder_path=tmp_path, repo_id=repo, delete_patterns=["*.txt"])

    assert files_of(user, repo) == {".gitattributes", "keep.md", "new.txt"}


def test_delete_file_and_delete_folder(user: HubUser, repo: str) -> None:
    user.api.create_commit(
        repo,
        [
            CommitOperationAdd("a.txt", b"a"),
            CommitOperationAdd("folder/b.txt", b"b"),
            CommitOperationAdd("folder/sub/c.txt", b"c"),
        ],
        commit_message="seed",
    )

    user.api.delete_file("a.txt", repo)
    assert files_of(user, repo) == {".gitattributes", "folder/b.txt", "folder/sub/c.txt"}

    user.api.delete_folder("folder", repo)
    assert files_of(user, repo) == {".gitattributes"}


def test_deleting_a_missing_file_raises_entry_not_found(user: HubUser, repo: str) -> None:
    head = head_of(user, repo)

    with pytest.raises(EntryNotFoundError, match="doesn't exist"):
        user.api.delete_file("missing.txt", repo)

    assert head_of(user, repo) == head


def test_one_commit_can_add_delete_and_copy(user: HubUser, repo: str) -> None:
    user.api.create_commit(
        repo,
        [CommitOperationAdd("source.txt", b"source"), CommitOperationAdd("gone.txt", b"x")],
        commit_message="seed",
    )
    commits_before = len(user.api.list_repo_commits(repo))

    user.api.create_commit(
        repo,
        [
            CommitOperationAdd("new.txt", b"new"),
            CommitOperationDelete("gone.txt"),
            CommitOperationCopy("source.txt", "copies/source.txt"),
        ],
        commit_message="mixed",
    )

    assert files_of(user, repo) == {".gitattributes", "source.txt", "new.txt", "copies/source.txt"}
    assert read(user, repo, "copies/source.txt") == b"source"
    assert len(user.api.list_repo_commits(repo)) == commits_before + 1


def test_commit_message_and_description_are_recorded(user: HubUser, repo: str) -> None:
    info = user.api.create_commit(
        repo,
        [CommitOperationAdd("a.txt", b"a")],
        commit_message="Add a",
        commit_description="Why a is needed.\nSecond line.",
    )

    latest = user.api.list_repo_commits(repo)[0]
    assert latest.commit_id == info.oid
    assert latest.title == "Add a"
    assert latest.message == "Why a is needed.\nSecond line."
    assert info.commit_url.endswith(f"/{repo}/commit/{info.oid}")


def test_stale_parent_commit_is_refused_and_nothing_is_written(user: HubUser, repo: str) -> None:
    stale = head_of(user, repo)
    user.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo)
    head = head_of(user, repo)

    with pytest.raises(HfHubHTTPError) as caught:
        user.api.upload_file(
            path_or_fileobj=b"2", path_in_repo="two.txt", repo_id=repo, parent_commit=stale
        )

    assert caught.value.response.status_code == 412
    assert "branch was updated" in str(caught.value)
    assert head_of(user, repo) == head
    assert "two.txt" not in files_of(user, repo)


@pytest.mark.parametrize("length", [40, 7])
def test_current_parent_commit_full_or_short_is_accepted(
    user: HubUser, repo: str, length: int
) -> None:
    parent = head_of(user, repo)

    info = user.api.upload_file(
        path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, parent_commit=parent[:length]
    )

    assert user.api.list_repo_commits(repo)[1].commit_id == parent
    assert head_of(user, repo) == info.oid


def test_readme_with_valid_front_matter_is_committed(user: HubUser, repo: str) -> None:
    readme = b"---\nlicense: mit\ntags:\n- demo\n---\n# Title\n"

    user.api.upload_file(path_or_fileobj=readme, path_in_repo="README.md", repo_id=repo)

    assert read(user, repo, "README.md") == readme
    assert user.api.model_info(repo).card_data["license"] == "mit"  # type: ignore[index]


def test_readme_with_invalid_yaml_is_refused_before_committing(user: HubUser, repo: str) -> None:
    head = head_of(user, repo)

    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        user.api.upload_file(
            path_or_fileobj=b"---\nlicense: [mit\n---\n", path_in_repo="README.md", repo_id=repo
        )

    assert head_of(user, repo) == head


def test_files_matching_the_repo_gitignore_are_not_committed(user: HubUser, repo: str) -> None:
    user.api.upload_file(path_or_fileobj=b"*.log\n", path_in_repo=".gitignore", repo_id=repo)

    user.api.create_commit(
        repo,
        [CommitOperationAdd("debug.log", b"noise"), CommitOperationAdd("kept.txt", b"kept")],
        commit_message="with ignored file",
    )

    assert files_of(user, repo) == {".gitattributes", ".gitignore", "kept.txt"}


def test_a_gitignore_in_the_same_commit_applies_to_it(user: HubUser, repo: str) -> None:
    user.api.create_commit(
        repo,
        [
            CommitOperationAdd(".gitignore", b"secret/\n"),
            CommitOperationAdd("secret/key.txt", b"hidden"),
            CommitOperationAdd("public.txt", b"shown"),
        ],
        commit_message="gitignore and files",
    )

    assert files_of(user, repo) == {".gitattributes", ".gitignore", "public.txt"}


def test_commits_to_another_branch_leave_main_alone(user: HubUser, repo: str) -> None:
    main_head = head_of(user, repo)
    user.api.create_branch(repo, branch="dev")

    user.api.upload_file(path_or_fileobj=b"d", path_in_repo="dev.txt", repo_id=repo, revision="dev")

    assert "dev.txt" in files_of(user, repo, "dev")
    assert head_of(user, repo) == main_head


def test_concurrent_commits_to_one_branch_all_land(user: HubUser, repo: str) -> None:
    failures: list[BaseException] = []

    def upload(worker: int) -> None:
        try:
            for index in range(8):
                user.api.upload_file(
                    path_or_fileobj=f"{worker}-{index}".encode(),
                    path_in_repo=f"w{worker}/f{index}.txt",
                    repo_id=repo,
                )
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(worker,)) for worker in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    expected = {f"w{w}/f{i}.txt" for w in range(2) for i in range(8)}
    assert expected <= files_of(user, repo)
    assert len(user.api.list_repo_commits(repo)) == 1 + 16
