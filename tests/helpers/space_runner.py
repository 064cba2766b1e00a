"""A `SpaceRunner` for tests: each app is a real process of this machine, `python app.py`.

The hub's own local runner (virtual environments, limits, an unprivileged user) is not what
these tests are about: they test what the hub does around any runner — stages, logs, the
supervisor, sleep and wake — so the apps they start are plain Python scripts that serve HTTP on
the `PORT` they are given. A build fails when `requirements.txt` names `no-such-package`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

from hubstead.server.domain.spaces import AppAddress
from hubstead.server.services.spaces.runner import (
    AppSpec,
    ExitListener,
    LogSink,
    SpaceRunError,
)

SERVING_APP = b"""import http.server, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/exit":
            print("asked to exit", flush=True)
            os._exit(4)
        if self.path.startswith("/files/"):
            with open(self.path.removeprefix("/files/"), "rb") as file:
                body = file.read()
        else:
            body = os.environ.get("GREETING", "hello").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("request", self.path, flush=True)

print("app starting", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

CRASHING_APP = b"""print("app starting", flush=True)
raise SystemExit("boom: the app cannot start")
"""


class ProcessRunner:
    """Runs `python <app_file>` in the source folder with `PORT` set; one app per key."""

    def __init__(self, start_timeout: float = 30.0) -> None:
        self._timeout = start_timeout
        self._lock = threading.Lock()
        self._apps: dict[str, subprocess.Popen[str]] = {}
        self._stopped: set[int] = set()
        self.builds: list[tuple[str, bool]] = []

    def build(self, spec: AppSpec, log: LogSink, *, fresh: bool) -> None:
        self.builds.append((spec.key, fresh))
        requirements = spec.source_dir / "requirements.txt"
        wanted = requirements.read_text().split() if requirements.exists() else []
        log(f"installing {len(wanted)} requirements")
        if "no-such-package" in wanted:
            log("ERROR: No matching distribution found for no-such-package")
            raise SpaceRunError("requirements.txt: no-such-package could not be installed")

    def start(self, spec: AppSpec, log: LogSink, on_exit: ExitListener) -> AppAddress:
        self.stop(spec.key)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-u", spec.config.app_file],
            cwd=spec.source_dir,
            env={**spec.env, "PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with self._lock:
            self._apps[spec.key] = process
        threading.Thread(target=self._pump, args=(process, log, on_exit), daemon=True).start()
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                with self._lock:
                    self._stopped.add(process.pid)  # a failed start is no exit to report
                raise SpaceRunError(f"The app exited with status {process.returncode} at start")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return AppAddress("127.0.0.1", port)
            except OSError:
                time.sleep(0.02)  # the interval between tries, not a guess at the start time
        self.stop(spec.key)
        raise SpaceRunError("The app did not listen on its port in time")

    def stop(self, key: str) -> None:
        with self._lock:
            process = self._apps.pop(key, None)
            if process is not None:
                self._stopped.add(process.pid)
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(10)

    def running(self, key: str) -> bool:
        with self._lock:
            process = self._apps.get(key)
        return process is not None and process.poll() is None

    def stop_all(self) -> None:
        with self._lock:
            keys = list(self._apps)
        for key in keys:
            self.stop(key)

    def _pump(self, process: subprocess.Popen[str], log: LogSink, on_exit: ExitListener) -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                log(line)
        status = process.wait()
        with self._lock:
            stopped = process.pid in self._stopped
            self._apps = {k: p for k, p in self._apps.items() if p is not process}
        if not stopped:
            on_exit(status)
