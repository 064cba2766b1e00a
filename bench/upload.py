"""Item 3: uploading one large file, against hashing it (the floor any LFS upload pays).

An LFS upload must know the file's sha256 before it sends a byte (the pointer names it), so no
client can beat reading and hashing the file once: `hashlib.file_digest` over the same file on
this machine is the reference. The hubstead client (`hubstead.client.api.HfApi.upload_file`) and
the official client (`huggingface_hub.HfApi.upload_file`, plain HTTP) each upload the file to a
hub running as its own process; the time covers the whole call (hashing, LFS batch, transfer,
commit).

Every upload sends new content: the file's first MiB is rewritten with random bytes before
each one, or the hub would (rightly) skip the transfer of an object it already has. The file
stays in the page cache throughout, for the uploads and the hashing alike.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import huggingface_hub

from bench._core import BenchContext, MiB, Result, make_result, throughput, timed, write_random_file
from hubstead.client.api import HfApi

FILENAME = "upload.bin"
GOAL = ">= 0.7"


def measure(ctx: BenchContext) -> list[Result]:
    """Item 3 (see the module docstring)."""
    hub = ctx.start_hub(name="upload")
    source = ctx.fresh_dir("upload-source") / FILENAME
    write_random_file(source, ctx.size_bytes)
    official = huggingface_hub.HfApi(endpoint=hub.url, token=hub.admin_token)
    ours_repo = official.create_repo("admin/upload-hubstead").repo_id
    official_repo = official.create_repo("admin/upload-official").repo_id
    ctx.log(f"upload: {ctx.size_bytes} bytes, {ctx.runs} runs")
    seconds: dict[str, list[float]] = {"sha256": [], "ours": [], "official": []}
    with HfApi(endpoint=hub.url, token=hub.admin_token) as ours:
        for _ in range(ctx.runs):
            new_content(source)
            seconds["sha256"].append(timed(lambda: _sha256(source)))
            new_content(source)
            seconds["ours"].append(
                timed(
                    lambda: ours.upload_file(
                        path_or_fileobj=source, path_in_repo=FILENAME, repo_id=ours_repo
                    )
                )
            )
            new_content(source)
            seconds["official"].append(
                timed(
                    lambda: official.upload_file(
                        path_or_fileobj=str(source), path_in_repo=FILENAME, repo_id=official_repo
                    )
                )
            )
    rates = {name: throughput(ctx.size_bytes, samples) for name, samples in seconds.items()}
    mib = ctx.size_bytes // MiB
    return [
        make_result(
            "3a",
            f"{mib} MiB upload: hubstead client vs sha256 of the file",
            ours=rates["ours"],
            reference=rates["sha256"],
            unit="MiB/s",
            higher_is_better=True,
            goal=GOAL,
            notes="hubstead's HfApi.upload_file (LFS) to the hub, the whole call; reference: "
            "hashlib.file_digest(sha256) over the same file.",
        ),
        make_result(
            "3b",
            f"{mib} MiB upload: official client vs sha256 of the file",
            ours=rates["official"],
            reference=rates["sha256"],
            unit="MiB/s",
            higher_is_better=True,
            goal=GOAL,
            notes="huggingface_hub's HfApi.upload_file (LFS, plain HTTP) to the same hub, the "
            "whole call; reference as 3a.",
        ),
    ]


def new_content(path: Path) -> None:
    """Rewrite the file's first MiB with random bytes: a new object, the same size."""
    with path.open("r+b") as file:
        file.write(os.urandom(MiB))


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
