"""Pull requests opened and extended through the unmodified official client.

`create_pr=True` on `create_commit`, `upload_file` and `upload_folder` opens pull request N with
its commit on `refs/pr/N`; later commits with `revision="refs/pr/N"` append to it. Both run with
large files sent through the LFS batch API (`lfs`) and through Xet (`xet`, hf_xet on), since
the client asks each for its upload rights differently when it opens a pull request. Every read
path takes the pull request's ref as a revision. Who may do what: the repo's writers and anyone
signed in who may read it open pull requests; the author (and writers) add commits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    HfFileSystem,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import Role
from hubstead.server.services.repos import RepoSettingsChange
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer
from tests.helpers.xet import AccessLog, assert_uploaded_through_xet


@pytest.fixture
def weights() -> bytes:
    """Random bytes (LFS by content), new for each test.

    hf_xet remembers the xorbs it uploaded and names them again without sending them; the hub
    lets another user (each test has its own) do so only through a repo they may read.
    """
    return os.urandom(50_000)


@pytest.fixture
def adapter() -> bytes:
    """More random bytes, new for each test."""
    return os.urandom(20_000)


@pytest.fixture(params=["lfs", "xet"])
def transport(request: pytest.FixtureRequest) -> str:
    """How the client sends large files: the LFS batch API, or Xet (hf_xet on)."""
    if request.param == "xet":
        request.getfixturevalue("xet")
    return str(request.param)


def read(api: HfApi, repo: str, path: str, revision: str, tmp_path: Path) -> bytes:
    local = hf_hub_download(
        repo,
        path,
        revision=revision,
        cache_dir=tmp_path / "cache",
        endpoint=api.endpoint,
        token=api.token,
    )
    return Path(local).read_bytes()


def pull_requests(api: HfApi, repo: str, repo_type: str = "model") -> dict[str, str]:
    refs = api.list_repo_refs(repo, repo_type=repo_type, include_pull_requests=True)
    return {ref.ref: ref.target_commit for ref in refs.pull_requests or []}


# --- opening ------------------------------------------------------------------------------------


def test_create_commit_with_create_pr_opens_a_pull_request(
    user: HubUser, repo: str, transport: str, tmp_path: Path, weights: bytes
) -> None:
    main = user.api.model_info(repo).sha

    with AccessLog() as log:
        info = user.api.create_commit(
            repo,
            [
                CommitOperationAdd("model.bin", weights),
                CommitOperationAdd("README.md", b"# proposal\n"),
            ],
            commit_message="Propose weights",
            commit_description="Trained for one more epoch.",
            create_pr=True,
        )

    if transport == "xet":
        assert_uploaded_through_xet(log)
    assert (info.pr_num, info.pr_revision) == (1, "refs/pr/1")
    assert info.pr_url == f"{user.api.endpoint}/{repo}/discussions/1"
    assert pull_requests(user.api, repo) == {"refs/pr/1": info.oid}
    assert user.api.model_info(repo).sha == main
    assert user.api.list_repo_files(repo) == [".gitattributes"]
    assert read(user.api, repo, "model.bin", "refs/pr/1", tmp_path) == weights
    assert read(user.api, repo, "README.md", "refs/pr/1", tmp_path) == b"# proposal\n"
    [commit, initial] = user.api.list_repo_commits(repo, revision="refs/pr/1")
    assert (commit.commit_id, commit.title) == (info.oid, "Propose weights")
    assert commit.message == "Trained for one more epoch."
    assert initial.commit_id == main


def test_a_commit_summary_of_any_length_titles_its_pull_request(user: HubUser, repo: str) -> None:
    short = user.api.upload_file(
        path_or_fileobj=b"2",
        path_in_repo="v.txt",
        repo_id=repo,
        commit_message="v2",
        create_pr=True,
    )
    long = user.api.upload_file(
        path_or_fileobj=b"3",
        path_in_repo="v.txt",
        repo_id=repo,
        commit_message="x" * 300,
        create_pr=True,
    )

    assert short.pr_num is not None and long.pr_num is not None
    assert user.api.get_discussion_details(repo, short.pr_num).title == "v2"
    assert user.api.get_discussion_details(repo, long.pr_num).title == "x" * 200
    first = user.api.get_discussion_details(repo, long.pr_num).events[0]
    assert first.content == "x" * 200  # type: ignore[attr-defined]


def test_upload_file_and_folder_with_create_pr_open_one_pull_request_each(
    user: HubUser, repo: str, transport: str, tmp_path: Path, weights: bytes, adapter: bytes
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "adapter.safetensors").write_bytes(adapter)
    (folder / "config.json").write_bytes(b'{"r": 8}')

    single = user.api.upload_file(
        path_or_fileobj=weights, path_in_repo="model.bin", repo_id=repo, create_pr=True
    )
    whole = user.api.upload_folder(folder_path=folder, repo_id=repo, create_pr=True)

    assert (single.pr_revision, whole.pr_revision) == ("refs/pr/1", "refs/pr/2")
    assert set(pull_requests(user.api, repo)) == {"refs/pr/1", "refs/pr/2"}
    assert user.api.list_repo_files(repo, revision="refs/pr/1") == [".gitattributes", "model.bin"]
    assert sorted(user.api.list_repo_files(repo, revision="refs/pr/2")) == [
        ".gitattributes",
        "adapter.safetensors",
        "config.json",
    ]
    assert read(user.api, repo, "adapter.safetensors", "refs/pr/2", tmp_path) == adapter
    assert user.api.list_repo_files(repo) == [".gitattributes"]


def test_a_pull_request_with_a_parent_commit_starts_from_it(user: HubUser, repo: str) -> None:
    first = user.api.upload_file(path_or_fileobj=b"1", path_in_repo="v.txt", repo_id=repo)
    user.api.upload_file(path_or_fileobj=b"2", path_in_repo="v.txt", repo_id=repo)

    info = user.api.upload_file(
        path_or_fileobj=b"pr",
        path_in_repo="pr.txt",
        repo_id=repo,
        create_pr=True,
        parent_commit=first.oid,
    )

    [commit, parent, *_] = user.api.list_repo_commits(repo, revision=info.pr_revision)
    assert (commit.commit_id, parent.commit_id) == (info.oid, first.oid)


def test_a_pull_request_targets_the_branch_it_was_opened_from(user: HubUser, repo: str) -> None:
    user.api.create_branch(repo, branch="dev")
    user.api.upload_file(
        path_or_fileobj=b"dev", path_in_repo="dev.txt", repo_id=repo, revision="dev"
    )

    info = user.api.upload_file(
        path_or_fileobj=b"pr", path_in_repo="pr.txt", repo_id=repo, revision="dev", create_pr=True
    )

    files = user.api.list_repo_files(repo, revision=info.pr_revision)
    assert sorted(files) == [".gitattributes", "dev.txt", "pr.txt"]


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_datasets_and_spaces_take_pull_requests(
    user: HubUser, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo = repo_factory(repo_type)

    info = user.api.upload_file(
        path_or_fileobj=b"x",
        path_in_repo="x.txt",
        repo_id=repo,
        repo_type=repo_type,
        create_pr=True,
    )

    assert info.pr_url == f"{user.api.endpoint}/{repo_type}s/{repo}/discussions/1"
    assert pull_requests(user.api, repo, repo_type) == {"refs/pr/1": info.oid}


def test_a_refused_commit_opens_nothing(user: HubUser, repo: str) -> None:
    with pytest.raises(HfHubHTTPError, match="doesn't exist"):
        user.api.delete_file("missing.txt", repo, create_pr=True)

    assert pull_requests(user.api, repo) == {}


def test_disabled_discussions_refuse_pull_requests(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    identity = live_server.services.auth.authenticate(user.token)
    change = RepoSettingsChange(discussions_disabled=True)
    live_server.services.repos.update_settings(identity, RepoType.MODEL, repo, change)

    with pytest.raises(HfHubHTTPError, match="Discussions are disabled") as refused:
        user.api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, create_pr=True
        )

    assert refused.value.response.status_code == 403
    assert pull_requests(user.api, repo) == {}


# --- adding commits -----------------------------------------------------------------------------


def test_commits_to_the_pull_request_ref_append_to_it(
    user: HubUser, repo: str, transport: str, tmp_path: Path, weights: bytes
) -> None:
    opened = user.api.upload_file(
        path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo, create_pr=True
    )

    added = user.api.upload_file(
        path_or_fileobj=weights, path_in_repo="model.bin", repo_id=repo, revision="refs/pr/1"
    )

    assert pull_requests(user.api, repo) == {"refs/pr/1": added.oid}
    history = [c.commit_id for c in user.api.list_repo_commits(repo, revision="refs/pr/1")]
    assert history[:2] == [added.oid, opened.oid]
    assert read(user.api, repo, "model.bin", "refs/pr/1", tmp_path) == weights
    assert user.api.list_repo_files(repo) == [".gitattributes"]
    details = user.api.get_discussion_details(repo, 1)
    commits = [event.oid for event in details.events if event.type == "commit"]  # type: ignore[attr-defined]
    assert commits == [opened.oid, added.oid]


def test_a_closed_pull_request_takes_no_commits(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    opened = user.api.upload_file(
        path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo, create_pr=True
    )
    user.api.change_discussion_status(repo, 1, "closed")

    with pytest.raises(HfHubHTTPError, match="Pull request #1 is closed") as refused:
        user.api.upload_file(
            path_or_fileobj=b"b", path_in_repo="b.txt", repo_id=repo, revision="refs/pr/1"
        )

    assert refused.value.response.status_code == 400
    assert pull_requests(user.api, repo) == {"refs/pr/1": opened.oid}


def test_a_pull_request_that_does_not_exist_is_a_missing_revision(user: HubUser, repo: str) -> None:
    with pytest.raises(RevisionNotFoundError, match="refs/pr/99"):
        user.api.upload_file(
            path_or_fileobj=b"b", path_in_repo="b.txt", repo_id=repo, revision="refs/pr/99"
        )


# --- who may ------------------------------------------------------------------------------------


def test_a_non_writer_opens_and_extends_a_pull_request_but_nothing_else(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    transport: str,
    tmp_path: Path,
    weights: bytes,
    adapter: bytes,
) -> None:
    main = user.api.model_info(repo).sha

    with AccessLog() as log:
        opened = other_user.api.upload_file(
            path_or_fileobj=weights, path_in_repo="model.bin", repo_id=repo, create_pr=True
        )
        added = other_user.api.upload_file(
            path_or_fileobj=adapter, path_in_repo="adapter.bin", repo_id=repo, revision="refs/pr/1"
        )

    if transport == "xet":
        assert_uploaded_through_xet(log)
    assert opened.pr_revision == "refs/pr/1"
    assert pull_requests(user.api, repo) == {"refs/pr/1": added.oid}
    assert read(user.api, repo, "model.bin", "refs/pr/1", tmp_path) == weights
    assert read(user.api, repo, "adapter.bin", "refs/pr/1", tmp_path) == adapter
    third = make_user(live_server, "third")
    with pytest.raises(HfHubHTTPError, match="Only the author of pull request #1") as refused:
        third.api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.bin", repo_id=repo, revision="refs/pr/1"
        )
    assert refused.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError, match="rights to write") as refused:
        other_user.api.upload_file(path_or_fileobj=weights, path_in_repo="m.bin", repo_id=repo)
    assert refused.value.response.status_code == 403
    with pytest.raises(RevisionNotFoundError):
        other_user.api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.bin", repo_id=repo, revision="refs/pr/99"
        )
    assert user.api.model_info(repo).sha == main
    assert pull_requests(user.api, repo) == {"refs/pr/1": added.oid}


def test_the_repo_owner_adds_commits_to_someone_elses_pull_request(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    other_user.api.upload_file(
        path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo, create_pr=True
    )

    added = user.api.upload_file(
        path_or_fileobj=b"fix", path_in_repo="a.txt", repo_id=repo, revision="refs/pr/1"
    )

    assert pull_requests(user.api, repo) == {"refs/pr/1": added.oid}


def test_a_private_repo_takes_no_pull_request_from_outsiders(
    other_user: HubUser, repo_factory: Callable[..., str], weights: bytes
) -> None:
    repo = repo_factory(private=True)

    with pytest.raises(RepositoryNotFoundError):
        other_user.api.upload_file(
            path_or_fileobj=weights, path_in_repo="m.bin", repo_id=repo, create_pr=True
        )


def test_a_read_token_opens_no_pull_request(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    reader = make_user(live_server, "reader", role=Role.READ)

    with pytest.raises(HfHubHTTPError, match="read role") as refused:
        reader.api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, create_pr=True
        )

    assert refused.value.response.status_code == 403
    assert pull_requests(user.api, repo) == {}


# --- reading ------------------------------------------------------------------------------------


def test_every_read_path_takes_the_pull_request_ref(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path, weights: bytes
) -> None:
    info = user.api.create_commit(
        repo,
        [CommitOperationAdd("model.bin", weights), CommitOperationAdd("dir/a.txt", b"a")],
        commit_message="Proposal",
        create_pr=True,
    )
    revision = "refs/pr/1"

    assert user.api.model_info(repo, revision=revision).sha == info.oid
    tree = {e.path for e in user.api.list_repo_tree(repo, revision=revision, recursive=True)}
    assert tree == {".gitattributes", "model.bin", "dir", "dir/a.txt"}
    [entry] = user.api.get_paths_info(repo, ["model.bin"], revision=revision)
    assert entry.lfs is not None and entry.lfs.size == len(weights)  # type: ignore[union-attr]
    assert user.api.list_repo_commits(repo, revision=revision)[0].commit_id == info.oid
    fs = HfFileSystem(endpoint=live_server.url, token=user.token)
    assert fs.read_bytes(f"{repo}@refs/pr/1/dir/a.txt") == b"a"
    assert fs.read_bytes(f"{repo}@refs%2Fpr%2F1/model.bin") == weights
    snapshot = snapshot_download(
        repo,
        revision=revision,
        cache_dir=tmp_path / "snap",
        endpoint=live_server.url,
        token=user.token,
    )
    assert (Path(snapshot) / "model.bin").read_bytes() == weights
    assert (Path(snapshot) / "dir" / "a.txt").read_bytes() == b"a"
