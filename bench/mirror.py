"""Measurement 8: mirror sync throughput, against a plain download of the same bytes.

An upstream hub (`hubstead serve`) holds a repo of one large LFS file (1 GiB; a few MiB in the
quick mode) and a model card. For each run a new mirror hub (a second `hubstead serve`, on a
fresh data dir, so nothing is stored yet) registers the repo with `hubstead mirror add` and
syncs it with `hubstead mirror sync --wait`: git objects over smart HTTP, then the LFS object,
hashed while it arrives, fsynced and stored, then the refs. The sync's duration is the job's
own, from its record (`startedAt` to `finishedAt` in the admin API): the command's start-up and
its polling are not the sync. The reference is `curl -L` of the file's resolve URL from the same
upstream, to a file on the same disk. The figure is the file's size over the time, in MiB/s;
goal >= 0.8.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

import hubstead
from bench._core import BenchContext, Hub, Result, find_tool, make_result, throughput
from bench._core import write_random_file as write_file

_REPO = "admin/mirrored"
_FILE = "model.safetensors"
_HUBSTEAD = [sys.executable, "-m", "hubstead.cli"]


def measure(ctx: BenchContext) -> list[Result]:
    """Time a fresh mirror's sync and curl's download of the same file; one `Result`."""
    curl = find_tool("curl")
    if curl is None:
        raise RuntimeError("curl is not installed")
    upstream = ctx.start_hub(name="upstream")
    try:
        _populate(ctx, upstream)
        sync_seconds: list[float] = []
        sync_walls: list[float] = []
        curl_seconds: list[float] = []
        ctx.log(f"8: mirror sync of {ctx.size_bytes // 2**20} MiB, {ctx.runs} runs per case")
        for _ in range(ctx.runs):
            curl_seconds.append(_curl(ctx, curl, upstream))
            seconds, wall = _sync(ctx, upstream)
            sync_seconds.append(seconds)
            sync_walls.append(wall)
    finally:
        upstream.stop()
    wall = ctx.median(sync_walls)
    return [
        make_result(
            "8",
            f"Mirror sync of a {_size(ctx.size_bytes)} repo",
            ours=throughput(ctx.size_bytes, sync_seconds),
            reference=throughput(ctx.size_bytes, curl_seconds),
            unit="MiB/s",
            higher_is_better=True,
            goal=">= 0.8",
            notes=(
                "A fresh mirror hub's `hubstead mirror sync --wait` (the job's own duration: "
                "git fetch, LFS object hashed, fsynced and stored, refs moved) vs `curl -L` of "
                "the file's resolve URL from the same upstream hub to disk (no fsync). "
                f"The command's wall time, start-up included, is {wall:.2f} s (median)."
            ),
        )
    ]


def _populate(ctx: BenchContext, upstream: Hub) -> None:
    source = ctx.fresh_dir("mirror-source") / _FILE
    write_file(source, ctx.size_bytes)
    api = hubstead.HfApi(endpoint=upstream.url, token=upstream.admin_token)
    api.create_repo(_REPO)
    operations = [
        hubstead.CommitOperationAdd("README.md", b"---\nlicense: mit\n---\n# Mirrored\n"),
        hubstead.CommitOperationAdd(_FILE, str(source)),
    ]
    api.create_commit(_REPO, operations, commit_message="weights")
    source.unlink()


def _curl(ctx: BenchContext, curl: str, upstream: Hub) -> float:
    """Seconds curl takes to download the file to disk."""
    target = ctx.fresh_dir("curl") / _FILE
    command = [curl, "-sSfL", "-H", f"Authorization: Bearer {upstream.admin_token}"]
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 (our own command line)
        [*command, "-o", str(target), f"{upstream.url}/{_REPO}/resolve/main/{_FILE}"], check=True
    )
    seconds = time.perf_counter() - started
    _check(target.stat().st_size == ctx.size_bytes, f"curl wrote {target.stat().st_size} bytes")
    target.unlink()
    return seconds


def _sync(ctx: BenchContext, upstream: Hub) -> tuple[float, float]:
    """A fresh mirror's sync of the repo: the job's duration and the command's wall time."""
    mirror = ctx.start_hub(name="mirror")
    try:
        data = ["--data-dir", str(mirror.data_dir)]
        _hubstead(
            "mirror", "add", _REPO, "--upstream", upstream.url,
            "--upstream-token", upstream.admin_token, *data,
        )  # fmt: skip
        started = time.perf_counter()
        job_id = _hubstead("mirror", "sync", _REPO, "--wait", *data).strip()
        wall = time.perf_counter() - started
        job = (
            httpx.get(
                f"{mirror.url}/api/admin/jobs/{job_id}",
                headers={"Authorization": f"Bearer {mirror.admin_token}"},
            )
            .raise_for_status()
            .json()
        )
        _check(job["state"] == "succeeded", f"the sync ended {job['state']}: {job['error']}")
        _check(
            job["progress"]["bytesDone"] == ctx.size_bytes,
            f"the sync fetched {job['progress']['bytesDone']} bytes",
        )
        head = httpx.head(f"{mirror.url}/{_REPO}/resolve/main/{_FILE}")
        _check(head.status_code == 302, f"the mirror answers {head.status_code} for the file")
        seconds = (_instant(job["finishedAt"]) - _instant(job["startedAt"])).total_seconds()
        return seconds, wall
    finally:
        mirror.stop()
        _remove(mirror.data_dir)


def _hubstead(*args: str) -> str:
    """Run the `hubstead` command; its stdout."""
    return subprocess.run(  # noqa: S603 (our own command line)
        [*_HUBSTEAD, *args], check=True, capture_output=True, text=True
    ).stdout


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _remove(data_dir: Path) -> None:
    """Free the mirror's copy (a GiB per run) as soon as the run is over."""
    shutil.rmtree(data_dir, ignore_errors=True)


def _size(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size / 2**20:g} MiB"


def _check(condition: bool, problem: str) -> None:
    """Stop the measurement when a case did not do the work it is timed for."""
    if not condition:
        raise RuntimeError(problem)
