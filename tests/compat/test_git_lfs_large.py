"""A file of more than 1 GiB through the real git and git-lfs, then the official client.

git-lfs uploads the object through the hub's LFS endpoint with the token from the remote URL,
git pushes the pointer; the same bytes then come back through `hf_hub_download` and through a
second clone with git-lfs, each checked by sha256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
from huggingface_hub import RepoFile, hf_hub_download

from tests.helpers.accounts import HubUser
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.lfs import MiB, file_sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import reads_local_blobs

SIZE = 1024 * MiB + 4321  # a little more than 1 GiB, not a whole number of MiB


def write_random(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as file:
        remaining = size
        while remaining:
            chunk = os.urandom(min(8 * MiB, remaining))
            digest.update(chunk)
            file.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


@pytest.mark.slow
@reads_local_blobs
def test_a_file_of_more_than_one_gib_pushed_with_git_lfs_downloads_and_clones_intact(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    require_git_lfs()
    git = GitUser(tmp_path / "home")
    git.run("lfs", "install")
    url = repo_url(live_server.url, repo, token=user.token)
    checkout = git.clone(url, tmp_path / "checkout")
    git.run("lfs", "track", "*.bin", cwd=checkout)
    expected = write_random(checkout / "weights.bin", SIZE)
    stored = live_server.data_dir / "blobs" / expected[:2] / expected[2:4] / expected
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        git.run("add", ".gitattributes", "weights.bin", cwd=checkout)
        git.run("commit", "-q", "-m", "Add 1 GiB of weights", cwd=checkout)
        timings["git_add_commit_s"] = time.perf_counter() - started
        started = time.perf_counter()
        git.run("push", cwd=checkout)
        timings["push_s"] = time.perf_counter() - started

        assert user.api.model_info(repo).sha == git.head(checkout)
        (entry,) = user.api.get_paths_info(repo, ["weights.bin"])
        assert isinstance(entry, RepoFile) and entry.lfs is not None
        assert (entry.lfs.sha256, entry.lfs.size) == (expected, SIZE)
        assert stored.stat().st_size == SIZE
        shutil.rmtree(checkout)  # keep the disk peak down: the hub has the bytes now

        started = time.perf_counter()
        local = hf_hub_download(
            repo,
            "weights.bin",
            cache_dir=tmp_path / "cache",
            endpoint=live_server.url,
            token=user.token,
        )
        timings["hf_hub_download_s"] = time.perf_counter() - started
        assert Path(local).stat().st_size == SIZE
        assert file_sha256(Path(local)) == expected
        shutil.rmtree(tmp_path / "cache")

        started = time.perf_counter()
        clone = git.clone(url, tmp_path / "clone")
        timings["clone_s"] = time.perf_counter() - started
        assert (clone / "weights.bin").stat().st_size == SIZE
        assert file_sha256(clone / "weights.bin") == expected
    finally:
        # Large files do not outlive the test (pytest keeps recent temp dirs around).
        user.api.delete_repo(repo, missing_ok=True)
        for leftover in ("checkout", "cache", "clone"):
            shutil.rmtree(tmp_path / leftover, ignore_errors=True)
        stored.unlink(missing_ok=True)
    print(f"git-lfs 1 GiB: {timings}")
