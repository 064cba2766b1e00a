"""`FsMutexes`: one holder at a time, among threads and among processes."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hubstead.server.storage.mutexes_fs import FsMutexes

# Another process takes the lock, says so, and holds it until its stdin closes.
_HOLDER = """
import sys
from pathlib import Path
from hubstead.server.storage.mutexes_fs import FsMutexes
with FsMutexes(Path(sys.argv[1])).hold(sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
print("released", flush=True)
"""


class _Holder:
    """The holder script in another process, its stdout lines read into a queue."""

    def __init__(self, root: Path, name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(root), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.strip())

    def line_within(self, seconds: float) -> str | None:
        """Its next stdout line if it comes within `seconds`, else None."""
        try:
            return self._lines.get(timeout=seconds)
        except queue.Empty:
            return None

    def release(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def end(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def test_a_process_waits_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    first = _Holder(tmp_path, "publish-1")
    second = _Holder(tmp_path, "publish-1")
    try:
        held = [first.line_within(30), second.line_within(1.0)]
        # Whichever started first holds it; the other waits in flock until it lets go.
        assert held.count("held") == 1
        holder, waiter = (first, second) if held[0] == "held" else (second, first)
        assert waiter.line_within(1.0) is None
        holder.release()
        assert holder.line_within(30) == "released"
        assert waiter.line_within(30) == "held"
    finally:
        first.end()
        second.end()


def test_a_process_waits_while_a_thread_here_holds_the_lock(tmp_path: Path) -> None:
    other = None
    try:
        with FsMutexes(tmp_path).hold("lfs-completion-3"):
            other = _Holder(tmp_path, "lfs-completion-3")
            assert other.line_within(2.0) is None
        assert other.line_within(30) == "held"
    finally:
        if other is not None:
            other.end()


def test_threads_take_turns_and_other_names_are_free(tmp_path: Path) -> None:
    mutexes = FsMutexes(tmp_path)
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(20):
            with mutexes.hold("publish-7"):
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    with mutexes.hold("publish-8"):  # another repo's lock does not stop them
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert most == 1
    assert not any(thread.is_alive() for thread in threads)


def test_a_dead_holder_releases_the_lock(tmp_path: Path) -> None:
    holder = _Holder(tmp_path, "publish-2")
    assert holder.line_within(30) == "held"
    holder.end()  # killed while holding it
    with FsMutexes(tmp_path).hold("publish-2"):
        pass


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_names_that_are_not_file_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid lock name"), FsMutexes(tmp_path).hold(name):
        pass


def test_the_lock_directory_is_made_by_the_first_lock_taken(tmp_path: Path) -> None:
    root = tmp_path / "never-used" / "locks"
    mutexes = FsMutexes(root)
    assert not root.parent.exists()

    with mutexes.hold("space-env-1"):
        assert (root / "space-env-1.lock").is_file()
