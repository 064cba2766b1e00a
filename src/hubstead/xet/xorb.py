"""Serialized xorbs: read one chunk by chunk, check it against its hash, map it, and build one.

hub-docs `docs/xet/xorb.md`: a xorb is a run of chunks, each an 8-byte header (version 0, 3-byte
little-endian compressed size, compression scheme, 3-byte little-endian uncompressed size) then
its compressed bytes. Uploads carry no footer, and so neither does what this module reads or
writes. Every size is bounded before anything is allocated or decompressed. One walk over the
chunk headers serves parsing, decoding a fetched range of chunks, and a xorb's layout.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import lz4.frame

from hubstead.xet.chunking import MAX_CHUNK_SIZE
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import chunk_hash, hash_to_hex, xorb_hash

# A xorb holds at most 64 MiB of chunk data in at most 8 Ki chunks (xet-core
# `xorb_object/constants.rs`); serialized, each chunk adds its header.
MAX_XORB_BYTES = 64 * 1024 * 1024
MAX_XORB_CHUNKS = 8 * 1024
HEADER_SIZE = 8
MAX_XORB_SIZE = MAX_XORB_BYTES + MAX_XORB_CHUNKS * HEADER_SIZE
VERSION = 0


class Compression(enum.IntEnum):
    """How a chunk's bytes are stored."""

    NONE = 0
    LZ4 = 1
    BYTE_GROUPING_4_LZ4 = 2


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk of a xorb: its hash, its uncompressed bytes, and where it ends in the xorb."""

    hash: bytes
    data: bytes
    end: int


@dataclass(frozen=True, slots=True)
class ChunkEntry:
    """One verified chunk of a xorb, without its bytes: its hash, unpacked length and end."""

    hash: bytes
    size: int
    end: int


def _lz4_decompress(payload: bytes, size: int) -> bytes:
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        data = decompressor.decompress(payload, max_length=size + 1)
    except RuntimeError as error:
        raise XetFormatError(f"a chunk's LZ4 frame is corrupt: {error}") from error
    if len(data) != size or not decompressor.eof or decompressor.unused_data:
        raise XetFormatError(
            f"a chunk's LZ4 frame does not decompress to the {size} bytes its header declares"
        )
    return bytes(data)


def _ungroup(grouped: bytes) -> bytes:
    out = bytearray(len(grouped))
    start = 0
    for k in range(4):
        length = len(out[k::4])
        out[k::4] = grouped[start : start + length]
        start += length
    return bytes(out)


def _group(data: bytes) -> bytes:
    return b"".join(data[k::4] for k in range(4))


@dataclass(frozen=True, slots=True)
class _Header:
    """A chunk's 8-byte header: its compression scheme, stored length and unpacked length."""

    scheme: int
    stored: int
    size: int


def _frames(blob: bytes) -> Iterator[tuple[int, _Header, bytes]]:
    """(offset just past the chunk, header, stored bytes) of each chunk, with every size bounded."""
    if len(blob) > MAX_XORB_SIZE:
        raise XetFormatError(f"a xorb is at most {MAX_XORB_SIZE} bytes, this one is {len(blob)}")
    if not blob:
        raise XetFormatError("a xorb holds at least one chunk")
    offset = 0
    index = 0
    unpacked = 0
    while offset < len(blob):
        if index == MAX_XORB_CHUNKS:
            raise XetFormatError(f"a xorb holds at most {MAX_XORB_CHUNKS} chunks")
        raw = blob[offset : offset + HEADER_SIZE]
        if len(raw) < HEADER_SIZE:
            raise XetFormatError(f"chunk {index} has a truncated header")
        if raw[0] != VERSION:
            raise XetFormatError(f"chunk {index} has unknown version {raw[0]}")
        header = _Header(
            scheme=raw[4],
            stored=int.from_bytes(raw[1:4], "little"),
            size=int.from_bytes(raw[5:8], "little"),
        )
        if header.size > MAX_CHUNK_SIZE or header.stored > MAX_CHUNK_SIZE:
            raise XetFormatError(
                f"chunk {index} declares {header.size} bytes ({header.stored} stored); "
                f"a chunk is at most {MAX_CHUNK_SIZE}"
            )
        if header.size == 0:
            raise XetFormatError(f"chunk {index} holds no bytes; a chunk holds at least one")
        unpacked += header.size
        if unpacked > MAX_XORB_BYTES:
            raise XetFormatError(f"a xorb holds at most {MAX_XORB_BYTES} bytes of chunk data")
        offset += HEADER_SIZE
        payload = blob[offset : offset + header.stored]
        if len(payload) < header.stored:
            raise XetFormatError(f"chunk {index} is truncated")
        offset += header.stored
        yield offset, header, payload
        index += 1


def _decode(header: _Header, payload: bytes) -> bytes:
    scheme, size = header.scheme, header.size
    if scheme == Compression.NONE:
        if len(payload) != size:
            raise XetFormatError(
                f"an uncompressed chunk holds {len(payload)} bytes but declares {size}"
            )
        return payload
    if scheme == Compression.LZ4:
        return _lz4_decompress(payload, size)
    if scheme == Compression.BYTE_GROUPING_4_LZ4:
        return _ungroup(_lz4_decompress(payload, size))
    raise XetFormatError(f"unknown chunk compression scheme {scheme}")


@dataclass(frozen=True, slots=True)
class XorbLayout:
    """Where each chunk of a serialized xorb ends, and how long it is unpacked.

    This is what serving a reconstruction needs from a xorb: the byte range a run of chunks
    occupies and what the run unpacks to, known without decompressing anything. `chunk_ends[i]`
    is the offset just past chunk `i` (its header and stored bytes); chunk `i` starts where
    chunk `i - 1` ends, chunk 0 at 0. A shard's CAS-info section does not give these offsets:
    its `byte_range_start` counts unpacked bytes (as hf_xet 1.8 writes it), so a layout comes
    from the xorb's bytes (`layout_of`).
    """

    hash: bytes
    chunk_ends: tuple[int, ...]
    chunk_sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.chunk_ends) != len(self.chunk_sizes):
            raise XetFormatError(
                f"a xorb layout has {len(self.chunk_ends)} chunk ends "
                f"but {len(self.chunk_sizes)} chunk sizes"
            )

    def byte_range(self, chunk_start: int, chunk_end: int) -> tuple[int, int]:
        """`(start, end_exclusive)` of the chunks `[chunk_start, chunk_end)` in the xorb."""
        if not 0 <= chunk_start < chunk_end <= len(self.chunk_ends):
            raise XetFormatError(
                f"chunks [{chunk_start}, {chunk_end}) are not a run of the "
                f"{len(self.chunk_ends)} chunks of xorb {hash_to_hex(self.hash)}"
            )
        start = self.chunk_ends[chunk_start - 1] if chunk_start else 0
        return start, self.chunk_ends[chunk_end - 1]


def layout_of(xorb_hash: bytes, blob: bytes) -> XorbLayout:
    """The layout of a serialized xorb (without footer), from its chunk headers alone.

    `xorb_hash` is only recorded: nothing is decompressed, so nothing is checked against it.
    """
    ends: list[int] = []
    sizes: list[int] = []
    for end, header, _ in _frames(blob):
        ends.append(end)
        sizes.append(header.size)
    return XorbLayout(xorb_hash, tuple(ends), tuple(sizes))


def iter_chunks(blob: bytes) -> Iterator[bytes]:
    """The uncompressed chunks of a run of serialized chunks (a xorb, or a range of one), in order.

    Chunks are decoded one at a time, each bounded by the size its header declares.
    """
    for _, header, payload in _frames(blob):
        yield _decode(header, payload)


def parse_xorb(blob: bytes) -> list[Chunk]:
    """The chunks of a serialized xorb (without footer), each decompressed and hashed."""
    result = []
    for end, header, payload in _frames(blob):
        data = _decode(header, payload)
        result.append(Chunk(chunk_hash(data), data, end))
    return result


def verify_xorb(blob: bytes, expected_hash: bytes) -> list[ChunkEntry]:
    """The chunks of a serialized xorb, if they hash to `expected_hash`.

    Each chunk is decompressed, hashed and dropped in turn, so checking a xorb holds one
    chunk's bytes at a time however far its chunks inflate.
    """
    parsed = [
        ChunkEntry(chunk_hash(_decode(header, payload)), header.size, end)
        for end, header, payload in _frames(blob)
    ]
    actual = xorb_hash([(c.hash, c.size) for c in parsed])
    if actual != expected_hash:
        raise XetFormatError(
            f"the xorb's chunks hash to {hash_to_hex(actual)}, not {hash_to_hex(expected_hash)}"
        )
    return parsed


def build_xorb(
    chunks: Sequence[bytes], compression: Compression = Compression.LZ4
) -> tuple[bytes, bytes]:
    """(xorb hash, serialized xorb) of these chunks; a chunk that would grow is stored as is."""
    parts = []
    for data in chunks:
        if not 0 < len(data) <= MAX_CHUNK_SIZE:
            raise XetFormatError(f"a chunk holds 1 to {MAX_CHUNK_SIZE} bytes, not {len(data)}")
        scheme, payload = Compression.NONE, data
        if compression != Compression.NONE:
            source = _group(data) if compression == Compression.BYTE_GROUPING_4_LZ4 else data
            packed = lz4.frame.compress(source)
            if len(packed) < len(data):
                scheme, payload = compression, packed
        header = (
            bytes([VERSION])
            + len(payload).to_bytes(3, "little")
            + bytes([scheme])
            + len(data).to_bytes(3, "little")
        )
        parts.append(header + payload)
    blob = b"".join(parts)
    if len(blob) > MAX_XORB_SIZE:
        raise XetFormatError(
            f"a xorb is at most {MAX_XORB_SIZE} bytes, these chunks make {len(blob)}"
        )
    return xorb_hash([(chunk_hash(c), len(c)) for c in chunks]), blob
