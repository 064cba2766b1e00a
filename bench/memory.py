"""Item 7: the server's peak memory while 8 clients download one large file at once.

A hub (`hubstead serve`, its own process) stores one file of random bytes as LFS. For each run a
new server process starts on that data dir, answers one request (so its imports and database
are warm), and then 8 `curl -L` processes fetch the file's resolve URL to /dev/null at the same
time: the hub sends the bytes itself, with no nginx in front. The figure is the process's peak
resident set (`VmHWM` in /proc/<pid>/status, which the kernel keeps) once they are done; a new
process per run keeps the upload and earlier runs out of it.

The goal is absolute (under 250 MB), so the reference column is that budget and the ratio is
budget / peak (> 1: under budget). A server that held the file in memory would need its size
at least once; one that buffered each response, eight times.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx

from bench._core import BenchContext, MiB, Result, make_result, median
from bench._large import seed_large_file

CLIENTS = 8
BUDGET_MB = 250.0
MB = 1_000_000
CURL = ("curl", "-sSfL", "-o", os.devnull, "-w", "%{size_download}")


def measure(ctx: BenchContext) -> list[Result]:
    """Item 7 (see the module docstring)."""
    first = ctx.start_hub(name="memory")
    large = seed_large_file(ctx, first, "memory")
    first.stop()
    ctx.log(f"memory: {CLIENTS} clients x {large.size} bytes, {ctx.runs} runs")
    peaks: list[float] = []
    idle: list[float] = []
    for _ in range(ctx.runs):
        hub = ctx.start_hub(data_dir=first.data_dir, name="memory-run")
        url = large.resolve_url.replace(first.url, hub.url)
        token = hub.admin_token
        headers = {"Authorization": f"Bearer {token}"}
        httpx.head(url, headers=headers, follow_redirects=True).raise_for_status()
        idle.append(_kib(hub.pid, "VmHWM") * 1024 / MB)
        clients = [
            subprocess.Popen(  # noqa: S603 (our own command line)
                [*CURL, "-H", f"Authorization: Bearer {token}", url],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(CLIENTS)
        ]
        for client in clients:
            received, _ = client.communicate()
            if client.returncode != 0 or int(received) != large.size:
                raise RuntimeError(f"a client got {received!r} bytes (curl {client.returncode})")
        peaks.append(_kib(hub.pid, "VmHWM") * 1024 / MB)
        hub.stop()
    idle_mb = median(idle)
    return [
        make_result(
            "7",
            f"Server peak RSS, {CLIENTS} clients downloading a {large.size // MiB} MiB file",
            ours=peaks,
            reference=[BUDGET_MB],
            unit="MB",
            higher_is_better=False,
            goal="> 1",
            notes=f"VmHWM of the `hubstead serve` process (MB = 10^6 bytes; {idle_mb:.0f} MB "
            f"after start and one request); {CLIENTS} concurrent curl -L to /dev/null, the hub "
            f"sending the bytes itself. Reference: the {BUDGET_MB:.0f} MB budget.",
        ),
    ]


def _kib(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmHWM: peak resident set)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    found = re.search(rf"^{field}:\s*(\d+) kB$", status, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {field} in /proc/{pid}/status")
    return int(found.group(1))
