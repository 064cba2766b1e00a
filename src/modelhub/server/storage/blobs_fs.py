"""`BlobStore` on the local filesystem: `<root>/<sha[:2]>/<sha[2:4]>/<sha>`."""

from __future__ import annotations

import re
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FsBlobStore:
    """LFS objects as files under one root, fanned out by the first bytes of their sha256."""

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the object with this digest lives."""
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self._root / sha256[:2] / sha256[2:4] / sha256

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when it is not stored."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None
