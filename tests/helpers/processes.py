"""`hubstead` commands run as real subprocesses, their stderr collected line by line."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import httpx

# The package under test, run by the interpreter running the tests.
HUBSTEAD = [sys.executable, "-c", "from hubstead.cli.main import main; main()"]


class HubsteadProcess:
    """A running `hubstead` command (by default the package under test).

    `on_line` is called with each line of its stderr as it comes, in the reading thread; `umask`
    is its umask (-1: this process's).
    """

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        command: Sequence[str] = tuple(HUBSTEAD),
        on_line: Callable[[str], None] | None = None,
        umask: int = -1,
    ) -> None:
        self._on_line = on_line
        self.process = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            umask=umask,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if self._on_line is not None:
                self._on_line(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Wait until stderr shows `pattern` (a multiline regex); the match."""
        deadline = time.monotonic() + timeout
        while (match := re.search(pattern, self.stderr, re.MULTILINE)) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"no {pattern!r} in:\n{self.stderr}")
            time.sleep(0.05)
        return match

    def wait_until_serving(self, timeout: float = 60.0) -> str:
        """Wait for `hubstead serve`'s banner and for the hub to answer; its local URL."""
        url = self.wait_for(r"^hubstead serving .* on (http://\S+)", timeout).group(1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url + "/api/whoami-v2", timeout=5)
                return url
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"hubstead serve does not answer at {url}:\n{self.stderr}")

    def exported(self, name: str) -> str | None:
        """The value of an `export NAME=value` line the command printed, if any."""
        match = re.search(rf"^\s*export {name}=(\S+)$", self.stderr, re.MULTILINE)
        return None if match is None else match.group(1)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Signal the process, wait for it, and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(timeout=5)
            if self.process.stderr is not None:
                self.process.stderr.close()


@contextlib.contextmanager
def serving(
    args: list[str], env: dict[str, str] | None = None, command: Sequence[str] = tuple(HUBSTEAD)
) -> Iterator[HubsteadProcess]:
    """`hubstead serve ARGS` for the duration of the block, killed afterwards."""
    server = HubsteadProcess("serve", *args, env=env, command=command)
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)
