"""A real hubstead server on a loopback port: what tests need of one, and one run in a thread.

`LiveServer` is what the session's `live_server` fixture gives, whatever the profile: under the
embedded profile a `ThreadedServer` (uvicorn in a thread of the test process), under the
production profile a `ProductionServer` (tests/helpers/production_server.py: `hubstead serve`
subprocesses). Either way `services` reach the hub's own database, so tests provision users
and tokens the way an operator's `hubstead admin` would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import uvicorn

from hubstead.server.app import build_services, create_app, dispatch_thread, job_threads
from hubstead.server.http.connections import uvicorn_config
from hubstead.server.jobs.outbox import OutboxThread
from hubstead.server.jobs.threads import JobThreads
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.registry import Services
from hubstead.server.settings import Settings, load_settings
from tests.helpers.databases import postgres_database
from tests.helpers.spaces import hub_space_settings


class LiveServer(Protocol):
    """A running hub: its URL, its data dir and its services (for provisioning test users)."""

    @property
    def url(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def services(self) -> Services: ...

    @property
    def data_dir(self) -> Path: ...


class ThreadedServer:
    """A hub served by uvicorn in a thread of the test process, on its own services."""

    def __init__(
        self,
        settings: Settings,
        *,
        run_jobs: bool = False,
        clock: Clock = utcnow,
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # The port it listens on, as `hubstead serve` does: the hub knows its own address.
        self.settings = settings = dataclasses.replace(settings, port=self.port)
        self.services: Services = build_services(settings, clock=clock)
        # In-process job threads, as `hubstead serve` runs them; off unless a test asks.
        self.jobs: JobThreads | None = job_threads(self.services) if run_jobs else None
        self.dispatch: OutboxThread | None = dispatch_thread(self.services) if run_jobs else None
        # The same connection limits as `hubstead serve`.
        config = uvicorn_config(
            create_app(settings, self.services), settings, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def data_dir(self) -> Path:
        return self.settings.resolved_data_dir

    def start(self, timeout: float = 60.0) -> ThreadedServer:
        if self.jobs is not None:
            self.jobs.start()
        if self.dispatch is not None:
            self.dispatch.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        if self.dispatch is not None:
            self.dispatch.stop()
        if self.jobs is not None:
            self.jobs.stop()
        self._socket.close()
        self.services.close()


def start_server(
    data_dir: Path,
    database_url: str | None = None,
    *,
    run_jobs: bool = False,
    clock: Clock = utcnow,
    **overrides: object,
) -> ThreadedServer:
    """Start a hub on a fresh data dir (and database, when one is given).

    With `run_jobs`, the hub runs its jobs in background threads, as `hubstead serve` does;
    `clock` is the time its services measure leases and expiries on. Its Spaces run with the
    real local runner, on the test wheelhouse (`tests/helpers/spaces.py`).
    """
    settings = load_settings(
        {"data_dir": data_dir, "database_url": database_url, **hub_space_settings(), **overrides},
        environ={},
    )
    return ThreadedServer(settings, run_jobs=run_jobs, clock=clock).start()


@contextlib.contextmanager
def working_hub(
    data_dir: Path, database_url: str | None, **options: object
) -> Iterator[ThreadedServer]:
    """A hub of its own that runs its jobs and outbox thread, as `hubstead serve` does.

    `database_url` names the suite's database choice: with one, the hub gets a fresh PostgreSQL
    database of its own. `options` go to `start_server` (a clock, settings).
    """
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if database_url is not None else None
        server = start_server(data_dir, url, run_jobs=True, **options)  # type: ignore[arg-type]
        stack.callback(server.stop)
        yield server
