"""Kernel repos, the fourth repo type, through the official client, git and our CLI: created,
read, uploaded to (LFS and Xet), downloaded, cloned, listed, liked and deleted under
`/api/kernels/` and the `kernels/` prefix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    KernelInfo,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import RepositoryNotFoundError

import hubstead
from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.git import GitUser, repo_url
from tests.helpers.live_server import LiveServer

# A shared object: binary, so the hub asks for it through LFS (or Xet).
LIBRARY = b"\x7fELF" + bytes(range(256)) * 64


def _upload(api: HfApi, repo: str) -> str:
    operations = [
        CommitOperationAdd("build/torch-cuda/_ops.so", LIBRARY),
        CommitOperationAdd("build/torch-cuda/__init__.py", b"from ._ops import ops\n"),
        CommitOperationAdd("README.md", b"---\ntags: [kernel]\n---\n# A kernel\n"),
    ]
    return api.create_commit(repo, operations, commit_message="build", repo_type="kernel").oid


def test_a_kernel_is_created_read_and_deleted_as_the_client_expects(
    user: HubUser, anonymous: HfApi
) -> None:
    repo = f"{user.name}/{unique_name('kernel')}"

    url = user.api.create_repo(repo, repo_type="kernel")
    info = user.api.kernel_info(repo)
    same = user.api.repo_info(repo, repo_type="kernel")
    files = user.api.list_repo_files(repo, repo_type="kernel")
    refs = user.api.list_repo_refs(repo, repo_type="kernel")

    assert (url.repo_type, url.repo_id) == ("kernel", repo)
    assert url.endswith(f"/kernels/{repo}")
    assert isinstance(info, KernelInfo) and isinstance(same, KernelInfo)
    assert (info.id, info.author, info.private, info.gated) == (repo, user.name, False, False)
    assert info.sha == same.sha == refs.branches[0].target_commit
    assert files == [".gitattributes"]
    assert anonymous.repo_exists(repo, repo_type="kernel")
    assert not user.api.repo_exists(repo)  # types are separate namespaces

    user.api.delete_repo(repo, repo_type="kernel")

    with pytest.raises(RepositoryNotFoundError):
        user.api.kernel_info(repo)


def test_files_go_up_through_lfs_and_come_down_by_file_and_snapshot(
    user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    repo = repo_factory("kernel")
    commit = _upload(user.api, repo)

    (entry,) = user.api.get_paths_info(repo, ["build/torch-cuda/_ops.so"], repo_type="kernel")
    one = hf_hub_download(
        repo,
        "build/torch-cuda/_ops.so",
        repo_type="kernel",
        cache_dir=tmp_path / "cache",
        endpoint=user.api.endpoint,
        token=user.token,
    )
    folder = snapshot_download(
        repo,
        repo_type="kernel",
        cache_dir=tmp_path / "cache",
        endpoint=user.api.endpoint,
        token=user.token,
    )

    assert entry.lfs is not None  # type: ignore[union-attr]
    assert Path(one).read_bytes() == LIBRARY
    assert f"kernels--{user.name}--" in one
    assert (Path(folder) / "build/torch-cuda/__init__.py").read_bytes() == (
        b"from ._ops import ops\n"
    )
    assert user.api.kernel_info(repo).sha == commit
    assert user.api.kernel_info(repo, revision=commit).sha == commit


@pytest.mark.usefixtures("xet")
def test_files_go_up_through_xet(
    user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    repo = repo_factory("kernel")
    _upload(user.api, repo)

    (entry,) = user.api.get_paths_info(repo, ["build/torch-cuda/_ops.so"], repo_type="kernel")
    local = hf_hub_download(
        repo,
        "build/torch-cuda/_ops.so",
        repo_type="kernel",
        cache_dir=tmp_path / "cache",
        endpoint=user.api.endpoint,
        token=user.token,
    )

    assert entry.xet_hash is not None  # type: ignore[union-attr]
    assert Path(local).read_bytes() == LIBRARY


def test_a_private_kernel_is_not_found_by_others(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    repo = repo_factory("kernel", private=True)
    _upload(user.api, repo)

    with pytest.raises(RepositoryNotFoundError):
        other_user.api.kernel_info(repo)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            repo,
            "README.md",
            repo_type="kernel",
            cache_dir=tmp_path / "cache",
            endpoint=user.api.endpoint,
            token=other_user.token,
        )
    assert user.api.kernel_info(repo).private is True


def test_git_clones_and_pushes_under_the_kernels_prefix(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], tmp_path: Path
) -> None:
    repo = repo_factory("kernel")
    git = GitUser(tmp_path / "home")
    url = repo_url(live_server.url, repo, token=user.token, prefix="kernels/")

    dest = git.clone(url, tmp_path / "clone")
    git.commit_file(dest, "build.toml", b"[general]\nname = 'k'\n", "Add build config")
    git.run("push", cwd=dest)

    assert user.api.kernel_info(repo).sha == git.head(dest)
    assert "build.toml" in user.api.list_repo_files(repo, repo_type="kernel")


def test_kernels_are_liked_and_listed_apart(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    kernel = repo_factory("kernel")
    model = repo_factory()
    for path in (f"kernels/{kernel}", f"models/{model}"):  # the web hub likes; the client cannot
        response = httpx.post(
            f"{live_server.url}/api/{path}/like",
            headers={"authorization": f"Bearer {user.token}"},
        )
        assert response.status_code == 200

    likes = user.api.list_liked_repos(user.name)
    liked = user.api.kernel_info(kernel).likes
    user.api.unlike(kernel, repo_type="kernel")

    assert (likes.kernels, likes.models) == ([kernel], [model])
    assert liked == 1
    assert user.api.kernel_info(kernel).likes == 0


def test_our_client_and_cli_handle_kernels(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    name = unique_name("kernel")
    repo = f"{user.name}/{name}"
    env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": user.token}

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    created = json.loads(run("repo", "create", name, "--repo-type", "kernel", "--json"))
    source = tmp_path / "_ops.so"
    source.write_bytes(LIBRARY)
    run("upload", repo, str(source), "_ops.so", "--repo-type", "kernel")
    listed = json.loads(
        run("repo", "list", "--repo-type", "kernel", "--author", user.name, "--json")
    )
    shown = run("repo", "info", repo, "--repo-type", "kernel")

    with hubstead.HfApi(endpoint=live_server.url, token=user.token, trust_env=False) as ours:
        info = ours.kernel_info(repo)
        local = ours.hf_hub_download(repo, "_ops.so", repo_type="kernel", cache_dir=tmp_path)

    assert (created["repo_type"], created["repo_id"]) == ("kernel", repo)
    assert "/kernels/" in created["url"]
    assert [item["id"] for item in listed] == [repo]
    assert ["type", "kernel"] in [line.split() for line in shown.splitlines()]
    assert isinstance(info, hubstead.KernelInfo) and info.sha == user.api.kernel_info(repo).sha
    assert Path(local).read_bytes() == LIBRARY
    run("repo", "delete", repo, "--repo-type", "kernel", "--yes")
    assert not user.api.repo_exists(repo, repo_type="kernel")
