"""The processes of the local runner: who they run as, how they start, their output, their end.

Every build and app process starts through `launcher.py` in a session (and so a process group)
of its own, with the environment it is given and nothing of the hub's, its output (stdout and
stderr together) on one pipe that `pump` reads line by line, and is stopped as a group.

Running them as other users takes the `CAPABILITIES`, which root has and the packaged systemd
unit gives the hub's user (as ambient capabilities, which its programs inherit).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from hubstead.server.services.spaces.runner import LogSink

MAX_LINE_BYTES = 8 * 1024
"""Longest line passed on to a log; the rest of a longer line is dropped."""

CAPABILITIES = {
    "CAP_CHOWN": 0,  # give working dirs to apps, scratch dirs to the builder, envs to root
    "CAP_DAC_OVERRIDE": 1,  # read, move and remove what apps and builds wrote, whatever its mode
    "CAP_FOWNER": 3,  # remove it from sticky directories of theirs, too
    "CAP_KILL": 5,  # stop the processes of apps and builds
    "CAP_SETGID": 6,  # the launcher: the group of an app or the builder, no other groups
    "CAP_SETUID": 7,  # the launcher: the user of an app or the builder
}
"""What the local runner needs to run apps as users of their own: names and bit numbers."""

MOUNT_CAPABILITIES = {"CAP_SYS_ADMIN": 21}  # the launcher: a mount namespace, its binds
"""What it needs besides to mount a Space's volumes into its app."""

_LAUNCHER = Path(__file__).with_name("launcher.py")
_TRUNCATED = " [line truncated]"


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a process runs as: a user and group id, or None for the hub's own."""

    uid: int | None
    gid: int | None = None

    def own(self, path: Path) -> None:
        """Make `path`, and everything under it if a directory, this identity's."""
        if self.uid is None:
            return
        gid = self.uid if self.gid is None else self.gid
        os.lchown(path, self.uid, gid)
        for parent, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                os.lchown(os.path.join(parent, name), self.uid, gid)


def make_directory(path: Path, mode: int) -> None:
    """Create `path` and its missing parents with `mode`, whatever the umask; leave one there.

    The packaged systemd unit gives the hub the umask 0027, which would close directories that
    builds and apps must reach.
    """
    if path.is_dir():
        return
    make_directory(path.parent, mode)
    with contextlib.suppress(FileExistsError):
        path.mkdir()
        path.chmod(mode)


@dataclasses.dataclass(frozen=True)
class Limits:
    """The resource limits and nice level of a process (None: not limited)."""

    memory_bytes: int | None
    open_files: int | None
    processes: int | None
    nice: int

    def launcher_argument(
        self,
        identity: Identity,
        mounts: Sequence[tuple[Path, Path]] = (),
        masks: Sequence[Path] = (),
    ) -> str:
        """The launcher's LIMITS argument for a process of `identity` with these limits.

        `mounts` are the folders to bind read-only (a tree, and where it goes); `masks` the
        folders to hide when there are mounts.
        """
        rlimits = {"RLIMIT_CORE": 0}
        for name, value in (
            ("RLIMIT_AS", self.memory_bytes),
            ("RLIMIT_NOFILE", self.open_files),
            ("RLIMIT_NPROC", self.processes),
        ):
            if value is not None:
                rlimits[name] = value
        gid = identity.uid if identity.gid is None else identity.gid
        return json.dumps(
            {
                "uid": identity.uid,
                "gid": gid,
                "nice": self.nice,
                "rlimits": rlimits,
                "mounts": [[str(tree), str(point)] for tree, point in mounts],
                "masks": [str(folder) for folder in masks],
            }
        )


def spawn(
    command: Sequence[str],
    *,
    identity: Identity,
    limits: Limits,
    env: Mapping[str, str],
    cwd: Path,
    umask: int,
    mounts: Sequence[tuple[Path, Path]] = (),
    masks: Sequence[Path] = (),
) -> subprocess.Popen[bytes]:
    """Start `command` (an absolute path first) through the launcher, in a new session.

    Its output (stdout and stderr) is on one pipe, `stdout`; its environment is `env` alone,
    handed to the launcher through a pipe, never through the launcher's own environment.
    `mounts` (tree, mount point) are bound read-only in a mount namespace of its own, where
    `masks` are hidden.
    """
    limits_argument = limits.launcher_argument(identity, mounts, masks)
    argv = [sys.executable, "-I", "-S", str(_LAUNCHER), limits_argument]
    process = subprocess.Popen(  # noqa: S603 (no shell; the command is ours, its files the Space's)
        [*argv, "--", *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env={},
        start_new_session=True,
        close_fds=True,
        umask=umask,
    )
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError), process.stdin:
        process.stdin.write(json.dumps(dict(env)).encode())
    return process


def pump(stream: IO[bytes], log: LogSink, *, tail: int = 0) -> list[str]:
    """Send `stream`'s lines to `log` until its end; return its last `tail` lines.

    Lines are decoded as UTF-8 (undecodable bytes replaced) and cut at `MAX_LINE_BYTES`: a
    longer line is read on in chunks and dropped, so a process printing without newlines
    holds no more than one chunk of the hub's memory.
    """
    last: collections.deque[str] = collections.deque(maxlen=tail)
    with stream:
        while chunk := stream.readline(MAX_LINE_BYTES):
            complete = chunk.endswith(b"\n")
            line = chunk.rstrip(b"\r\n").decode("utf-8", errors="replace")
            if not complete and len(chunk) == MAX_LINE_BYTES:
                line += _TRUNCATED
                while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
            log(line)
            last.append(line)
    return list(last)


def stop_group(process: subprocess.Popen[bytes], *, grace_seconds: float) -> None:
    """SIGTERM `process`'s group, SIGKILL it after `grace_seconds`; wait for `process`."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace_seconds)
    # Whatever else is left of the group goes too, even when its leader obeyed.
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def kill_user(uid: int) -> None:
    """SIGKILL every process of `uid`, wherever it went (a new session, a double fork).

    Passes over the process table until one finds none: what a process forked while it was
    being killed is found by the next pass (and `RLIMIT_NPROC` bounds how many there are).
    """
    while _kill_pass(uid):
        pass


def _kill_pass(uid: int) -> bool:
    """SIGKILL the processes of `uid` in the process table now; whether there were any."""
    found = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _live_process_of((entry / "status").read_text()) == uid:
                os.kill(int(entry.name), signal.SIGKILL)
                found = True
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def _live_process_of(status: str) -> int | None:
    """The real user id in a `/proc/<pid>/status`; None for a process already dead (a zombie)."""
    fields = _status_fields(status)
    if fields.get("State", "").strip()[:1] in ("Z", "X"):
        return None
    return int(fields["Uid"].split()[0])


def _status_fields(status: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in status.splitlines() if ":" in line)


def missing_capabilities(wanted: Mapping[str, int] = CAPABILITIES) -> list[str]:
    """The `wanted` capabilities this process lacks (none: it may do what they are for).

    By default `CAPABILITIES`, to run apps as users of their own. They must be in its effective
    set and, unless it is root (whose programs get theirs back at exec), in its ambient set,
    which passes them to the launcher.
    """
    fields = _status_fields(Path("/proc/self/status").read_text())
    held = int(fields["CapEff"], 16)
    if os.geteuid() != 0:
        held &= int(fields["CapAmb"], 16)
    return [name for name, bit in wanted.items() if not held >> bit & 1]
