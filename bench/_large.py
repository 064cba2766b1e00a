"""What the large-file measurements share: a hub holding one big LFS file, curl, a plain nginx.

The reference for every large-file download is nginx sending the very blob file the hub stores,
with `sendfile on`, from a minimal configuration of its own (`StaticNginx`): the fastest a
general-purpose HTTP server sends a file from this disk on this machine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import huggingface_hub

from bench._core import (
    BenchContext,
    Hub,
    free_port,
    stop_process,
    wait_until_listening,
    write_random_file,
)

FILENAME = "big.bin"
_NGINX_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class LargeFile:
    """One large LFS file stored in a hub."""

    hub: Hub
    repo_id: str
    sha256: str
    size: int

    @property
    def resolve_url(self) -> str:
        """The file's resolve URL on its hub."""
        return f"{self.hub.url}/{self.repo_id}/resolve/main/{FILENAME}"

    @property
    def blob_path(self) -> Path:
        """The file the hub stores the bytes in (see `FsBlobStore.relative_path`)."""
        sha = self.sha256
        return self.hub.data_dir / "blobs" / sha[:2] / sha[2:4] / sha


def seed_large_file(ctx: BenchContext, hub: Hub, name: str) -> LargeFile:
    """`upload_large_file` to a hub keeping blobs on its disk, checked there."""
    large = upload_large_file(ctx, hub, name)
    if large.blob_path.stat().st_size != ctx.size_bytes:
        raise RuntimeError(f"the hub did not store {FILENAME} at {large.blob_path}")
    return large


def upload_large_file(ctx: BenchContext, hub: Hub, name: str) -> LargeFile:
    """Upload `ctx.size_bytes` random bytes as `big.bin` (LFS) to a new repo `admin/<name>`."""
    source = ctx.fresh_dir(f"{name}-source") / FILENAME
    sha256 = write_random_file(source, ctx.size_bytes)
    api = huggingface_hub.HfApi(endpoint=hub.url, token=hub.admin_token)
    repo_id = api.create_repo(f"admin/{name}").repo_id
    api.upload_file(path_or_fileobj=str(source), path_in_repo=FILENAME, repo_id=repo_id)
    source.unlink()
    return LargeFile(hub, repo_id, sha256, ctx.size_bytes)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    # Fields after the command name (which may hold spaces), from the 3rd: utime is the 14th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def curl_seconds(url: str, output: str, size: int, token: str | None = None) -> float:
    """Fetch `url` with curl (following redirects) into `output`; the transfer's seconds.

    The time is curl's own `time_total` (connection, redirect and transfer; no process start),
    and the byte count is checked, so a short answer cannot pass for a fast one.
    """
    command = ["curl", "-sSfL", "-o", output, "-w", "%{time_total} %{size_download}"]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run(  # noqa: S603 (our own command line)
        [*command, url], check=True, capture_output=True, text=True
    )
    seconds, received = done.stdout.split()
    if int(received) != size:
        raise RuntimeError(f"curl received {received} bytes of {url}, not {size}")
    return float(seconds)


def check_size(path: Path, size: int) -> None:
    """Fail unless the file at `path` has `size` bytes (a short download is not a fast one)."""
    if path.stat().st_size != size:
        raise RuntimeError(f"{path} has {path.stat().st_size} bytes, not {size}")


class ProxyLink:
    """A TCP proxy to a hub: counts the bytes clients send, and can cap what it sends back.

    With a `rate` (bytes/s per connection) it stands for a network path where each connection
    is capped (a CDN, a long fat pipe): what parallel connections are for. Without one it only
    counts: `sent_by_clients` is every byte clients sent to the hub through it (requests,
    headers included), the upload cost a client pays on the wire. Its own CPU use is small at
    the rates it is meant for.
    """

    def __init__(self, hub_url: str, rate: float | None = None) -> None:
        self._target = ("127.0.0.1", int(hub_url.rsplit(":", 1)[1]))
        self._rate = rate
        self._counted = 0
        self._count_lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def sent_by_clients(self) -> int:
        """Bytes clients have sent to the hub through this link so far."""
        with self._count_lock:
            return self._counted

    def close(self) -> None:
        """Stop accepting connections (the shutdown wakes the thread blocked in `accept`)."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, toward_hub: bool) -> None:
        """Copy `source` to `sink`: counted toward the hub, capped at `rate` toward clients."""
        started, sent = time.monotonic(), 0
        rate = None if toward_hub else self._rate
        with contextlib.suppress(OSError):
            while data := source.recv(256 * 1024):
                sink.sendall(data)
                sent += len(data)
                if toward_hub:
                    with self._count_lock:
                        self._counted += len(data)
                elif rate is not None:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        # Each socket is the source of one of the connection's two pipes: closed once.
        source.close()


class StaticNginx:
    """nginx serving one file at `/<name>` with sendfile: the reference for large downloads."""

    def __init__(self, ctx: BenchContext, file: Path, name: str = FILENAME) -> None:
        binary = ctx.nginx
        if binary is None:
            raise RuntimeError(
                "nginx is not installed (apt-get install nginx): it is the reference"
            )
        self._binary = binary
        self._dir = ctx.fresh_dir("nginx-static")
        self._file = file
        self._name = name
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> StaticNginx:
        """Start on a free loopback port."""
        port = free_port()
        temp = self._dir / "temp"
        temp.mkdir()
        # As root, nginx would run its workers as `nobody`, who may not read the work dir.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        config = self._dir / "nginx.conf"
        config.write_text(
            f"{user}daemon off;\nworker_processes 1;\n"
            f"pid {self._dir}/nginx.pid;\nerror_log {self._dir}/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    access_log off;\n"
            f"    client_body_temp_path {temp};\n"
            f"    proxy_temp_path {temp};\n"
            f"    fastcgi_temp_path {temp};\n"
            f"    uwsgi_temp_path {temp};\n"
            f"    scgi_temp_path {temp};\n"
            "    sendfile on;\n"
            "    tcp_nopush on;\n"
            f"    server {{\n        listen 127.0.0.1:{port};\n"
            f"        location = /{self._name} {{\n"
            f"            alias {self._file};\n"
            "            default_type application/octet-stream;\n"
            "        }\n    }\n"
            "}\n",
            encoding="utf-8",
        )
        self._process = subprocess.Popen(  # noqa: S603 (our own command line)
            [self._binary, "-p", str(self._dir), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(
            self._process, port, _NGINX_START_TIMEOUT, "nginx", self._dir / "error.log"
        )
        self.url = f"http://127.0.0.1:{port}"
        return self

    @property
    def worker_pid(self) -> int:
        """The process id of nginx's one worker (the process that sends the bytes)."""
        assert self._process is not None, "nginx is not started"
        pid = self._process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8").split()
        if len(children) != 1:
            raise RuntimeError(f"nginx has {len(children)} worker processes, not 1")
        return int(children[0])

    @property
    def file_url(self) -> str:
        """The URL of the file."""
        return f"{self.url}/{self._name}"

    def stop(self) -> None:
        """Stop nginx."""
        stop_process(self._process)
