"""The `pre-receive` hook of a push over smart HTTP: it asks the hub whether to accept the push.

Storage layer, run as a script by `git receive-pack` (see `git_cli.receive_pack`), never imported.
Git has received the pushed objects into a quarantine directory and runs this hook before it
moves any ref: the hook sends the quarantine path and the ref updates (its standard input) to
the server over the unix socket named by its argument, prints the server's message (git relays
it to the pusher as `remote: ...`), and exits with the server's verdict. It uses the standard
library only and runs with `python -I -S`, so it starts fast and sees nothing of the server's
environment. No answer at all means the push is refused.
"""

from __future__ import annotations

import os
import socket
import sys


def main() -> int:
    """Forward the push to the server; 0 accepts it, anything else refuses it."""
    quarantine = os.environb.get(b"GIT_QUARANTINE_PATH", b"")
    request = quarantine + b"\n" + sys.stdin.buffer.read()
    reply = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(sys.argv[1])
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        while chunk := conn.recv(65536):
            reply += chunk
    verdict, _, message = reply.partition(b"\n")
    if message:
        sys.stderr.buffer.write(message if message.endswith(b"\n") else message + b"\n")
        sys.stderr.flush()
    return 0 if verdict == b"0" else 1


if __name__ == "__main__":
    sys.exit(main())
