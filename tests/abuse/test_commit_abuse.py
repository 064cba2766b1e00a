"""A commit line of hundreds of MiB cannot grow the server's memory (issue 9, D9).

The hub runs as `hubstead serve` in a process of its own, so its peak resident size (`VmHWM`)
measures the server alone. Before lines were bounded, a 240 MiB line grew it by about 1 GiB.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.processes import HubsteadProcess

MiB = 1024 * 1024
MAX_INLINE = 16 * MiB
LINE = 240 * MiB


def peak_rss(pid: int) -> int:
    """The peak resident set size of a process, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def huge_commit() -> Iterator[bytes]:
    """A header, then one `file` line whose content is 240 MiB of base64, sent in chunks."""
    yield json.dumps({"key": "header", "value": {"summary": "huge"}}).encode() + b"\n"
    yield b'{"key": "file", "value": {"path": "huge.bin", "content": "'
    chunk = b"A" * MiB
    for _ in range(LINE // MiB):
        yield chunk
    yield b'"}}\n'


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_240_mib_commit_line_is_refused_without_growing_the_server(tmp_path: Path) -> None:
    server = HubsteadProcess(
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path),
        env={"HUBSTEAD_MAX_REGULAR_FILE_BYTES": str(MAX_INLINE)},
    )
    try:
        url = server.wait_until_serving()
        token = server.exported("HF_TOKEN")
        with httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            http.post("/api/repos/create", json={"name": "abuse"}).raise_for_status()
            before = peak_rss(server.process.pid)
            response = None
            # The hub may answer and close before the client has sent everything.
            with contextlib.suppress(httpx.TransportError):
                response = http.post(
                    "/api/models/admin/abuse/commit/main",
                    content=huge_commit(),
                    headers={"content-type": "application/x-ndjson"},
                )
            grown = peak_rss(server.process.pid) - before
    finally:
        server.stop()

    # A few times the inline limit at most; the line itself never sits in memory.
    assert grown < 4 * MAX_INLINE, f"the server grew by {grown // MiB} MiB"
    if response is not None:
        assert response.status_code == 413, response.text
