"""Waiting for another thread or process to get somewhere: on what it does, never for a time.

`wait_until` polls an observable condition with a generous deadline, so a slow or loaded
machine only makes a test take longer, not fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """The first true value `condition` returns; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(0.01)  # the interval between checks, not a guess of how long it takes
    return value
