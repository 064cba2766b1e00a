"""Benchmark: one large file, end to end to disk, modelhub's client vs the official client.

Starts modelhub (`modelhub serve`, its own process) on a fresh data dir and uploads one file of
random bytes (LFS). Then downloads it into a fresh folder several times with:

- modelhub's `hf_hub_download` (default settings: parallel ranges; and with one connection);
- the official `huggingface_hub.hf_hub_download` over plain HTTP (Xet off);

once from the hub sending the bytes itself, and once through nginx with the documented download
offload (docs/operations.md: a second hub process on the same data dir answers with
`X-Accel-Redirect` and nginx sends the file); and with `curl -L` fetching the same URL from that
nginx, the bound set by a plain HTTP client that does not verify anything. Without nginx the
offload rows and the curl baseline are left out (the script says so).

Every download is complete and on disk; both Python clients also verify the bytes (modelhub
hashes while receiving). The script prints the median time and throughput of each case, and
ratios. Nothing is asserted: the figures are for the benchmark report.

    python bench/download_large_file.py --size-mib 1024 --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

# The official client reads its environment at import: plain HTTP, no bars, no stored token.
os.environ.update(
    HF_HUB_DISABLE_XET="1",
    HF_HUB_DISABLE_PROGRESS_BARS="1",
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",  # noqa: S106 (a flag, not a password)
)
for _name in ("HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE"):
    os.environ.pop(_name, None)

import huggingface_hub  # noqa: E402

from modelhub.client.downloads import hf_hub_download  # noqa: E402

# The documented nginx configuration is read and run by the test helper; reuse it as is.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.nginx import Nginx  # noqa: E402

MiB = 1024 * 1024
MODELHUB = [sys.executable, "-m", "modelhub.cli"]
OFFLOAD_PREFIX = "/_modelhub_blobs/"
Download = Callable[[Path], Path]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until `url` answers (anything), or fail if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_hub(work: Path, data: Path, name: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """`modelhub serve` on `data` (its log in `work/<name>.log`); return it and its URL."""
    port = free_port()
    log = (work / f"{name}.log").open("wb")
    command = [*MODELHUB, "serve", "--data-dir", str(data), "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [*command, "--log-level", "warning"],
        stdout=log,
        stderr=log,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/api/whoami-v2", process)
    return process, url


def make_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; return their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as file:
        remaining = size
        while remaining:
            block = os.urandom(min(16 * MiB, remaining))
            file.write(block)
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest()


def measure(run: Download, work: Path, runs: int, size: int) -> list[float]:
    """Seconds per run; each run downloads into a fresh folder, then checks the size."""
    times = []
    for attempt in range(runs):
        target = work / f"run-{attempt}"
        started = time.perf_counter()
        result = run(target)
        times.append(time.perf_counter() - started)
        if result.stat().st_size != size:
            raise RuntimeError(f"{result} has {result.stat().st_size} bytes, not {size}")
        shutil.rmtree(target)
    return times


def clients(url: str, token: str, repo: str) -> dict[str, Download]:
    """The Python clients, downloading `big.bin` from the hub at `url`."""

    def ours(connections: int | None) -> Download:
        def run(target: Path) -> Path:
            path = hf_hub_download(
                repo,
                "big.bin",
                endpoint=url,
                token=token,
                cache_dir=target,
                progress=False,
                connections=connections,
            )
            return Path(path)

        return run

    def official(target: Path) -> Path:
        path = huggingface_hub.hf_hub_download(
            repo, "big.bin", endpoint=url, token=token, cache_dir=target
        )
        return Path(path)

    return {
        "modelhub (parallel ranges)": ours(None),
        "modelhub (1 connection)": ours(1),
        "huggingface_hub": official,
    }


def curl(url: str, token: str, repo: str) -> Download:
    """`curl -L` of the file's resolve URL to disk."""

    def run(target: Path) -> Path:
        target.mkdir(parents=True)
        output = target / "big.bin"
        command = ["curl", "-sSfL", "-H", f"Authorization: Bearer {token}", "-o", str(output)]
        subprocess.run([*command, f"{url}/{repo}/resolve/main/big.bin"], check=True)  # noqa: S603
        return output

    return run


class ThrottledLink:
    """A TCP proxy to `target_port` that sends at most `rate` bytes/s per connection to clients.

    It stands for a network path where each connection is capped (a CDN, a long fat pipe):
    what parallel connections are for. Its own CPU use is small at the rates it is meant for.
    """

    def __init__(self, target_port: int, rate: float) -> None:
        self._target = ("127.0.0.1", target_port)
        self._rate = rate
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop accepting connections."""
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, self._rate), daemon=True
            ).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, rate: float | None) -> None:
        started, sent = time.monotonic(), 0
        with contextlib.suppress(OSError):
            while data := source.recv(256 * 1024):
                sink.sendall(data)
                sent += len(data)
                if rate is not None:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def main() -> None:
    """Set up, measure, report, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="file size [1024]")
    parser.add_argument("--runs", type=int, default=3, help="downloads per case [3]")
    parser.add_argument("--workdir", type=Path, help="where to put everything [a temp dir]")
    parser.add_argument(
        "--link-mib-s",
        type=float,
        default=100.0,
        help="also measure through a link capped at this rate per connection [100; 0: skip]",
    )
    arguments = parser.parse_args()
    size = arguments.size_mib * MiB
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-", dir=arguments.workdir))
    data = work / "hub"
    processes: list[subprocess.Popen[bytes]] = []
    nginx: Nginx | None = None
    links: list[ThrottledLink] = []
    try:
        token = subprocess.run(  # noqa: S603 (our own command line)
            [*MODELHUB, "admin", "create-user", "bench", "--admin", "--data-dir", str(data)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        hub, url = start_hub(work, data, "hub")
        processes.append(hub)
        api = huggingface_hub.HfApi(endpoint=url, token=token)
        repo = api.create_repo("bench/large-file", exist_ok=True).repo_id
        source = work / "big.bin"
        make_file(source, size)
        api.upload_file(path_or_fileobj=str(source), path_in_repo="big.bin", repo_id=repo)
        source.unlink()
        cases = {f"{name}, hub sends": run for name, run in clients(url, token, repo).items()}
        if arguments.link_mib_s:
            link = ThrottledLink(int(url.rsplit(":", 1)[1]), arguments.link_mib_s * MiB)
            links.append(link)
            capped = f"{arguments.link_mib_s:g} MiB/s link"
            for name, run in clients(link.url, token, repo).items():
                cases[f"{name}, {capped}"] = run
        search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
        if shutil.which("nginx", path=search) is not None:
            offloaded, offloaded_url = start_hub(
                work, data, "hub-offload", MODELHUB_X_ACCEL_REDIRECT_PREFIX=OFFLOAD_PREFIX
            )
            processes.append(offloaded)
            nginx = Nginx(work / "nginx", offloaded_url, data / "blobs").start()
            for name, run in clients(nginx.url, token, repo).items():
                cases[f"{name}, nginx offload"] = run
            cases["curl -L, nginx offload"] = curl(nginx.url, token, repo)
        else:
            print("nginx is not installed: no offload rows and no curl baseline", flush=True)
        print(f"{arguments.size_mib} MiB file, {arguments.runs} runs per case", flush=True)
        results = {name: measure(run, work, arguments.runs, size) for name, run in cases.items()}
        report(results, size)
    finally:
        for link in links:
            link.close()
        if nginx is not None:
            nginx.stop()
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, list[float]], size: int) -> None:
    """A table of medians, then the ratios the performance goals are about."""
    medians = {name: statistics.median(times) for name, times in results.items()}
    print(f"\n{'case':<46} {'median s':>9} {'MiB/s':>8}")
    for name, median in medians.items():
        print(f"{name:<46} {median:>9.2f} {size / MiB / median:>8.0f}")
    print()
    wheres = {name.split(", ", 1)[1] for name in medians if ", " in name}
    for where in sorted(wheres):
        ours, theirs = (
            medians.get(f"{c}, {where}") for c in ("modelhub (parallel ranges)", "huggingface_hub")
        )
        if ours and theirs:
            print(f"{where}: modelhub is {theirs / ours:.2f}x as fast as huggingface_hub")
    best = medians.get("modelhub (parallel ranges), nginx offload")
    baseline = medians.get("curl -L, nginx offload")
    if best and baseline:
        print(f"nginx offload: modelhub takes {best / baseline:.2f}x the time curl takes")


if __name__ == "__main__":
    main()
