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

LIMITS is a JSON object: `uid` and `gid` (or null: stay who we are), `nice`, and `rlimits`,
a map from a `resource.RLIMIT_*` name to the value of both its soft and hard limits. COMMAND
starts with an absolute path.

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
