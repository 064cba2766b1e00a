"""A real nginx in front of a live hub, running a site configuration users copy.

Two such configurations are tested: the server block of docs/operations.md with the `internal`
blob location (the download offload), and deploy/nginx/hubstead.conf (TLS in front of the
production profile). Each is run as is, with only its site-specific lines replaced (`substitute`),
so what the docs and deploy/ say is what the tests check. nginx runs in the foreground as the
current user, with its pid file, logs and temporary directories in the test's own directory, on
a free loopback port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
# The lines of the documented block that name the site; each is replaced for the test.
TEMPLATE_LISTEN = "listen 80;"
TEMPLATE_UPSTREAM = "proxy_pass http://127.0.0.1:8080;"
TEMPLATE_BLOBS = "alias /srv/hubstead/blobs/;"
BLOB_LOCATION = "/_hubstead_blobs/"


def nginx_binary() -> str:
    """The nginx executable (often in an sbin directory outside a user's PATH); skip without it."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    found = shutil.which("nginx", path=path)
    if found is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    return found


def documented_server_block() -> str:
    """The nginx `server { ... }` block of the download offload section of the docs."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    offload = [block for block in blocks if f"location {BLOB_LOCATION}" in block]
    assert len(offload) == 1, f"{DOCS} must have one nginx block with `location {BLOB_LOCATION}`"
    return str(offload[0])


def substitute(config: str, replacements: Mapping[str, str]) -> str:
    """`config` with each site-specific line replaced, each asserted to be there exactly once."""
    for template, actual in replacements.items():
        assert config.count(template) == 1, f"the configuration must contain {template!r} once"
        config = config.replace(template, actual)
    return config


def offload_site(hub_url: str, blob_dir: Path) -> Callable[[int], str]:
    """The documented offload block, in front of `hub_url`, listening on the port it is given."""
    return lambda port: substitute(
        documented_server_block(),
        {
            TEMPLATE_LISTEN: f"listen 127.0.0.1:{port};",
            TEMPLATE_UPSTREAM: f"proxy_pass {hub_url};",
            TEMPLATE_BLOBS: f"alias {blob_dir}/;",
        },
    )


class Nginx:
    """nginx running a site configuration (`site(port)`, the http context) in front of a hub."""

    def __init__(self, workdir: Path, site: Callable[[int], str], scheme: str = "http") -> None:
        self._binary = nginx_binary()
        self._workdir = workdir
        self._site = site
        self._scheme = scheme
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _write_config(self, port: int) -> Path:
        temp = self._workdir / "temp"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (temp / name).mkdir(parents=True, exist_ok=True)
        # As root, nginx would run its workers as `nobody`, who cannot read the test's files.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        config = self._workdir / "nginx.conf"
        config.write_text(
            f"{user}daemon off;\nworker_processes 1;\n"
            f"pid {self._workdir}/nginx.pid;\nerror_log {self._workdir}/error.log warn;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            f"    access_log {self._workdir}/access.log;\n"
            f"    client_body_temp_path {temp}/client_body;\n"
            f"    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n"
            f"    uwsgi_temp_path {temp}/uwsgi;\n"
            f"    scgi_temp_path {temp}/scgi;\n"
            f"{self._site(port)}"
            "}\n",
            encoding="utf-8",
        )
        return config

    def start(self, timeout: float = 30.0) -> Nginx:
        """Start on a free loopback port (trying again if another process takes it first)."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            config = self._write_config(port)
            self._process = subprocess.Popen(
                [self._binary, "-p", str(self._workdir), "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_until_listening(port, timeout):
                self.url = f"{self._scheme}://127.0.0.1:{port}"
                return self
            _, stderr = self._process.communicate(timeout=timeout)
            if b"Address already in use" not in stderr:
                raise RuntimeError(f"nginx did not start:\n{stderr.decode(errors='replace')}")
        raise RuntimeError("nginx found no free port")

    def _wait_until_listening(self, port: int, timeout: float) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on port {port} within {timeout} s")

    def stop(self) -> None:
        """Stop nginx (SIGTERM, then SIGKILL if it lingers)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stderr is not None:
            self._process.stderr.close()
