"""The official client in a process of its own: one upload or download, timed inside the process.

`huggingface_hub` reads `HF_HUB_DISABLE_XET` and `HF_HOME` once, at import, and `hf_xet` keeps
one session per process with its caches (shards, chunks) under `HF_HOME/xet`. A measurement
that compares Xet with plain HTTP, or that must not let a previous upload's local cache help
the next one, runs each transfer here, in a fresh process with an environment of its own
(`run_official`). The time covers the client call only: not the interpreter's start nor the
import, which a long-lived program pays once.

Run as `python -m bench._hf_client upload|download ...`; prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Transfer:
    """What a client process reports: the call's seconds and, for a download, the file."""

    seconds: float
    path: str


def run_official(
    arguments: list[str], *, xet: bool, home: Path, endpoint: str, token: str
) -> Transfer:
    """Run one transfer of the official client in a fresh process.

    Args:
        arguments: `["upload", repo_id, local_file, path_in_repo]` or
            `["download", repo_id, filename, cache_dir]`.
        xet: whether the client may use Xet (`HF_HUB_DISABLE_XET` unset or set).
        home: the process's `HF_HOME` (and `HF_XET_CACHE` below it): a fresh directory keeps
            hf_xet's local caches from helping one transfer with what another left.
        endpoint: the hub's URL.
        token: a token with the rights the transfer needs.

    Returns:
        The client call's duration and, for a download, the path it returned.
    """
    env = {
        **os.environ,
        "HF_HUB_DISABLE_XET": "0" if xet else "1",
        "HF_HOME": str(home),
        "HF_XET_CACHE": str(home / "xet"),
    }
    done = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "bench._hf_client", *arguments, "--endpoint", endpoint],
        input=token,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the official client failed ({' '.join(arguments)}):\n{done.stderr}")
    return Transfer(**json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    """The client process: read the token on stdin, run the transfer, print a `Transfer`."""
    parser = argparse.ArgumentParser(prog="python -m bench._hf_client")
    parser.add_argument("action", choices=["upload", "download"])
    parser.add_argument("repo_id")
    parser.add_argument("first", help="upload: the local file; download: the file in the repo")
    parser.add_argument("second", help="upload: the path in the repo; download: the cache dir")
    parser.add_argument("--endpoint", required=True)
    arguments = parser.parse_args()
    token = sys.stdin.read().strip()
    import huggingface_hub

    started = time.perf_counter()
    if arguments.action == "upload":
        huggingface_hub.HfApi(endpoint=arguments.endpoint, token=token).upload_file(
            path_or_fileobj=arguments.first,
            path_in_repo=arguments.second,
            repo_id=arguments.repo_id,
        )
        path = ""
    else:
        path = huggingface_hub.hf_hub_download(
            arguments.repo_id,
            arguments.first,
            endpoint=arguments.endpoint,
            token=token,
            cache_dir=arguments.second,
        )
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "path": path}))


if __name__ == "__main__":
    main()
