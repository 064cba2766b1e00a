"""Progress bars, drawn with rich on stderr: one per download or upload, one for a snapshot.

Bars are off when stderr is not a terminal, when `HF_HUB_DISABLE_PROGRESS_BARS` is set, or when
the caller passes `progress=False` (`progress=True` forces them on).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress

Progress = Callable[[int], None]
"""Told how many bytes moved (negative when a transfer starts over)."""


def bars_enabled(requested: bool | None, allowed_by_env: bool) -> bool:
    """Whether to draw bars: as requested, else if the environment allows and stderr is a tty."""
    if requested is not None:
        return requested
    return allowed_by_env and sys.stderr.isatty()


class FileBar:
    """The bar of one file; calling it with a byte count advances it (and the snapshot's)."""

    def __init__(self, owner: ProgressBars, task: TaskID | None) -> None:
        self._owner = owner
        self._task = task

    def __call__(self, count: int) -> None:
        """Count `count` more bytes (negative when the download starts over)."""
        self._owner.advance(self._task, count)

    def close(self) -> None:
        """The file is done: its bar goes away in a snapshot, and the file count goes up."""
        self._owner.finish(self._task)


class ProgressBars:
    """The bars of one download, snapshot or upload (nothing when disabled).

    Args:
        enabled: draw anything at all.
        total_files: for a snapshot, the number of files; adds an overall bar.
        total_bytes: for a snapshot, the bytes to fetch, if known.
    """

    def __init__(
        self, enabled: bool, *, total_files: int | None = None, total_bytes: int | None = None
    ) -> None:
        self._progress = (
            RichProgress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            if enabled
            else None
        )
        self._total_files = total_files
        self._files_done = 0
        self._started: set[str] = set()
        self._lock = threading.Lock()
        self._overall: TaskID | None = None
        if self._progress is not None and total_files is not None:
            self._overall = self._progress.add_task(self._overall_text(), total=total_bytes)

    def __enter__(self) -> ProgressBars:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def file(self, name: str, total: int | None) -> FileBar:
        """A bar for one file of `total` bytes."""
        if self._progress is None:
            return FileBar(self, None)
        with self._lock:
            self._started.add(name)
        return FileBar(self, self._progress.add_task(name, total=total))

    def advance(self, task: TaskID | None, count: int) -> None:
        """Advance a file's bar and the overall one."""
        if self._progress is None:
            return
        if task is not None:
            self._progress.advance(task, count)
        if self._overall is not None:
            self._progress.advance(self._overall, count)

    def finish(self, task: TaskID | None) -> None:
        """A file is done."""
        if self._progress is None or self._overall is None:
            return
        if task is not None:
            self._progress.remove_task(task)
        with self._lock:
            self._files_done += 1
            self._progress.update(self._overall, description=self._overall_text())

    def settle(self, name: str, size: int) -> None:
        """A snapshot's file is in place: if it was already there, count it as done."""
        if self._progress is None or self._overall is None:
            return
        with self._lock:
            if name in self._started:
                return
        self.advance(None, size)
        self.finish(None)

    def _overall_text(self) -> str:
        return f"Fetching {self._total_files} files ({self._files_done} done)"
