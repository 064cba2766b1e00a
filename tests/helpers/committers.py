"""Client processes committing to one branch at once, through the official client.

Separate processes, not threads of the test process: each has its own connections and its own
interpreter lock, so the commits reach the hub (and each of its worker processes) truly at once.
"""

from __future__ import annotations

import subprocess
import sys

# One client process: `threads` threads, each making `commits` commits to main, parent unset.
_COMMITTER = """
import sys, threading
from huggingface_hub import CommitOperationAdd, HfApi

endpoint, token, repo, name, threads, commits = sys.argv[1:]
api = HfApi(endpoint=endpoint, token=token)
failures = []

def work(thread):
    for index in range(int(commits)):
        path = f"{name}/{thread}/{index}.txt"
        try:
            api.create_commit(
                repo, [CommitOperationAdd(path, path.encode())], commit_message=path
            )
        except Exception as exc:
            failures.append(f"{path}: {exc!r}")

workers = [threading.Thread(target=work, args=(n,)) for n in range(int(threads))]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def commit_from_processes(
    url: str, token: str, repo: str, *, processes: int, threads: int, commits: int
) -> set[str]:
    """Run `processes` clients of `threads` threads making `commits` commits each to main.

    Returns the paths committed (each commit adds one, titled with it); raises AssertionError,
    with the clients' output, if any commit failed.
    """
    counts = (str(threads), str(commits))
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", _COMMITTER, url, token, repo, f"p{n}", *counts],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(processes)
    ]
    outputs = [client.communicate(timeout=240)[0] for client in clients]
    assert [client.returncode for client in clients] == [0] * processes, outputs
    return {
        f"p{p}/{t}/{i}.txt"
        for p in range(processes)
        for t in range(threads)
        for i in range(commits)
    }
