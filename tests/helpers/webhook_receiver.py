"""An HTTP endpoint on loopback that receives webhook deliveries and answers as told, and a hub
that may call it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.helpers.http_server import serving
from tests.helpers.live_server import ThreadedServer, working_hub
from tests.helpers.waiting import wait_until


@contextlib.contextmanager
def hooked_hub(
    data_dir: Path, database_url: str | None, **overrides: object
) -> Iterator[ThreadedServer]:
    """A hub of its own that runs its jobs and dispatcher and may call loopback endpoints.

    `database_url` names the suite's database choice: with one, the hub gets a fresh PostgreSQL
    database of its own.
    """
    settings: dict[str, object] = {"webhook_allow": ("127.0.0.1",), **overrides}
    with working_hub(data_dir, database_url, **settings) as hub:
        yield hub


@dataclasses.dataclass(frozen=True)
class Received:
    """One POST: its headers (lower-cased names) and its JSON body."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def event(self) -> str:
        """`scope.action`, e.g. `repo.content.update`."""
        event = self.body["event"]
        return f"{event['scope']}.{event['action']}"


class Receiver:
    """What arrived so far, and what to answer next.

    `statuses` are answered in turn (the last one from then on); while `hold` is set, requests
    wait until it is cleared (a target that hangs).
    """

    def __init__(self) -> None:
        self.url = ""
        self.received: list[Received] = []
        self.statuses: list[int] = [200]
        self.hold = threading.Event()
        self.released = threading.Event()
        self._lock = threading.Lock()

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        if self.hold.is_set():
            self.released.wait(60)
        with self._lock:
            self.received.append(Received(headers, json.loads(body)))
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def events(self) -> list[str]:
        with self._lock:
            return [r.event for r in self.received]

    def wait_for(self, event: str, repo: str | None = None) -> Received:
        """The first delivery of `event` (about `repo`, if given) to arrive."""

        def found() -> Received | None:
            with self._lock:
                return next(
                    (
                        r
                        for r in self.received
                        if r.event == event and (repo is None or r.body["repo"]["name"] == repo)
                    ),
                    None,
                )

        return wait_until(found, f"a {event} delivery" + (f" about {repo}" if repo else ""))


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port while the block runs."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.take(body, headers)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as url:
        receiver.url = url + "/hook"
        try:
            yield receiver
        finally:
            receiver.released.set()
