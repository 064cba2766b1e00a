"""Sealing Space secrets for storage: AES-256-GCM under a key kept apart from the database.

A copy of the database (a dump, a backup, a read replica) then holds no secret in the clear,
and a sealed value moved to another row (another Space or key) fails to open: the Space's id
and the key are authenticated with it. Whoever can read both the database and the key file,
or runs code as the hub, can still read every secret.

The key is read (and created, mode 0600, with random bytes) on first use, so a hub that
never stores a secret never writes the file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


class Sealer:
    """Seals and opens values bound to a (Space, key) pair."""

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key

    @functools.cached_property
    def _aead(self) -> AESGCM:
        # The key file's bytes are stretched to exactly 256 bits, whatever their length.
        material = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"hubstead space secrets"
        ).derive(self._load_key())
        return AESGCM(material)

    def seal(self, repo_id: int, key: str, value: str) -> bytes:
        """A random nonce followed by the ciphertext and tag of `value`."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value.encode(), _bound_to(repo_id, key))

    def open(self, repo_id: int, key: str, sealed: bytes) -> str:
        """The value sealed for this Space and key (what a Space runtime will be given).

        Raises:
            cryptography.exceptions.InvalidTag: another key file, or another row's value.
        """
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, _bound_to(repo_id, key)).decode()


def _bound_to(repo_id: int, key: str) -> bytes:
    return f"{repo_id}\n{key}".encode()
