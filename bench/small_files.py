"""Measurements 4 and 5: many small files.

4. `snapshot_download` of a repo of 1,000 small files into a fresh cache: hubstead's client
   against the official client, both with their default 8 workers. Goal: ours at least 1.5x
   as fast (ratio >= 1.5).
5. (a) One commit of 1,000 small files through hubstead's client (`upload_folder` into a new
   repo), against `git add -A && git commit` of the same files in a new local repository; the
   official client's `upload_folder` is timed too, for information (in the notes).
   (b) Listing a 10,000-file tree recursively through hubstead's client
   (`list_repo_tree(recursive=True)`, every page), against `git ls-tree -r -t -l HEAD` (files
   and folders with their sizes, what the hub's listing holds) on a local repository of the same
   files. Goal for both: within 2x of git (ratio >= 0.5).

The files are regular git files (1 to 4 KiB of random text), spread over folders of 100. The cases
take turns run after run, so a drift of the machine hits every case alike. The hub is one
`hubstead serve` process, the client runs in this process, as a user's would.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import huggingface_hub

import hubstead
from bench._core import BenchContext, Hub, Result, make_result, timed
from hubstead import RepoFile

FILES = 1_000
TREE_FILES = 10_000
QUICK_FILES = 50
QUICK_TREE_FILES = 1_000
_PER_FOLDER = 100
_MIN_SIZE, _MAX_SIZE = 1024, 4096
T = TypeVar("T")
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def measure(ctx: BenchContext) -> list[Result]:
    """Time the snapshot, the commit and the listing; one `Result` each."""
    files = QUICK_FILES if ctx.quick else FILES
    tree_files = QUICK_TREE_FILES if ctx.quick else TREE_FILES
    hub = ctx.start_hub(name="small-files")
    try:
        return [
            _snapshot(ctx, hub, files),
            _commit(ctx, hub, files),
            _listing(ctx, hub, tree_files),
        ]
    finally:
        hub.stop()


def write_files(root: Path, count: int, seed: int = 0) -> int:
    """Write `count` small text files under `root`, in folders of 100; return their bytes.

    Text, so that they are regular git files: the hub (like huggingface.co) sends binary
    content to LFS whatever its size.
    """
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    total = 0
    for index in range(count):
        path = root / f"part-{index // _PER_FOLDER:03d}" / f"file-{index:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = rng.randint(_MIN_SIZE, _MAX_SIZE)
        lines = [rng.randbytes(32).hex() for _ in range(size // 65 + 1)]
        data = "\n".join(lines).encode()[:size]
        path.write_bytes(data)
        total += len(data)
    return total


def _snapshot(ctx: BenchContext, hub: Hub, files: int) -> Result:
    source = ctx.fresh_dir("snapshot-source")
    size = write_files(source, files)
    api = hubstead.HfApi(endpoint=hub.url, token=hub.admin_token)
    repo = api.create_repo("admin/small-files").repo_id
    api.upload_folder(repo_id=repo, folder_path=source, commit_message="small files")
    entries = [e for e in api.list_repo_tree(repo, recursive=True) if isinstance(e, RepoFile)]
    _check(not any(e.lfs for e in entries), "some of the small files were stored in LFS")
    expected = files + 1  # and .gitattributes

    def ours(cache: Path) -> str:
        return hubstead.snapshot_download(
            repo, endpoint=hub.url, token=hub.admin_token, cache_dir=cache, progress=False
        )

    def official(cache: Path) -> str:
        return huggingface_hub.snapshot_download(
            repo, endpoint=hub.url, token=hub.admin_token, cache_dir=cache
        )

    samples: dict[str, list[float]] = {"ours": [], "official": []}
    ctx.log(f"4: snapshot of {files} files ({size / 1024:.0f} KiB), {ctx.runs} runs per client")
    for _ in range(ctx.runs):
        for name, download in (("ours", ours), ("official", official)):
            cache = ctx.fresh_dir(f"snapshot-{name}")
            seconds, folder = _timed_value(functools.partial(download, cache))
            samples[name].append(seconds)
            _check_count(Path(folder), expected)
            shutil.rmtree(cache)
    return make_result(
        "4",
        f"Snapshot of {files:,} small files",
        ours=samples["ours"],
        reference=samples["official"],
        unit="s",
        higher_is_better=False,
        goal=">= 1.5",
        notes=(
            f"hubstead.snapshot_download vs huggingface_hub {huggingface_hub.__version__} "
            f"snapshot_download, {files:,} regular files of 1-4 KiB, fresh cache each run, "
            "8 workers each."
        ),
    )


def _commit(ctx: BenchContext, hub: Hub, files: int) -> Result:
    source = ctx.fresh_dir("commit-source")
    write_files(source, files, seed=1)
    ours = hubstead.HfApi(endpoint=hub.url, token=hub.admin_token)
    official = huggingface_hub.HfApi(endpoint=hub.url, token=hub.admin_token)
    samples: dict[str, list[float]] = {"ours": [], "official": [], "git": []}
    ctx.log(f"5a: one commit of {files} files, {ctx.runs} runs per case")
    for run in range(ctx.runs):
        for name, api in (("ours", ours), ("official", official)):
            repo = api.create_repo(f"admin/commit-{name}-{run}").repo_id
            upload = functools.partial(api.upload_folder, repo_id=repo, folder_path=source)
            samples[name].append(timed(upload))
            listed = ours.list_repo_files(repo)
            _check(len(listed) == files + 1, f"{repo} holds {len(listed)} files")
        work = ctx.fresh_dir("commit-git")
        _git(work, "init", "-q")
        shutil.copytree(source, work, dirs_exist_ok=True)
        samples["git"].append(timed(functools.partial(_git_commit, work)))
        listed_git = _git(work, "ls-files").splitlines()
        _check(len(listed_git) == files, f"git committed {len(listed_git)} files")
        shutil.rmtree(work)
    official_median = ctx.median(samples["official"])
    return make_result(
        "5a",
        f"One commit of {files:,} small files",
        ours=samples["ours"],
        reference=samples["git"],
        unit="s",
        higher_is_better=False,
        goal=">= 0.5",
        notes=(
            "hubstead HfApi.upload_folder into a new repo (preupload, NDJSON commit) vs "
            "`git add -A && git commit` in a new local repo. For information, huggingface_hub's "
            f"upload_folder takes {official_median:.2f} s (median)."
        ),
    )


def _listing(ctx: BenchContext, hub: Hub, tree_files: int) -> Result:
    source = ctx.fresh_dir("tree-source")
    write_files(source, tree_files, seed=2)
    api = hubstead.HfApi(endpoint=hub.url, token=hub.admin_token)
    repo = api.create_repo("admin/large-tree").repo_id
    ctx.log(f"5b: uploading a tree of {tree_files} files")
    api.upload_folder(repo_id=repo, folder_path=source, commit_message="large tree")
    # The local repo holds the same tree, .gitattributes included.
    work = ctx.fresh_dir("tree-git")
    _git(work, "init", "-q")
    shutil.copytree(source, work, dirs_exist_ok=True)
    attributes = hubstead.hf_hub_download(
        repo,
        ".gitattributes",
        endpoint=hub.url,
        token=hub.admin_token,
        cache_dir=ctx.fresh_dir("attributes"),
    )
    shutil.copyfile(attributes, work / ".gitattributes")
    _git_commit(work)
    folders = -(-tree_files // _PER_FOLDER)
    expected = tree_files + 1 + folders

    def ours() -> int:
        return sum(1 for _ in api.list_repo_tree(repo, recursive=True))

    def git() -> int:
        return len(_git(work, "ls-tree", "-r", "-t", "-l", "HEAD").splitlines())

    samples: dict[str, list[float]] = {"ours": [], "git": []}
    ctx.log(f"5b: recursive listing of {tree_files} files, {ctx.runs} runs per case")
    for _ in range(ctx.runs):
        for name, listing in (("ours", ours), ("git", git)):
            seconds, count = _timed_value(listing)
            samples[name].append(seconds)
            _check(count == expected, f"{name} listed {count} entries, not {expected}")
    return make_result(
        "5b",
        f"Recursive listing of a {tree_files:,}-file tree",
        ours=samples["ours"],
        reference=samples["git"],
        unit="s",
        higher_is_better=False,
        goal=">= 0.5",
        notes=(
            "hubstead HfApi.list_repo_tree(recursive=True), every page of 1,000 entries, vs "
            "`git ls-tree -r -t -l HEAD` (files and folders with sizes) on a local repo of the "
            "same files."
        ),
    )


def _git(work: Path, *args: str) -> str:
    """Run git in `work` with a fixed identity and no automatic gc; return its output."""
    command = ["git", "-c", "gc.auto=0", "-c", "core.hooksPath=/dev/null", *args]
    return subprocess.run(  # noqa: S603 (our own command line)
        command,
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_IDENTITY},
    ).stdout


def _git_commit(work: Path) -> None:
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "small files")


def _check_count(folder: Path, expected: int) -> None:
    found = sum(1 for path in folder.rglob("*") if path.is_file())
    _check(found == expected, f"{folder} holds {found} files, not {expected}")


def _check(condition: bool, problem: str) -> None:
    """Stop the measurement when a case did not do the work it is timed for."""
    if not condition:
        raise RuntimeError(problem)


def _timed_value(action: Callable[[], T]) -> tuple[float, T]:
    """Seconds `action` takes, and what it returned (to check it did the work)."""
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value
