"""Tree listings and paths-info through the official client."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd, RepoFile, RepoFolder
from huggingface_hub.errors import EntryNotFoundError, RemoteEntryNotFoundError

from tests.helpers.accounts import HubUser
from tests.helpers.commits import git_blob_sha1

# The layout huggingface_hub's own test-suite lists (core.md §5.1), without the LFS file.
LAYOUT = ["file.md", "1/file_1.md", "1/2/file_1_2.md", "2/file_2.md", "3/file_3.md"]


@pytest.fixture
def tree_repo(user: HubUser, repo: str) -> str:
    user.api.create_commit(
        repo,
        [CommitOperationAdd(path, path.encode()) for path in LAYOUT],
        commit_message="layout",
    )
    return repo


def paths(entries: list[RepoFile | RepoFolder]) -> dict[str, str]:
    return {e.path: "file" if isinstance(e, RepoFile) else "folder" for e in entries}


def test_list_repo_tree_lists_direct_children(user: HubUser, tree_repo: str) -> None:
    entries = list(user.api.list_repo_tree(tree_repo))

    assert paths(entries) == {
        ".gitattributes": "file",
        "file.md": "file",
        "1": "folder",
        "2": "folder",
        "3": "folder",
    }
    (readme,) = [e for e in entries if e.path == "file.md"]
    assert isinstance(readme, RepoFile)
    assert readme.size == len(b"file.md")
    assert readme.lfs is None
    assert readme.last_commit is None


def test_list_repo_tree_recursive_includes_folders(user: HubUser, tree_repo: str) -> None:
    entries = list(user.api.list_repo_tree(tree_repo, recursive=True))

    assert len(entries) == 10
    assert paths(entries)["1/2"] == "folder"
    assert {p for p, kind in paths(entries).items() if kind == "file"} == {
        ".gitattributes",
        *LAYOUT,
    }


def test_list_repo_tree_of_a_folder_gives_repo_relative_paths(
    user: HubUser, tree_repo: str
) -> None:
    assert paths(list(user.api.list_repo_tree(tree_repo, path_in_repo="1"))) == {
        "1/file_1.md": "file",
        "1/2": "folder",
    }
    assert paths(list(user.api.list_repo_tree(tree_repo, path_in_repo="1/2"))) == {
        "1/2/file_1_2.md": "file"
    }
    assert len(list(user.api.list_repo_tree(tree_repo, path_in_repo="1", recursive=True))) == 3


def test_list_repo_tree_expand_gives_the_last_commit(user: HubUser, tree_repo: str) -> None:
    later = user.api.upload_file(path_or_fileobj=b"new", path_in_repo="1/new.md", repo_id=tree_repo)
    layout_commit = user.api.list_repo_commits(tree_repo)[1]

    entries = {e.path: e for e in user.api.list_repo_tree(tree_repo, expand=True)}

    assert entries["1"].last_commit is not None
    assert entries["1"].last_commit.oid == later.oid
    assert entries["file.md"].last_commit is not None
    assert entries["file.md"].last_commit.oid == layout_commit.commit_id
    assert entries["file.md"].last_commit.title == "layout"
    assert entries["2"].last_commit is not None
    assert entries["2"].last_commit.oid == layout_commit.commit_id


def test_list_repo_tree_of_a_missing_folder_is_entry_not_found(
    user: HubUser, tree_repo: str
) -> None:
    with pytest.raises(RemoteEntryNotFoundError):
        list(user.api.list_repo_tree(tree_repo, path_in_repo="missing"))
    with pytest.raises(EntryNotFoundError):
        list(user.api.list_repo_tree(tree_repo, path_in_repo="file.md"))


def test_list_repo_tree_at_an_older_revision(user: HubUser, tree_repo: str) -> None:
    first = user.api.list_repo_commits(tree_repo)[-1].commit_id
    user.api.delete_file("file.md", tree_repo)

    assert paths(list(user.api.list_repo_tree(tree_repo, revision=first))) == {
        ".gitattributes": "file"
    }
    assert "file.md" not in paths(list(user.api.list_repo_tree(tree_repo)))


def test_list_repo_files_lists_every_file(user: HubUser, tree_repo: str) -> None:
    assert sorted(user.api.list_repo_files(tree_repo)) == sorted([".gitattributes", *LAYOUT])


def test_get_paths_info_returns_existing_files_and_folders_only(
    user: HubUser, tree_repo: str
) -> None:
    infos = user.api.get_paths_info(tree_repo, ["file.md", "1/2", "missing.txt", "1/nope"])

    assert paths(infos) == {"file.md": "file", "1/2": "folder"}
    file_info = next(i for i in infos if isinstance(i, RepoFile))
    assert file_info.size == len(b"file.md")
    assert file_info.last_commit is None


def test_get_paths_info_with_expand_gives_the_last_commit(user: HubUser, tree_repo: str) -> None:
    last = user.api.list_repo_commits(tree_repo)[0]

    infos = user.api.get_paths_info(tree_repo, ["1/file_1.md", "3"], expand=True)

    assert {i.path: i.last_commit.oid for i in infos if i.last_commit} == {
        "1/file_1.md": last.commit_id,
        "3": last.commit_id,
    }


def test_get_paths_info_blob_id_is_the_git_blob_sha1(user: HubUser, tree_repo: str) -> None:
    (info,) = user.api.get_paths_info(tree_repo, ["file.md"])

    assert isinstance(info, RepoFile)
    assert info.blob_id == git_blob_sha1(b"file.md")
