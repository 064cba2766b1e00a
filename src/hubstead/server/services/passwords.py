"""Password hashes: scrypt (memory-hard), with its parameters in the stored string.

A hash reads `scrypt$<log2 n>$<r>$<p>$<salt>$<key>` (salt and key in unpadded urlsafe
base64), so the cost can be raised later without breaking the hashes already stored: each is
checked with the parameters it names. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from hubstead.server import errors

# RFC 7914's interactive-login cost: 2**15 blocks of 128 * r bytes, 32 MiB per hash.
_LOG_N = 15
_R = 8
_P = 1
_KEY_BYTES = 32
_MAX_MEMORY = 128 * 1024 * 1024
MIN_LENGTH = 8
MAX_LENGTH = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=2**log_n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES
    )


def check_new_password(password: str) -> None:
    """Refuse a password too short or too long to be set.

    Raises:
        InvalidRequestError: fewer than `MIN_LENGTH` or more than `MAX_LENGTH` characters.
    """
    if len(password) < MIN_LENGTH:
        raise errors.InvalidRequestError(f"A password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise errors.InvalidRequestError(f"A password must have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """The stored form of a password, with a fresh salt."""
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, _LOG_N, _R, _P)
    return f"scrypt${_LOG_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` was made from.

    With no stored hash (an account without a password) the same work is done on a dummy, so
    the answer takes as long as for a wrong password.
    """
    if len(password) > MAX_LENGTH:
        return False
    if stored is None:
        _derive(password, b"\0" * 16, _LOG_N, _R, _P)
        return False
    try:
        scheme, log_n, r, p, salt, key = stored.split("$")
        expected = _unb64(key)
        derived = _derive(password, _unb64(salt), int(log_n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(derived, expected)
