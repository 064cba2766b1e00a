"""The digests that name a file's content on a hub: sha256 for LFS, the git blob sha1 otherwise.

A hub's etag for a file is one of the two, so a download can prove its bytes while they arrive
(`EtagVerifier`), and an upload can tell whether the hub already has them (`git_blob_hash`).
"""

from __future__ import annotations

import hashlib
import re

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def is_sha256(value: str) -> bool:
    """Whether `value` is a hex sha256 (an LFS object id)."""
    return _SHA256.match(value) is not None


def git_blob_hash(size: int) -> hashlib._Hash:
    """A sha1 that becomes the git blob id once fed the `size` bytes of the content."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {size}\0".encode())
    return digest


class EtagVerifier:
    """Checks a file's bytes, fed in order, against the digest its etag promises.

    An etag that is neither a sha256 nor (with a known size) a git blob sha1 (a hub that does
    not use content hashes) cannot be checked beyond the size; huggingface.co and hubstead
    always send one of the two.

    Args:
        etag: the file's etag, lower-case hex.
        size: the file's size, if known.
    """

    def __init__(self, etag: str, size: int | None) -> None:
        self.etag = etag
        self.size = size
        self.kind = "sha256" if is_sha256(etag) else None
        if self.kind is None and _SHA1.match(etag) and size is not None:
            self.kind = "git-sha1"
        self.reset()

    def reset(self) -> None:
        """Start over from byte 0."""
        self.count = 0
        self._digest: hashlib._Hash | None = None
        if self.kind == "sha256":
            self._digest = hashlib.sha256()
        elif self.kind == "git-sha1" and self.size is not None:
            self._digest = git_blob_hash(self.size)

    def update(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the file."""
        self.count += len(data)
        if self._digest is not None:
            self._digest.update(data)

    def problem(self) -> str | None:
        """What is wrong with the bytes seen so far as the whole file, or None if right."""
        if self.size is not None and self.count != self.size:
            return f"got {self.count} bytes, expected {self.size}"
        if self._digest is not None and self._digest.hexdigest() != self.etag:
            return f"{self.kind} is {self._digest.hexdigest()}, expected {self.etag}"
        return None
