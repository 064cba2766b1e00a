"""The contract between the benchmark runner and the measurement modules.

Each measurement module exposes `measure(ctx: BenchContext) -> list[Result]` and is listed in
the registry of `bench.__main__`. It sets up what it needs through the context (hubs started as
their own `hubstead serve` processes, files in the run's work dir), times hubstead and a
reference doing the same work on the same machine in the same run, and returns one `Result` per
figure. Nothing here asserts a figure: the runner reports them.

The ratio, everywhere: **greater than 1 means hubstead does better than the reference.**

- higher is better (throughput, MiB/s or req/s): `ratio = ours / reference`;
- lower is better (seconds, MB): `ratio = reference / ours`.

So a ratio of 0.8 on a download reads "hubstead reaches 80 % of the reference's throughput", and
a ratio of 0.5 on a commit reads "hubstead takes twice the time git takes". A goal is a
condition on that ratio, written `">= 0.8"` or `"> 1"` (operators `>=`, `>`, `<=`, `<`);
`make_result` computes both the ratio and whether the goal is met. An absolute goal (peak memory
under 250 MB) uses the budget as its reference: `reference = 250`, `goal = "> 1"`.

`ours` and `reference` are medians of the raw samples, which are kept in the result.
"""

from __future__ import annotations

import hashlib
import operator
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MiB = 1024 * 1024
GiB = 1024 * MiB
FULL_SIZE = GiB
# Above the hub's default LFS threshold (10 MiB), so the quick mode still exercises LFS.
QUICK_SIZE = 12 * MiB
HUB_START_TIMEOUT = 60.0
_USER_HF_VARIABLES = ("HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE")
_GOAL_OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Result:
    """One figure: hubstead against its reference.

    Attributes:
        key: the item of the issue it measures, "1" to "8", with a suffix when an item has
            several figures ("2a", "2b").
        title: what was measured, in a few words.
        ours: hubstead's median, in `unit`.
        reference: the reference's median (or the budget, for an absolute goal), in `unit`.
        unit: "MiB/s", "s", "req/s" or "MB".
        higher_is_better: whether a larger figure is better (throughput) or worse (time, memory).
        goal: the condition on `ratio` the issue sets, e.g. ">= 0.8".
        ratio: greater than 1 when hubstead does better (see the module docstring).
        goal_met: whether `ratio` satisfies `goal`.
        runs: hubstead's raw samples, in `unit`.
        notes: how it was measured, what the reference is, anything a reader must know.
        reference_runs: the reference's raw samples, in `unit`.
    """

    key: str
    title: str
    ours: float
    reference: float
    unit: str
    higher_is_better: bool
    goal: str
    ratio: float
    goal_met: bool
    runs: list[float]
    notes: str = ""
    reference_runs: list[float] = field(default_factory=list)


def ratio_of(ours: float, reference: float, *, higher_is_better: bool) -> float:
    """The ratio of the module docstring: greater than 1 when `ours` is better."""
    return ours / reference if higher_is_better else reference / ours


def goal_met(ratio: float, goal: str) -> bool:
    """Whether `ratio` satisfies `goal` (an operator and a number, e.g. ">= 0.8")."""
    symbol, _, threshold = goal.strip().partition(" ")
    if symbol not in _GOAL_OPERATORS:
        raise ValueError(f"a goal is an operator ({', '.join(_GOAL_OPERATORS)}) and a number")
    return _GOAL_OPERATORS[symbol](ratio, float(threshold))


def make_result(
    key: str,
    title: str,
    *,
    ours: list[float],
    reference: list[float],
    unit: str,
    higher_is_better: bool,
    goal: str,
    notes: str = "",
) -> Result:
    """A `Result` from raw samples: medians, the ratio, and whether the goal is met."""
    ours_median, reference_median = median(ours), median(reference)
    ratio = ratio_of(ours_median, reference_median, higher_is_better=higher_is_better)
    return Result(
        key=key,
        title=title,
        ours=ours_median,
        reference=reference_median,
        unit=unit,
        higher_is_better=higher_is_better,
        goal=goal,
        ratio=ratio,
        goal_met=goal_met(ratio, goal),
        runs=list(ours),
        notes=notes,
        reference_runs=list(reference),
    )


def median(samples: list[float]) -> float:
    """The median of `samples` (at least one)."""
    return float(statistics.median(samples))


def throughput(size_bytes: int, seconds: list[float]) -> list[float]:
    """MiB/s for each duration of moving `size_bytes`."""
    return [size_bytes / MiB / s for s in seconds]


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes (wall clock)."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def write_random_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path` (incompressible, like weights); return their sha256."""
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        remaining = size
        while remaining:
            block = os.urandom(min(16 * MiB, remaining))
            file.write(block)
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest()


def isolate_environment() -> None:
    """Set the environment every benchmark runs in; the runner calls it before any measurement.

    The official client reads its environment once, at import (so this must come first): plain
    HTTP (no Xet), no progress bars, no telemetry, and no token or endpoint of the machine's user
    leaking into a run. The same for hubstead: its client's `HUBSTEAD_*` variables, and the
    server settings the hubs of a run would otherwise inherit (each measurement passes the
    settings it means to `start_hub`).
    """
    if "huggingface_hub" in sys.modules:
        raise RuntimeError("huggingface_hub was imported before the environment was set")
    os.environ.update(
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_IMPLICIT_TOKEN="1",  # noqa: S106 (a flag, not a password)
    )
    for name in list(os.environ):
        if name.startswith("HUBSTEAD_") or name in _USER_HF_VARIABLES:
            del os.environ[name]


def find_tool(name: str) -> str | None:
    """The path of a command (sbin directories included: nginx lives there), or None."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    return shutil.which(name, path=search)


class Hub:
    """A `hubstead serve` process of the benchmark run: its URL, admin token and data dir."""

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, admin_token: str, data_dir: Path
    ) -> None:
        self.process = process
        self.url = url
        self.admin_token = admin_token
        self.data_dir = data_dir

    @property
    def pid(self) -> int:
        """The server's process id (for its memory: /proc/<pid>/status)."""
        return self.process.pid

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers); idempotent."""
        stop_process(self.process, grace=30)


def free_port() -> int:
    """A loopback port free at the time of asking, for a server that takes its port as an option."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, timeout: float, name: str, log: Path
) -> None:
    """Return once `process` accepts connections on loopback `port`.

    Raises:
        RuntimeError: it exited first (with its `log`), or did not listen within `timeout`
            seconds (then it is stopped).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            raise RuntimeError(f"{name} did not start:\n{text}")
        with socket.socket() as conn:
            if conn.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout} s")


def stop_process(process: subprocess.Popen[bytes] | None, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace` seconds; idempotent."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class BenchContext:
    """What a measurement gets from the runner.

    Attributes:
        quick: the smoke-test mode: small sizes, one run; figures are not meaningful.
        workdir: this run's scratch directory (removed by the runner afterwards).
        runs: how many samples to take of each case.
        size_bytes: the size of "the large file" (1 GiB, or `QUICK_SIZE` in quick mode).
    """

    quick: bool
    workdir: Path
    runs: int
    size_bytes: int
    _hubs: list[Hub] = field(default_factory=list, repr=False)
    _tokens: dict[Path, str] = field(default_factory=dict, repr=False)
    _dirs: int = field(default=0, repr=False)

    @property
    def nginx(self) -> str | None:
        """The nginx executable, or None when nginx is not installed."""
        return find_tool("nginx")

    @staticmethod
    def median(samples: list[float]) -> float:
        """The median of `samples`."""
        return median(samples)

    def log(self, message: str) -> None:
        """Progress for the person running the benchmarks (stderr, not the results table)."""
        print(f"  {message}", file=sys.stderr, flush=True)

    def fresh_dir(self, name: str) -> Path:
        """A new, empty directory in the work dir (unique even when `name` repeats)."""
        self._dirs += 1
        path = self.workdir / f"{self._dirs:03d}-{name}"
        path.mkdir(parents=True)
        return path

    def start_hub(
        self,
        *,
        data_dir: Path | None = None,
        name: str = "hub",
        environ: Mapping[str, str] | None = None,
        **settings: object,
    ) -> Hub:
        """Start `hubstead serve` as its own process, on a free loopback port.

        Args:
            data_dir: the data dir; default a fresh one. A data dir a previous hub of this run
                used is shared (e.g. a second hub with the nginx offload on the same blobs),
                and the admin token of the first hub is reused.
            name: names the data dir and the server's log file (`<name>.log` in the work dir).
            environ: variables the server reads besides its settings (e.g. the `AWS_*`
                credentials of an s3 blob backend).
            **settings: server settings (`Settings` field names, e.g.
                `x_accel_redirect_prefix="/_hubstead_blobs/"`), passed as `HUBSTEAD_*`.

        Returns:
            The running hub; the runner stops it after the measurement if the module did not.
        """
        data = data_dir if data_dir is not None else self.fresh_dir(name) / "data"
        env = {
            **os.environ,
            **(environ or {}),
            **{f"HUBSTEAD_{k.upper()}": str(v) for k, v in settings.items()},
        }
        log_path = self.fresh_dir(f"{name}-log") / "serve.log"
        command = [sys.executable, "-m", "hubstead.cli", "serve", "--data-dir", str(data)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (our own command line)
                [*command, "--port", "0", "--log-level", "warning"],
                stdout=log,
                stderr=log,
                env=env,
            )
        hub = None
        try:
            url, token = self._wait_for_start(process, log_path, data)
            hub = Hub(process, url, token, data)
            self._hubs.append(hub)
        finally:
            if hub is None:
                process.kill()
                process.wait(timeout=10)
        return hub

    def _wait_for_start(
        self, process: subprocess.Popen[bytes], log_path: Path, data: Path
    ) -> tuple[str, str]:
        """Read the URL (and, on a fresh data dir, the admin token) `serve` prints at start."""
        deadline = time.monotonic() + HUB_START_TIMEOUT
        url: str | None = None
        token = self._tokens.get(data)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = log_path.read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"hubstead serve exited with {process.returncode}:\n{log}")
            for line in _lines(log_path):
                if line.startswith("hubstead serving ") and " on " in line:
                    url = line.rsplit(" on ", 1)[1].split()[0]
                elif line.strip().startswith("export HF_TOKEN="):
                    token = line.strip().removeprefix("export HF_TOKEN=")
            if url is not None and token is not None and _answers(url):
                self._tokens[data] = token
                return url, token
            time.sleep(0.05)
        raise RuntimeError(f"hubstead serve did not start within {HUB_START_TIMEOUT} s")

    def close(self) -> None:
        """Stop every hub this context started (the runner calls it after each measurement)."""
        for hub in self._hubs:
            hub.stop()
        self._hubs.clear()


def _lines(path: Path) -> Iterator[str]:
    yield from path.read_text(encoding="utf-8", errors="replace").splitlines()


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/api/whoami-v2", timeout=1.0)
    except httpx.TransportError:
        return False
    return True
