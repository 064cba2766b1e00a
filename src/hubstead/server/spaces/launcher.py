"""The first program of every process the local runner starts: limits, user, then the command.

Run by path with the hub's Python (`python -I -S launcher.py LIMITS -- COMMAND...`) while
still the hub's user, so it uses the standard library alone. It reads the command's
environment from its standard input (a JSON object, then EOF), which becomes /dev/null; sets
the resource limits and the nice level (never below the hub's own); gives up root for the
app's user and group when told to (with no supplementary groups); and replaces itself with the
command, which keeps its working dir, session and output pipe. Doing this in a program of its
own rather than in a `preexec_fn` keeps it out of the hub's threads, where a fork must not run
Python code. It is itself started with an empty environment: a Space's variables (such as
`LD_PRELOAD`) must not reach a process that is still root or has the hub's capabilities.

LIMITS is a JSON object: `uid` and `gid` (or null: stay who we are), `nice`, `rlimits`, a
map from a `resource.RLIMIT_*` name to the value of both its soft and hard limits, and
`mounts`, pairs of a folder and where to bind it read-only (a Space's volumes), and `masks`,
folders to hide behind an empty read-only file system when there are mounts (the hub's data
dir). COMMAND starts with an absolute path.

Mounts go into a mount namespace of the process's own, made private first so that nothing
reaches the machine's (`mount_volumes`), just before root is given up: nothing read from the
file system as root may come after them, since a volume may hide what was there.

Whoever it then is, it drops every capability for good before the exec (`drop_capabilities`).
"""

import ctypes
import json
import os
import resource
import sys

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000


def mount_volumes(mounts: list[list[str]], masks: list[str]) -> None:
    """Bind each `[folder, mount point]` read-only, in a new mount namespace; none: nothing.

    `/` is made recursively private first: the binds, and whatever else changes in this
    namespace, stay in it and go with its last process. Each of `masks` is then covered by
    an empty, read-only tmpfs.
    """
    if not mounts:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p
    )  # fmt: skip

    def check(result: int, what: str) -> None:
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")

    check(libc.unshare(CLONE_NEWNS), "cannot make a mount namespace")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "cannot make / private")
    for folder, point in mounts:
        target = point.encode()
        check(libc.mount(folder.encode(), target, None, MS_BIND, None), f"cannot mount {point}")
        read_only = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        check(libc.mount(None, target, None, read_only, None), f"cannot make {point} read-only")
    for folder in masks:
        empty = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        result = libc.mount(b"tmpfs", folder.encode(), b"tmpfs", empty, b"size=4k,mode=0755")
        check(result, f"cannot hide {folder}")


def main(argv: list[str]) -> None:
    """Apply the limits in `argv[1]`, then exec `argv[3:]` (`argv[2]` is `--`)."""
    limits = json.loads(argv[1])
    command = argv[3:]
    environment = json.load(sys.stdin)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for name, value in limits["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    os.setpriority(os.PRIO_PROCESS, 0, max(limits["nice"], os.getpriority(os.PRIO_PROCESS, 0)))
    try:
        mount_volumes(limits["mounts"], limits["masks"])
    except OSError as exc:
        sys.exit(f"The volumes could not be mounted: {exc.strerror}")
    if limits["uid"] is not None:
        os.setgroups([])
        os.setgid(limits["gid"])
        os.setuid(limits["uid"])
    drop_capabilities()
    os.execve(command[0], command, environment)  # noqa: S606 (the runner's own command line)


def drop_capabilities() -> None:
    """Leave this process and the command it becomes no capability, now or at any later exec.

    Giving up root clears them, but a hub that is not root keeps its own (those the systemd
    unit gives it) through `setuid`: the ambient set is cleared, the permitted, effective and
    inheritable sets are set to nothing, and no_new_privs stops set-user-id programs and file
    capabilities from giving any back.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    nothing = (ctypes.c_uint32 * 6)()  # two 32-bit halves of effective, permitted, inheritable
    for result in (
        libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
        libc.capset(header, nothing),
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
    ):
        if result != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))


if __name__ == "__main__":
    main(sys.argv)
