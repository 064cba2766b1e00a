"""The 32-byte Xet hashes: chunk, xorb, file and verification-range hashes, and their strings.

Every hash is a keyed blake3 digest (hub-docs `docs/xet/hashing.md`): chunk data under the data
key, Merkle nodes under the internal-node key, a file's root once more under the all-zero key,
and a term's run of chunk hashes under the verification key. The Merkle tree has variable
branching (xet-core `merklehash/aggregated_hashes.rs`), which `hashing.md` leaves out.

A hash's string form is not the plain hex of its bytes: the bytes are four little-endian u64
words, each printed as 16 hex digits (hub-docs `docs/xet/api.md`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from blake3 import blake3

from hubstead.xet.errors import XetFormatError

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)

# The keys of hashing.md (there as lists of byte values), as hex.
DATA_KEY = bytes.fromhex("6697f5775b9550de3135cbaca597181c9de421109beb2b58b4d0b04b93adf229")
INTERNAL_NODE_KEY = bytes.fromhex(
    "017ec5c7a5472996fd946666b48a02e65ddd536f37c76dd2f86352e64a53713f"
)
VERIFICATION_KEY = bytes.fromhex("7f1857d6ce56ed66127ff913e7a5c3f3a4cd26d5b5db49e64124987f28fb94c3")
FILE_HASH_KEY = ZERO_HASH

# A Merkle node closes after the child whose last u64 word is 0 mod 4, with 2 to 9 children.
_BRANCHING = 4
_MIN_CHILDREN = 2
_MAX_CHILDREN = 2 * _BRANCHING + 1

_HEX = re.compile(r"[0-9a-fA-F]{64}")

# Global dedup tracks a file's first chunk and every chunk whose last word is 0 mod this
# (xet-core `metadata_shard/constants.rs`): about one chunk in 1024, some 64 MiB apart.
GLOBAL_DEDUP_MODULUS = 1024


def hash_to_hex(value: bytes) -> str:
    """The string form of a hash: each 8-byte word, read little-endian, as 16 hex digits."""
    if len(value) != HASH_SIZE:
        raise XetFormatError(f"a hash is {len(value)} bytes, not {HASH_SIZE}")
    return b"".join(value[i : i + 8][::-1] for i in (0, 8, 16, 24)).hex()


def hash_from_hex(text: str) -> bytes:
    """The hash a 64-hex-digit string names (the inverse of `hash_to_hex`)."""
    if not _HEX.fullmatch(text):
        raise XetFormatError(f"not a Xet hash (64 hex digits expected): {text[:80]!r}")
    raw = bytes.fromhex(text)
    return b"".join(raw[i : i + 8][::-1] for i in (0, 8, 16, 24))


def is_global_dedup_eligible(hash_: bytes) -> bool:
    """Whether global dedup tracks this chunk hash whatever file it starts."""
    return int.from_bytes(hash_[24:], "little") % GLOBAL_DEDUP_MODULUS == 0


def chunk_hash(data: bytes) -> bytes:
    """The hash of one chunk's uncompressed bytes."""
    return blake3(data, key=DATA_KEY).digest()


def _node_hash(children: Sequence[tuple[bytes, int]]) -> tuple[bytes, int]:
    text = "".join(f"{hash_to_hex(h)} : {size}\n" for h, size in children)
    digest = blake3(text.encode("ascii"), key=INTERNAL_NODE_KEY).digest()
    return digest, sum(size for _, size in children)


def _next_cut(level: Sequence[tuple[bytes, int]], start: int) -> int:
    """Where the node that starts at `start` ends (exclusive)."""
    end = min(start + _MAX_CHILDREN, len(level))
    if end - start <= _MIN_CHILDREN:
        return end
    for i in range(start + _MIN_CHILDREN, end):
        if level[i][0][24] % _BRANCHING == 0:
            return i + 1
    return end


def merkle_root(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """The root of the Merkle tree over (chunk hash, chunk size) pairs; zeros when empty."""
    level = list(chunks)
    if not level:
        return ZERO_HASH
    while len(level) > 1:
        merged = []
        start = 0
        while start < len(level):
            cut = _next_cut(level, start)
            merged.append(_node_hash(level[start:cut]))
            start = cut
        level = merged
    return level[0][0]


def xorb_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """The hash of a xorb holding these (chunk hash, chunk size) pairs, in order."""
    return merkle_root(chunks)


def file_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """The hash of a file made of these (chunk hash, chunk size) pairs; zeros for no chunks."""
    if not chunks:
        return ZERO_HASH
    return blake3(merkle_root(chunks), key=FILE_HASH_KEY).digest()


def verification_hash(chunk_hashes: Iterable[bytes]) -> bytes:
    """The hash a shard's verification entry holds for a term: over its run of chunk hashes."""
    return blake3(b"".join(chunk_hashes), key=VERIFICATION_KEY).digest()
