"""A Docker engine for the Docker runner's tests: podman's Docker API service, one per process.

`podman system service` serves the Docker Engine API on a unix socket of the test's own, its
images and containers in a directory of their own (the vfs driver and cgroupfs need nothing
of the machine's setup), all of them removed when the session ends. Base images cannot be
pulled here: test Dockerfiles start `FROM scratch` and copy in the static busybox
(`busybox-static`), which serves HTTP and runs CGI scripts. Both are installed by
scripts/test-services; a test needing them fails, saying so, when they are missing.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.waiting import wait_until

BUSYBOX = Path("/bin/busybox")
_ELF_HEADER = struct.Struct("<4s28xQ14xHH")
"""An ELF64 header's magic, e_phoff, e_phentsize and e_phnum."""
_PT_INTERP = 3


def _podman(directory: Path) -> list[str]:
    podman = shutil.which("podman")
    if podman is None or shutil.which("runc") is None:
        pytest.fail("podman and runc are not installed: run scripts/test-services first")
    return [
        podman,
        "--storage-driver", "vfs",
        "--runtime", "runc",
        "--cgroup-manager", "cgroupfs",
        "--root", str(directory / "root"),
        "--runroot", str(directory / "run"),
    ]  # fmt: skip


@contextlib.contextmanager
def podman_engine(directory: Path) -> Iterator[Path]:
    """podman's Docker API service on a socket in `directory` (returned), for one session.

    Everything is kept in `directory`, removed at the end.
    """
    podman = _podman(directory)
    engine = directory / "engine.sock"
    log = directory / "service.log"
    with log.open("wb") as output:
        service = subprocess.Popen(
            [*podman, "system", "service", "--time=0", f"unix://{engine}"],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: service.poll() is not None or _pings(engine),
            "podman's Docker API service to answer",
            timeout=60,
        )
        if service.poll() is not None:
            pytest.fail(f"podman system service exited:\n{log.read_text()}")
        yield engine
    finally:
        for command in (["rm", "--all", "--force"], ["rmi", "--all", "--force"]):
            subprocess.run([*podman, *command], capture_output=True, check=False)
        service.terminate()
        service.wait(30)
        shutil.rmtree(directory, ignore_errors=True)


def _pings(path: Path) -> bool:
    # A plain connection first: httpx leaves its socket unclosed when the connection fails.
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    with _client(path) as client:
        return client.get("/_ping").text == "OK"


def _client(engine: Path) -> httpx.Client:
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(engine)), base_url="http://docker/v1.41"
    )


def containers(engine: Path, label: str) -> list[dict[str, Any]]:
    """The containers (running or not) carrying `label` (`name=value`), as the engine lists them."""
    filters = json.dumps({"label": [label]})
    with _client(engine) as client:
        found: list[dict[str, Any]] = (
            client.get("/containers/json", params={"all": "1", "filters": filters})
            .raise_for_status()
            .json()
        )
    return found


def images(engine: Path, label: str) -> list[dict[str, Any]]:
    """The images carrying `label` (`name=value`)."""
    with _client(engine) as client:
        params = {"filters": json.dumps({"label": [label]})}
        found: list[dict[str, Any]] = client.get("/images/json", params=params).json()
    return found


def static_busybox() -> bytes:
    """The static busybox binary, to copy into `FROM scratch` images."""
    if not BUSYBOX.is_file():
        pytest.fail(f"No {BUSYBOX}: run scripts/test-services first (it installs busybox-static)")
    binary = BUSYBOX.read_bytes()
    magic, offset, size, count = _ELF_HEADER.unpack_from(binary)
    interpreters = [
        entry
        for entry in range(count)
        if struct.unpack_from("<I", binary, offset + entry * size)[0] == _PT_INTERP
    ]
    if magic != b"\x7fELF" or interpreters:
        pytest.fail(f"{BUSYBOX} is not a static binary: install busybox-static")
    return binary
