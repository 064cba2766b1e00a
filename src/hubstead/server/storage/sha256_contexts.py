"""A sha256 whose running state can be saved and taken up again, in another process.

`hashlib`'s objects cannot be serialized, so a multipart upload's running hash
(`multipart_hashes_fs`), which any worker process of `serve --workers` may continue, uses
OpenSSL's `SHA256_CTX` through ctypes: the libcrypto `hashlib` itself is built on, so it is as
fast, and the call releases the GIL as hashlib's does. The context is a plain 112-byte struct
(`openssl/sha.h`, unchanged since OpenSSL 0.9.8), saved and loaded as it is. Where libcrypto or
its low-level SHA256 functions are missing, `Sha256Context.supported()` is false and uploads
are hashed once complete instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

CONTEXT_SIZE = 112


@functools.cache
def _libcrypto() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
        functions = (library.SHA256_Init, library.SHA256_Update, library.SHA256_Final)
    except (OSError, AttributeError):
        return None
    for function in functions:
        function.restype = ctypes.c_int
    library.SHA256_Update.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    return library


class Sha256Context:
    """A running sha256: `update` with buffers, `saved` for its state, `hexdigest` at the end."""

    def __init__(self, saved: bytes | None = None) -> None:
        library = _libcrypto()
        if library is None:
            raise RuntimeError("libcrypto's SHA256 functions are not available")
        self._library = library
        if saved is None:
            self._context = ctypes.create_string_buffer(CONTEXT_SIZE)
            library.SHA256_Init(self._context)
        elif len(saved) == CONTEXT_SIZE:
            self._context = ctypes.create_string_buffer(saved, CONTEXT_SIZE)
        else:
            raise ValueError(f"a saved context is {CONTEXT_SIZE} bytes, not {len(saved)}")

    @staticmethod
    def supported() -> bool:
        """Whether this platform's libcrypto gives the functions the context needs."""
        return _libcrypto() is not None

    def update(self, buffer: bytearray, length: int) -> None:
        """Hash the first `length` bytes of `buffer` (a bytearray: no copy is made)."""
        address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
        self._library.SHA256_Update(self._context, address, length)

    def saved(self) -> bytes:
        """The state, for `Sha256Context(saved)` to continue from."""
        return self._context.raw

    def hexdigest(self) -> str:
        """The digest of everything hashed (a copy finishes: the context can go on)."""
        copy = ctypes.create_string_buffer(self._context.raw, CONTEXT_SIZE)
        digest = ctypes.create_string_buffer(32)
        self._library.SHA256_Final(digest, copy)
        return digest.raw.hex()
