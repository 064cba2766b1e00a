"""Measurement 10: the web hub's pages of a 10,000-file repo, against a 100 ms budget.

A public model holds 10,000 small files, a card and a safetensors file, laid out two ways:

a. all of them in the root folder (the repo page shows the first 100 and links to the rest);
b. in 100 folders of 100 files (the root holds the folders).

For each layout the figure is the median time of `GET /{repo}` as a browser asks for it
(`Accept: text/html`, anonymous, one connection kept alive, the first request discarded as
warm-up), and for (a) also of `GET /{repo}/tree/main` (a page of 200 entries) and of a file's
`/blob/` page. The goal is absolute (under 100 ms on this machine), so the reference column is
the budget and the ratio is budget / time (> 1: within budget). The API's repo info
(`GET /api/models/{repo}`, which lists every file) is timed alongside for scale, in the notes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

import hubstead
from bench._core import BenchContext, Hub, Result, make_result, median

FILES = 10_000
BUDGET_MS = 100.0
REQUESTS = 20
_CARD = b"---\nlicense: apache-2.0\nlibrary_name: transformers\n---\n# Ten thousand files\n"


def measure(ctx: BenchContext) -> list[Result]:
    """Item 10 (see the module docstring)."""
    hub = ctx.start_hub(name="web-pages")
    try:
        flat = _populate(hub, "admin/flat", lambda i: f"file-{i:05d}.txt")
        nested = _populate(hub, "admin/nested", lambda i: f"part-{i // 100:03d}/file-{i:05d}.txt")
        cases = [
            ("10a", "Repo page, 10,000 files in the root", f"/{flat}", f"/api/models/{flat}"),
            ("10b", "Repo page, 10,000 files in 100 folders", f"/{nested}", None),
            ("10c", "Folder page, 10,000 files (first 200)", f"/{flat}/tree/main", None),
            ("10d", "File page of a 10,000-file repo", f"/{flat}/blob/main/file-00042.txt", None),
        ]
        # The API's repo info of the 10,000-file repo takes seconds on a loaded machine.
        timeout = httpx.Timeout(120)
        with httpx.Client(
            base_url=hub.url, headers={"accept": "text/html"}, timeout=timeout
        ) as client:
            return [_time(ctx, client, *case) for case in cases]
    finally:
        hub.stop()


def _populate(hub: Hub, repo_id: str, path_of: Callable[[int], str]) -> str:
    api = hubstead.HfApi(endpoint=hub.url, token=hub.admin_token)
    api.create_repo(repo_id)
    operations = [
        hubstead.CommitOperationAdd("README.md", _CARD),
        hubstead.CommitOperationAdd("model.safetensors", b"\x02\0\0\0\0\0\0\0{}" + bytes(1024)),
        *(hubstead.CommitOperationAdd(path_of(i), f"{i}\n".encode()) for i in range(FILES)),
    ]
    api.create_commit(repo_id, operations, commit_message="ten thousand files")
    return repo_id


def _time(
    ctx: BenchContext, client: httpx.Client, key: str, title: str, path: str, api: str | None
) -> Result:
    count = 3 if ctx.quick else REQUESTS
    ctx.log(f"{key}: GET {path}, {ctx.runs} x {count} requests")
    runs = [_median_ms(client, path, count) for _ in range(ctx.runs)]
    notes = f"median of {count} sequential GETs per run, anonymous, keep-alive, warm"
    if api is not None:
        notes += f"; for scale, the API's repo info: {_median_ms(client, api, count):.0f} ms"
    return make_result(
        key,
        title,
        ours=runs,
        reference=[BUDGET_MS],
        unit="ms",
        higher_is_better=False,
        goal=">= 1",
        notes=notes,
    )


def _median_ms(client: httpx.Client, path: str, count: int) -> float:
    client.get(path).raise_for_status()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
    return median(samples)
