"""Watching a live hub's Xet traffic and storage from tests.

`AccessLog` records the requests the hub served (from its "hubstead.access" logger), so a test
can tell whether a client really went through the CAS; `stored_xorb_bytes` measures what the
hub keeps in `data_dir/xorbs`, so a test can tell how much an upload added.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until

# The access log line: `<client> "<METHOD> <raw path>" <status> ...` (http/middleware.py).
REQUEST_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) ')

# A stored xorb's file name: its hash in hex (temporary files live elsewhere, under `.tmp/`).
_XORB_NAME = re.compile(r"[0-9a-f]{64}")


class AccessLog(logging.Handler):
    """The requests the hub served while the log is attached, in order.

    It listens to the "hubstead.access" logger of this process: the embedded hub's own, or the
    production hub's, to which `ProductionServer` relays the access lines of its processes.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self._lock_requests = threading.Lock()
        self._requests: list[tuple[str, str, int]] = []
        self._logger = logging.getLogger("hubstead.access")
        self._level = self._logger.level

    def __enter__(self) -> AccessLog:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        found = REQUEST_LINE.search(record.getMessage())
        if found is not None:
            with self._lock_requests:
                self._requests.append(
                    (found["method"], found["path"].split("?", 1)[0], int(found["status"]))
                )

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path without query, status) of every request served so far."""
        with self._lock_requests:
            return list(self._requests)

    def served(self, method: str, prefix: str) -> list[tuple[str, str, int]]:
        """The successful `method` requests whose path starts with `prefix`."""
        return [
            request
            for request in self.requests
            if request[0] == method and request[1].startswith(prefix) and request[2] < 300
        ]

    def wait_for(self, method: str, prefix: str) -> list[tuple[str, str, int]]:
        """Like `served`, once there is one: a request is logged just after its last byte."""
        return wait_until(lambda: self.served(method, prefix), f"{method} {prefix}*")

    def clear(self) -> None:
        """Forget what was served so far."""
        with self._lock_requests:
            self._requests.clear()


def assert_uploaded_through_xet(log: AccessLog) -> None:
    """The hub received xorbs and a shard, and no LFS batch request."""
    assert log.served("POST", "/cas/v1/xorbs/default/"), "no xorb was uploaded"
    assert log.served("POST", "/cas/v1/shards"), "no shard was uploaded"
    assert not [path for _, path, _ in log.requests if path.endswith("/info/lfs/objects/batch")]


def assert_downloaded_through_xet(log: AccessLog) -> None:
    """The hub answered a reconstruction and served xorb ranges."""
    log.wait_for("GET", "/cas/v1/xorb-ranges/")
    assert log.served("GET", "/cas/v2/reconstructions/") or log.served(
        "GET", "/cas/v1/reconstructions/"
    ), "no reconstruction was asked for"


def assert_no_cas_traffic(log: AccessLog) -> None:
    """Nothing reached the CAS."""
    assert [request for request in log.requests if request[1].startswith("/cas/")] == []


def stored_xorbs(server: LiveServer) -> Iterator[Path]:
    """Every xorb file the hub holds."""
    root = server.data_dir / "xorbs"
    if root.exists():
        yield from (path for path in root.glob("*/*/*") if _XORB_NAME.fullmatch(path.name))


def stored_xorb_bytes(server: LiveServer) -> int:
    """The bytes the hub holds in xorbs."""
    return sum(path.stat().st_size for path in stored_xorbs(server))
