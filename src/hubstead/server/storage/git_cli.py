"""The git binary serving the smart protocol on a bare repo: ref advertisement, fetch, push.

Storage layer, used by `git_pygit2.Pygit2GitStore`. Each exchange runs the real
`git upload-pack` or `git receive-pack` in `--stateless-rpc` mode, as `git http-backend` does,
in an environment that reads no system or user git configuration. Request bodies arrive as files
(spooled by the caller) and the pack `upload-pack` answers with is streamed, never held whole.

A push is checked between the moment git has received its objects and the moment it moves any
ref: `receive-pack` runs with a `pre-receive` hook (`git_hook.py`) that hands the quarantined
push to the `decide` callback over a unix socket and exits with its verdict, so a refused push
moves no ref and its objects are dropped with the quarantine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Generator, Iterator
from pathlib import Path
from typing import BinaryIO

from hubstead.server.domain.git import PackService, PushLimits, RefUpdate
from hubstead.server.storage.errors import GitUnavailableError

logger = logging.getLogger("hubstead.server")

_CHUNK = 64 * 1024
# A unix socket path must fit in `sockaddr_un.sun_path` (104 bytes on macOS, 108 on Linux).
_MAX_SOCKET_PATH = 100
# How long a hook may take to send its request; it sends a few lines at once.
_HOOK_TIMEOUT_SECONDS = 60
_HOOK_SCRIPT = Path(__file__).with_name("git_hook.py")
_CONFIG = {
    PackService.UPLOAD: (
        "uploadpack.allowFilter=true",
        "uploadpack.allowReachableSHA1InWant=true",
    ),
    # No `gc --auto` behind the hub's back after a push; check every pushed object.
    PackService.RECEIVE: ("receive.autogc=false", "receive.fsckObjects=true"),
}

Decide = Callable[[Path | None, list[RefUpdate]], str | None]


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitUnavailableError("the git binary is not installed on this server")
    return found


def _environment(protocol: str | None) -> dict[str, str]:
    """The server's environment without git's own variables, reading no git config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    if protocol:
        env["GIT_PROTOCOL"] = protocol
    return env


def _argv(
    service: PackService, repo: Path, *options: str, config: tuple[str, ...] = ()
) -> list[str]:
    settings = [arg for item in (*_CONFIG[service], *config) for arg in ("-c", item)]
    return [_git(), *settings, service.value, "--stateless-rpc", *options, str(repo)]


def advertise_refs(repo: Path, service: PackService, protocol: str | None) -> bytes:
    """What `git {service} --advertise-refs` says about the repo (v2: its capabilities).

    Raises:
        GitUnavailableError: no git binary.
    """
    argv = _argv(service, repo, "--advertise-refs")
    result = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        argv, stdin=subprocess.DEVNULL, capture_output=True, env=_environment(protocol), check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {service} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def run(repo: Path, *args: str) -> str:
    """The output of `git args...` run in a bare repo, in the hub's git environment.

    Raises:
        GitUnavailableError: no git binary.
        subprocess.CalledProcessError: git failed.
    """
    return run_status(repo, *args)[1].decode("utf-8", errors="replace")


def run_status(repo: Path, *args: str, ok: Collection[int] = (0,)) -> tuple[int, bytes]:
    """The exit status and raw output of `git args...` run in a bare repo.

    For commands whose status carries an answer (`merge-tree` exits 1 on conflicts).

    Raises:
        GitUnavailableError: no git binary.
        subprocess.CalledProcessError: git exited with a status not in `ok`.
    """
    result = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        [_git(), *args], cwd=repo, capture_output=True, env=_environment(None), check=False
    )
    if result.returncode not in ok:
        raise subprocess.CalledProcessError(
            result.returncode, result.args, result.stdout, result.stderr
        )
    return result.returncode, result.stdout


def run_capped(repo: Path, *args: str, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the output of `git args...`, and whether there was more.

    Git is stopped as soon as its output passes `limit`, so neither memory nor time grows with
    what it would have written.

    Raises:
        GitUnavailableError: no git binary.
        subprocess.CalledProcessError: git failed before writing more than `limit` bytes.
    """
    argv = [_git(), *args]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
            argv, cwd=repo, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
            env=_environment(None),
        )  # fmt: skip
        assert process.stdout is not None
        with process.stdout:
            output = process.stdout.read(limit + 1)
        more = len(output) > limit
        if more:
            process.kill()
        process.wait()
        if not more and process.returncode != 0:
            errors.seek(0)
            raise subprocess.CalledProcessError(process.returncode, argv, output, errors.read())
    return output[:limit], more


def reachable_objects(repo: Path) -> set[str]:
    """The id of every object (commits, trees, blobs, tags) some ref of the repo reaches.

    Raises:
        GitUnavailableError: no git binary.
    """
    return set(run(repo, "rev-list", "--objects", "--no-object-names", "--all").split())


def upload_pack(
    repo: Path, request: BinaryIO, protocol: str | None
) -> Generator[bytes, None, None]:
    """Answer a fetch request (read from `request`, from its current position) in chunks.

    Git starts on the first chunk asked for; closing the generator stops it.

    Raises:
        GitUnavailableError: no git binary (raised at once, not when iterating).
    """
    return _output(_argv(PackService.UPLOAD, repo), request, _environment(protocol))


def _output(argv: list[str], stdin: BinaryIO, env: dict[str, str]) -> Generator[bytes, None, None]:
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
            argv, stdin=stdin, stdout=subprocess.PIPE, stderr=errors, env=env
        )
        assert process.stdout is not None
        try:
            while chunk := os.read(process.stdout.fileno(), _CHUNK):
                yield chunk
        finally:
            _finish(process, PackService.UPLOAD, errors)


def _finish(process: subprocess.Popen[bytes], service: PackService, errors: BinaryIO) -> None:
    if process.poll() is None:  # the client went away, or we failed: stop git
        process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
    if process.returncode > 0:
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
        logger.warning("git %s exited with %s: %s", service, process.returncode, message)


def receive_pack(
    repo: Path,
    request: BinaryIO,
    protocol: str | None,
    decide: Decide,
    limits: PushLimits,
    *,
    temp_dir: Path,
) -> bytes:
    """Apply a push (read from `request`) if `decide` accepts it; git's answer to the pusher.

    `decide` gets the quarantine directory of the pushed objects (None when nothing was sent)
    and the ref updates, before any ref moves; it returns None to accept the push, or the
    message that refuses it (shown to the pusher). If it raises, the push is refused. git
    refuses a pack larger than `limits.max_pack_bytes` before it is indexed.

    Raises:
        GitUnavailableError: no git binary.
    """
    with tempfile.TemporaryDirectory(dir=temp_dir, prefix="push-") as work:
        hooks = Path(work, "hooks")
        hooks.mkdir()
        with _socket_path(Path(work)) as address, socket.socket(socket.AF_UNIX) as listener:
            listener.bind(address)
            listener.listen()
            _install_hook(hooks / "pre-receive", address)
            config = (
                f"core.hooksPath={hooks}",
                f"receive.maxInputSize={limits.max_pack_bytes}",
                # index-pack inflates larger blobs piece by piece instead of whole in memory.
                f"core.bigFileThreshold={limits.max_object_bytes}",
            )
            argv = _argv(PackService.RECEIVE, repo, config=config)
            with tempfile.TemporaryFile() as errors:
                process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
                    argv, stdin=request, stdout=subprocess.PIPE, stderr=errors,
                    env=_environment(protocol),
                )  # fmt: skip
                try:
                    return _run_with_hook(process, listener, decide)
                finally:
                    _finish(process, PackService.RECEIVE, errors)


@contextlib.contextmanager
def _socket_path(work: Path) -> Iterator[str]:
    address = str(work / "hook.sock")
    if len(os.fsencode(address)) <= _MAX_SOCKET_PATH:
        yield address
        return
    with tempfile.TemporaryDirectory(prefix="hubstead-") as short:
        yield os.path.join(short, "hook.sock")


def _install_hook(path: Path, address: str) -> None:
    command = [sys.executable, "-I", "-S", str(_HOOK_SCRIPT), address]
    path.write_text(f"#!/bin/sh\nexec {shlex.join(command)}\n")
    path.chmod(0o700)


def _run_with_hook(
    process: subprocess.Popen[bytes], listener: socket.socket, decide: Decide
) -> bytes:
    """Collect git's output until it exits, answering its hook when it calls."""
    assert process.stdout is not None
    output = process.stdout.fileno()
    chunks: list[bytes] = []
    while True:
        readable, _, _ = select.select([output, listener.fileno()], [], [])
        if listener.fileno() in readable:
            connection, _ = listener.accept()
            with connection:
                _answer_hook(connection, decide)
        if output in readable:
            chunk = os.read(output, _CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _answer_hook(connection: socket.socket, decide: Decide) -> None:
    connection.settimeout(_HOOK_TIMEOUT_SECONDS)
    request = b""
    while chunk := connection.recv(_CHUNK):
        request += chunk
    quarantine, _, lines = request.partition(b"\n")
    try:
        updates = [_ref_update(line) for line in lines.splitlines() if line.strip()]
        refusal = decide(Path(os.fsdecode(quarantine)) if quarantine else None, updates)
    except Exception:
        logger.exception("checking a push failed")
        refusal = "error: the hub could not check this push; see the server log"
    verdict = b"0\n" if refusal is None else b"1\n" + refusal.encode(errors="replace")
    connection.sendall(verdict)


def _ref_update(line: bytes) -> RefUpdate:
    """One `<old> <new> <ref>` line of the hook's input (an all-zero id stands for none).

    A ref name that is not UTF-8 keeps its bytes as lone surrogates, which no valid name has.
    """
    old, new, name = line.decode("utf-8", errors="surrogateescape").split(" ", 2)
    return RefUpdate(name, _object_id(old), _object_id(new))


def _object_id(text: str) -> str | None:
    return None if set(text) == {"0"} else text
