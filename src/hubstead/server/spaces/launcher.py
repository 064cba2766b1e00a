"""The first program of every process the local runner starts: limits, user, then the command.

Run by path with the hub's Python (`python -I -S launcher.py LIMITS -- COMMAND...`) while
still the hub's user, so it uses the standard library alone. It reads the command's
environment from its standard input (a JSON object, then EOF), which becomes /dev/null; sets
the resource limits and the nice level (never below the hub's own); gives up root for the
app's user and group when told to (with no supplementary groups); and replaces itself with the
command, which keeps its working dir, session and output pipe. Doing this in a program of its
own rather than in a `preexec_fn` keeps it out of the hub's threads, where a fork must not run
Python code. It is itself started with an empty environment: a Space's variables (such as
`LD_PRELOAD`) must not reach a process that is still root.

LIMITS is a JSON object: `uid` and `gid` (or null: stay who we are), `nice`, and `rlimits`,
a map from a `resource.RLIMIT_*` name to the value of both its soft and hard limits. COMMAND
starts with an absolute path.
"""

import json
import os
import resource
import sys


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
    os.execve(command[0], command, environment)  # noqa: S606 (the runner's own command line)


if __name__ == "__main__":
    main(sys.argv)
