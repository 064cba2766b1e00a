"""Xet storage records: the xorbs the hub stores and the files it can reconstruct from them.

Hashes are in the Xet hex form (`hubstead.xet.hashing.hash_to_hex`), the form clients send in
URLs; chunk hashes inside a xorb record stay raw bytes, as the shard format carries them.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class XorbRecord:
    """A stored, verified xorb: its serialized length and its chunks in order.

    `chunk_ends[i]` is the offset just past chunk `i` (header and payload) in the serialized
    xorb, so chunks `[a, b)` are the bytes `[chunk_ends[a - 1] (or 0), chunk_ends[b - 1])`.
    """

    hash: str
    size: int
    chunk_hashes: tuple[bytes, ...]
    chunk_sizes: tuple[int, ...]
    chunk_ends: tuple[int, ...]

    @property
    def raw_size(self) -> int:
        """The bytes its chunks hold once decompressed."""
        return sum(self.chunk_sizes)


@dataclasses.dataclass(frozen=True)
class XetTerm:
    """One piece of a file: chunks `[chunk_start, chunk_end)` of a xorb, `size` bytes unpacked."""

    xorb: str
    chunk_start: int
    chunk_end: int
    size: int


@dataclasses.dataclass(frozen=True)
class XetFileRecord:
    """A file the hub can reconstruct, whose sha256 was checked against its reconstructed bytes."""

    hash: str
    sha256: str
    size: int
    terms: tuple[XetTerm, ...]

    @property
    def xorbs(self) -> frozenset[str]:
        """The xorbs its bytes come from."""
        return frozenset(term.xorb for term in self.terms)
