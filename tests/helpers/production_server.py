"""The hub as production runs it, for `pytest --profile=production`.

`hubstead serve --workers 2` and a `hubstead worker` run as subprocesses, configured by one
TOML file (named by `HUBSTEAD_CONFIG`, as an operator's service unit would) on a fresh
PostgreSQL database, a bucket of the session's S3 API server (moto) and a Redis job queue of
their own. The test process opens the same settings file to provision users and tokens through
the same database, as `hubstead admin` does beside a running hub.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.server.app import build_services
from hubstead.server.services.registry import Services
from hubstead.server.settings import Settings, load_settings
from tests.helpers.databases import postgres_database
from tests.helpers.processes import HubsteadProcess
from tests.helpers.redis import drop_queue, redis_url
from tests.helpers.s3 import REGION, MotoS3
from tests.helpers.xet import REQUEST_LINE

WORKERS = 2
_BOTH_STARTED = r"Started server process \[\d+\](?s:.*)Started server process \[\d+\]"


@dataclasses.dataclass(frozen=True)
class ProductionServer:
    """A running production-shaped hub: its URL, its settings and services on its database."""

    url: str
    settings: Settings
    services: Services
    server: HubsteadProcess
    worker: HubsteadProcess

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def data_dir(self) -> Path:
        return self.settings.resolved_data_dir


def write_config(path: Path, values: dict[str, str | int]) -> Path:
    """A TOML settings file of string and integer values (a JSON string is a TOML one)."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def production_server(root: Path, s3: MotoS3) -> Iterator[ProductionServer]:
    """Run the production-shaped hub under `root` until the block ends.

    The S3 credentials are the standard AWS variables, set for the block in this process too
    (its services open the bucket) and inherited by the subprocesses. Leaving the block stops
    the processes with SIGTERM; one that does not exit cleanly, or that logged a traceback,
    fails the test session.
    """
    queue = f"hubstead:test:{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as stack:
        environ = stack.enter_context(pytest.MonkeyPatch.context())
        for key, value in s3.aws_environ().items():
            environ.setenv(key, value)
        config = write_config(
            root / "hubstead.toml",
            {
                "data_dir": str(root / "data"),
                "port": 0,
                "workers": WORKERS,
                "database_url": stack.enter_context(postgres_database()),
                "blob_backend": "s3",
                "s3_bucket": s3.new_bucket(),
                "s3_endpoint_url": s3.endpoint_url,
                "s3_region": REGION,
                "redis_url": redis_url(),
                "redis_queue": queue,
            },
        )
        stack.callback(drop_queue, queue)
        env = {"HUBSTEAD_CONFIG": str(config)}
        server = HubsteadProcess("serve", env=env, on_line=_relay_access)
        stack.callback(_stop, server, "hubstead serve")
        url = server.wait_until_serving(timeout=120)
        server.wait_for(_BOTH_STARTED, timeout=120)
        worker = HubsteadProcess("worker", env=env)
        stack.callback(_stop, worker, "hubstead worker")
        worker.wait_for(r"^hubstead worker on ", timeout=120)
        port = int(url.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(config_file=config, environ={}), port=port)
        services = build_services(settings)
        stack.callback(services.close)
        yield ProductionServer(url, settings, services, server, worker)


def _relay_access(line: str) -> None:
    """Log an access line of the serve processes in this process too, for `AccessLog`."""
    if REQUEST_LINE.search(line) is not None:
        logging.getLogger("hubstead.access").info(line.rstrip("\n"))


def _stop(process: HubsteadProcess, name: str) -> None:
    code = process.stop(signal.SIGTERM)
    if code != 0 or "Traceback" in process.stderr:
        raise AssertionError(f"{name} exited with {code}:\n{process.stderr[-20000:]}")
