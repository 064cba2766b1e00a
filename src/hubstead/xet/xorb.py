"""Serialized xorbs: read one chunk by chunk, check it against its hash, and build one.

hub-docs `docs/xet/xorb.md`: a xorb is a run of chunks, each an 8-byte header (version 0, 3-byte
little-endian compressed size, compression scheme, 3-byte little-endian uncompressed size) then
its compressed bytes. Uploads carry no footer, and so neither does what this module reads or
writes. Every size is bounded before anything is allocated or decompressed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import lz4.frame

from hubstead.xet.chunking import MAX_CHUNK_SIZE
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import chunk_hash, hash_to_hex, xorb_hash

MAX_XORB_SIZE = 64 * 1024 * 1024
HEADER_SIZE = 8
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


def _decode(scheme: int, payload: bytes, size: int) -> bytes:
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


def parse_xorb(blob: bytes) -> list[Chunk]:
    """The chunks of a serialized xorb (without footer), each decompressed and hashed."""
    if len(blob) > MAX_XORB_SIZE:
        raise XetFormatError(f"a xorb is at most {MAX_XORB_SIZE} bytes, this one is {len(blob)}")
    if not blob:
        raise XetFormatError("a xorb holds at least one chunk")
    result: list[Chunk] = []
    offset = 0
    while offset < len(blob):
        header = blob[offset : offset + HEADER_SIZE]
        if len(header) < HEADER_SIZE:
            raise XetFormatError(f"chunk {len(result)} has a truncated header")
        if header[0] != VERSION:
            raise XetFormatError(f"chunk {len(result)} has unknown version {header[0]}")
        stored = int.from_bytes(header[1:4], "little")
        size = int.from_bytes(header[5:8], "little")
        if size > MAX_CHUNK_SIZE or stored > MAX_CHUNK_SIZE:
            raise XetFormatError(
                f"chunk {len(result)} declares {size} bytes ({stored} stored); "
                f"a chunk is at most {MAX_CHUNK_SIZE}"
            )
        offset += HEADER_SIZE
        payload = blob[offset : offset + stored]
        if len(payload) < stored:
            raise XetFormatError(f"chunk {len(result)} is truncated")
        offset += stored
        data = _decode(header[4], payload, size)
        result.append(Chunk(chunk_hash(data), data, offset))
    return result


def verify_xorb(blob: bytes, expected_hash: bytes) -> list[Chunk]:
    """The chunks of a serialized xorb, if its chunks hash to `expected_hash`."""
    parsed = parse_xorb(blob)
    actual = xorb_hash([(c.hash, len(c.data)) for c in parsed])
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
