"""Serialized xorbs: round trips through every compression scheme and every malformed input."""

from __future__ import annotations

import random
from pathlib import Path

import hf_xet
import lz4.frame
import pytest

from hubstead.xet.chunking import MAX_CHUNK_SIZE, chunks
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import chunk_hash, hash_from_hex, xorb_hash
from hubstead.xet.xorb import (
    MAX_XORB_SIZE,
    Compression,
    build_xorb,
    parse_xorb,
    verify_xorb,
)

CHUNKS = [
    random.Random(3).randbytes(1000),
    bytes(5000),
    bytes(range(256)) * 100,
    b"abc",
    *chunks([random.Random(4).randbytes(300_000)]),
]


def _header(stored: int, scheme: int, size: int, version: int = 0) -> bytes:
    return (
        bytes([version])
        + stored.to_bytes(3, "little")
        + bytes([scheme])
        + size.to_bytes(3, "little")
    )


@pytest.mark.parametrize("compression", list(Compression))
def test_a_built_xorb_parses_back_to_its_chunks(compression: Compression) -> None:
    xorb_id, blob = build_xorb(CHUNKS, compression)
    verified = verify_xorb(blob, xorb_id)
    parsed = parse_xorb(blob)
    assert [c.data for c in parsed] == CHUNKS
    assert [c.hash for c in parsed] == [c.hash for c in verified] == [chunk_hash(c) for c in CHUNKS]
    assert [c.end for c in parsed] == [c.end for c in verified]
    assert [c.size for c in verified] == [len(c) for c in CHUNKS]
    assert xorb_id == xorb_hash([(chunk_hash(c), len(c)) for c in CHUNKS])


def test_compressible_chunks_are_stored_compressed_and_random_ones_raw() -> None:
    _, blob = build_xorb([bytes(5000), random.Random(5).randbytes(5000)])
    assert blob[4] == Compression.LZ4
    assert len(blob) < 8 + 5000 + 8 + 5000
    second = 8 + int.from_bytes(blob[1:4], "little")
    assert blob[second + 4] == Compression.NONE


def test_a_xorb_that_is_not_the_one_its_hash_names_is_refused() -> None:
    _, blob = build_xorb(CHUNKS)
    other = hash_from_hex("ab" * 32)
    with pytest.raises(XetFormatError, match=r"hash to .*, not abab"):
        verify_xorb(blob, other)


def test_a_changed_chunk_changes_the_hash() -> None:
    xorb_id, blob = build_xorb([b"hello world"], Compression.NONE)
    tampered = blob[:-1] + b"D"
    with pytest.raises(XetFormatError, match="hash to"):
        verify_xorb(tampered, xorb_id)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "at least one chunk"),
        (_header(3, 0, 3)[:5], "truncated header"),
        (_header(3, 0, 3) + b"ab", "is truncated"),
        (_header(3, 0, 3, version=1) + b"abc", "unknown version 1"),
        (_header(3, 7, 3) + b"abc", "unknown chunk compression scheme 7"),
        (_header(3, 0, 4) + b"abc", "holds 3 bytes but declares 4"),
        (_header(3, 0, MAX_CHUNK_SIZE + 1) + b"abc", "a chunk is at most 131072"),
        (_header(0xFFFFFF, 1, 3) + b"abc", "a chunk is at most 131072"),
        (_header(5, 1, 10) + b"junk!", "LZ4 frame does not decompress"),
        (_header(20, 1, 10) + bytes(20), "LZ4 frame is corrupt"),
        (_header(0, 0, 0), "chunk 0 holds no bytes"),
    ],
    ids=[
        "empty",
        "short-header",
        "short-data",
        "version",
        "scheme",
        "raw-size",
        "oversized",
        "oversized-stored",
        "incomplete-lz4",
        "garbage-lz4",
        "empty-chunk",
    ],
)
def test_malformed_xorbs_are_refused(blob: bytes, message: str) -> None:
    with pytest.raises(XetFormatError, match=message):
        parse_xorb(blob)


@pytest.mark.parametrize("scheme", [Compression.LZ4, Compression.BYTE_GROUPING_4_LZ4])
def test_an_lz4_bomb_stops_at_the_declared_size(scheme: Compression) -> None:
    # 100 MiB of zeros packs into a few hundred KiB; a chunk declaring 1 KiB must not unpack it.
    bomb = lz4.frame.compress(bytes(100 * 1024 * 1024))
    if len(bomb) > MAX_CHUNK_SIZE:
        bomb = lz4.frame.compress(bytes(MAX_CHUNK_SIZE * 200))
    assert len(bomb) <= MAX_CHUNK_SIZE
    with pytest.raises(XetFormatError, match="does not decompress to the 1024 bytes"):
        parse_xorb(_header(len(bomb), scheme, 1024) + bomb)


def test_a_frame_shorter_than_declared_is_refused() -> None:
    frame = lz4.frame.compress(bytes(100))
    with pytest.raises(XetFormatError, match="does not decompress to the 200 bytes"):
        parse_xorb(_header(len(frame), Compression.LZ4, 200) + frame)


def test_oversized_xorbs_are_refused() -> None:
    with pytest.raises(XetFormatError, match="a xorb is at most 67174400 bytes"):
        parse_xorb(bytes(MAX_XORB_SIZE + 1))
    # Within the serialized bound, but more chunk data than a xorb may hold.
    frame = lz4.frame.compress(bytes(MAX_CHUNK_SIZE))
    chunk = _header(len(frame), Compression.LZ4, MAX_CHUNK_SIZE) + frame
    with pytest.raises(XetFormatError, match="at most 67108864 bytes of chunk data"):
        parse_xorb(chunk * 513)
    tiny_chunks = (_header(1, Compression.NONE, 1) + b"x") * (8 * 1024 + 1)
    with pytest.raises(XetFormatError, match="at most 8192 chunks"):
        parse_xorb(tiny_chunks)
    with pytest.raises(XetFormatError, match="a chunk holds 1 to 131072 bytes, not 131073"):
        build_xorb([bytes(MAX_CHUNK_SIZE + 1)])
    with pytest.raises(XetFormatError, match="not 0"):
        build_xorb([b""])


def test_a_full_xorb_of_incompressible_chunks_is_accepted() -> None:
    # hf_xet fills a xorb up to 64 MiB of chunk bytes; random bytes are stored unpacked, so
    # the headers take the serialized xorb past 64 MiB.
    chunks = [random.Random(n).randbytes(MAX_CHUNK_SIZE) for n in range(512)]
    hash, blob = build_xorb(chunks)
    assert len(blob) == 64 * 1024 * 1024 + 512 * 8

    assert [entry.size for entry in verify_xorb(blob, hash)] == [MAX_CHUNK_SIZE] * 512
    assert [chunk.data for chunk in parse_xorb(blob)] == chunks


def test_a_xorb_hf_xet_wrote_parses_and_matches_our_chunks(tmp_path: Path) -> None:
    data = random.Random(9).randbytes(400_000) + bytes(300_000)
    source = tmp_path / "file.bin"
    source.write_bytes(data)
    cas = tmp_path / "cas"
    with hf_xet.XetSession().new_upload_commit(endpoint=f"local://{cas}") as commit:
        commit.start_upload_file(str(source))
    [stored] = [p for p in cas.rglob("default.*") if p.suffix != ".tagset"]
    blob = stored.read_bytes()
    # A stored xorb ends with a footer ("XETBLOB"…, then its length as a u32) that uploads do
    # not carry (xet-core xorb_object_format.rs); cut it off.
    footer = int.from_bytes(blob[-4:], "little") + 4
    assert blob[-footer:].startswith(b"XETBLOB")
    verified = verify_xorb(blob[:-footer], hash_from_hex(stored.name.removeprefix("default.")))
    parsed = parse_xorb(blob[:-footer])
    assert [c.data for c in parsed] == list(chunks([data]))
    assert [c.size for c in verified] == [len(c.data) for c in parsed]
    assert build_xorb([c.data for c in parsed])[0] == hash_from_hex(
        stored.name.removeprefix("default.")
    )
