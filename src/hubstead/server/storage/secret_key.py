"""The hub's signing key: read from a file, created with random bytes on first use."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

_KEY_BYTES = 32


def load_secret_key(path: Path) -> bytes:
    """The key in `path`; a new random key is written there (mode 0600) if it does not exist.

    Raises:
        ValueError: the file exists but holds fewer than 32 bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: a concurrent starter sees a whole key or none.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(_KEY_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    key = path.read_bytes().strip()
    if len(key) < _KEY_BYTES:
        raise ValueError(f"the secret key in {path} is shorter than {_KEY_BYTES} bytes")
    return key
