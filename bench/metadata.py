"""Measurement 6: metadata requests per second at 16 concurrent connections.

`wrk` (Debian's package) sends, for a few seconds, over 16 keep-alive connections:

a. `HEAD /{repo}/resolve/main/{file}` of a regular file: the metadata request clients send
   before each download (200 with `X-Repo-Commit`, `ETag`, `Content-Length`);
b. the same for an LFS file: a 302 to the blob URL with `X-Linked-Size` and `X-Linked-Etag`;
c. `GET /api/models/{repo}`: the repo's info (JSON with siblings and card data).

The reference is `bench/_reference_app.py`: a minimal Starlette app in its own uvicorn process,
with the settings `hubstead serve` uses, answering the same requests with the status, headers
and body hubstead gave them (recorded first). The ratio is hubstead's requests per second over
the reference's; goal >= 0.5. The repo is public and wrk sends no token (the common case of
a public model).

a-c run one server process on each side, as `hubstead serve` does by default; d-f are the same
requests with two on each side (`hubstead serve --workers 2` on the same data dir, the
reference forked twice over one socket), which shows how far each scales on the machine's two
cores while wrk shares them.

wrk 4.1 reads a body after a HEAD whose `Content-Length` is not zero (it does not know the
request was a HEAD), and then never completes the request; the regular file of (a) is therefore
empty. The server's work does not depend on the size of a small file: it reads the blob either
way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

import hubstead
from bench._core import BenchContext, Hub, Result, find_tool, make_result

CONNECTIONS = 16
# wrk needs little CPU for this; one thread leaves the other core to the server's threads.
WRK_THREADS = 1
SECONDS, QUICK_SECONDS = 5, 1
WARMUP_SECONDS = 1
_HERE = Path(__file__).resolve().parent
_HEAD_SCRIPT = _HERE / "wrk_head.lua"
_REFERENCE_APP = _HERE / "_reference_app.py"
_REPO = "admin/metadata"
_CARD = b"---\nlicense: apache-2.0\nlibrary_name: transformers\ntags: [bench]\n---\n# Metadata\n"
# Per-request or per-connection headers the reference sets itself (uvicorn) or need not copy.
_NOT_RECORDED = {"date", "server"}
_REQUESTS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_ERRORS = re.compile(r"^\s+(Non-2xx or 3xx responses|Socket errors):.*$", re.MULTILINE)


@dataclass(frozen=True)
class _Case:
    title: str
    method: str
    path: str
    expected_status: int


_CASES = (
    _Case("Resolve HEAD, regular file", "HEAD", f"/{_REPO}/resolve/main/empty.txt", 200),
    _Case("Resolve HEAD, LFS file (302)", "HEAD", f"/{_REPO}/resolve/main/model.safetensors", 302),
    _Case("Repo info (GET /api/models/…)", "GET", f"/api/models/{_REPO}", 200),
)
# Server processes on each side, and the letter their cases start from.
_PROCESSES = ((1, "abc"), (2, "def"))


def measure(ctx: BenchContext) -> list[Result]:
    """Requests per second of hubstead and of the reference app, per case and process count."""
    wrk = find_tool("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    recorded = ctx.fresh_dir("reference") / "responses.json"
    data_dir: Path | None = None
    results: list[Result] = []
    for processes, keys in _PROCESSES:
        hub = ctx.start_hub(data_dir=data_dir, name="metadata", workers=processes)
        try:
            if data_dir is None:
                _populate(hub)
                recorded.write_text(json.dumps([_record(hub.url, case) for case in _CASES]))
                data_dir = hub.data_dir
            with _reference(recorded, processes) as reference_url:
                for key, case in zip(keys, _CASES, strict=True):
                    results.append(
                        _compare(ctx, wrk, f"6{key}", case, processes, hub.url, reference_url)
                    )
        finally:
            hub.stop()
    return results


def _populate(hub: Hub) -> None:
    """A public repo with a model card, an empty regular file and a (small) LFS file."""
    api = hubstead.HfApi(endpoint=hub.url, token=hub.admin_token)
    api.create_repo(_REPO)
    operations = [
        hubstead.CommitOperationAdd("README.md", _CARD),
        hubstead.CommitOperationAdd("config.json", b'{"model_type": "bench"}\n'),
        hubstead.CommitOperationAdd("empty.txt", b""),
        hubstead.CommitOperationAdd("model.safetensors", bytes(range(256)) * 64),
    ]
    api.create_commit(_REPO, operations, commit_message="metadata")


def _record(url: str, case: _Case) -> dict[str, object]:
    """The response hubstead gives to the case's request, as the reference app replays it."""
    response = httpx.request(case.method, url + case.path)
    if response.status_code != case.expected_status:
        expected = case.expected_status
        raise RuntimeError(f"{case.method} {case.path}: {response.status_code}, not {expected}")
    headers = [
        [name, value]
        for name, value in response.headers.multi_items()
        if name.lower() not in _NOT_RECORDED
    ]
    return {
        "method": case.method,
        "path": case.path,
        "status": response.status_code,
        "headers": headers,
        "body": response.content.decode("latin-1"),
    }


@contextmanager
def _reference(recorded: Path, processes: int) -> Iterator[str]:
    """The reference app in its own process(es); its URL."""
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, str(_REFERENCE_APP), str(recorded), str(processes)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        _wait_until_answering(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_answering(url: str) -> None:
    for _ in range(600):
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the reference app at {url} does not answer")


def _compare(
    ctx: BenchContext, wrk: str, key: str, case: _Case, processes: int, ours: str, reference: str
) -> Result:
    seconds = QUICK_SECONDS if ctx.quick else SECONDS
    samples: dict[str, list[float]] = {"ours": [], "reference": []}
    each = f"{processes} processes" if processes > 1 else "one process"
    ctx.log(f"{key}: {case.method} {case.path}, {each}, {ctx.runs} x {seconds} s per server")
    if not ctx.quick:
        for url in (ours, reference):
            _wrk(wrk, case, url, WARMUP_SECONDS)
    for _ in range(ctx.runs):
        for name, url in (("ours", ours), ("reference", reference)):
            samples[name].append(_wrk(wrk, case, url, seconds))
    return make_result(
        key,
        case.title if processes == 1 else f"{case.title}, {processes} server processes",
        ours=samples["ours"],
        reference=samples["reference"],
        unit="req/s",
        higher_is_better=True,
        goal=">= 0.5",
        notes=(
            f"wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{seconds}s, anonymous, public repo; "
            "reference: a Starlette/uvicorn app replaying hubstead's response (status, "
            f"headers, body), same uvicorn settings, {each} each."
        ),
    )


def _wrk(wrk: str, case: _Case, url: str, seconds: int) -> float:
    """Requests per second wrk measured; fails when any response or connection failed."""
    command = [wrk, f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    if case.method == "HEAD":
        command += ["-s", str(_HEAD_SCRIPT)]
    output = subprocess.run(  # noqa: S603 (our own command line)
        [*command, url + case.path], check=True, capture_output=True, text=True
    ).stdout
    errors = _ERRORS.search(output)
    match = _REQUESTS.search(output)
    if errors is not None or match is None or float(match.group(1)) == 0:
        raise RuntimeError(f"wrk {case.method} {url}{case.path} failed:\n{output}")
    return float(match.group(1))
